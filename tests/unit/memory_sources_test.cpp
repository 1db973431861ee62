// The memory sampler's sources against fake /proc and /sys trees written
// under a temporary directory: normal layouts, cgroup v2 with a limit and
// with "max", missing files, garbage.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "actors/memory/memory_sources.hpp"

using namespace rcmgr;
namespace fs = std::filesystem;

namespace {

/// A temporary directory that plays "/" for the sources.
class fake_root {
public:
  fake_root() {
    auto templ = (fs::temp_directory_path() / "rcmgr-memsrc-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr)
      FAIL("mkdtemp failed");
    dir_ = templ;
  }
  ~fake_root() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fake_root(const fake_root&) = delete;
  fake_root& operator=(const fake_root&) = delete;

  std::string path() const { return dir_.string(); }

  void write(const std::string& rel, const std::string& content) {
    auto p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream out{p, std::ios::binary | std::ios::trunc};
    out << content;
  }

  void mkdir(const std::string& rel) { fs::create_directories(dir_ / rel); }

  void remove(const std::string& rel) { fs::remove(dir_ / rel); }

  /// A typical Linux layout: 4 KiB pages, 8 GiB of RAM, a systemd service
  /// cgroup with a limit.
  void normal_layout() {
    write("proc/self/statm", "56321 2500 1200 300 0 20000 0\n");
    write("proc/meminfo", "MemTotal:        8000000 kB\n"
                          "MemFree:         1234567 kB\n"
                          "MemAvailable:    4000000 kB\n");
    write("proc/self/cgroup", "0::/system.slice/node.service\n");
    write("sys/fs/cgroup/system.slice/node.service/memory.max", "536870912\n");
    write("sys/fs/cgroup/system.slice/node.service/memory.current", "123456789\n");
  }

private:
  fs::path dir_;
};

constexpr std::uint64_t page = 4096;

} // namespace

TEST_CASE("process RSS: resident pages x page size") {
  fake_root root;
  root.normal_layout();
  auto rss = read_process_rss(root.path(), page);
  REQUIRE_MESSAGE(rss.ok(), rss.error());
  CHECK(*rss == 2500 * page);
  CHECK(rss.error().empty());
  // Other page sizes, and the default (sysconf).
  CHECK(read_process_rss(root.path(), 16384).value() == 2500 * 16384);
  CHECK(read_process_rss(root.path()).value() ==
        2500 * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  // A root given with a trailing slash is the same root.
  CHECK(read_process_rss(root.path() + "/", page).value() == 2500 * page);
}

TEST_CASE("process RSS: missing or garbage statm is an error, never 0") {
  fake_root root;
  SUBCASE("missing file") {
    auto rss = read_process_rss(root.path(), page);
    REQUIRE_FALSE(rss.ok());
    CHECK(rss.error().find("proc/self/statm") != std::string::npos);
    CHECK(rss.error().find("No such file") != std::string::npos);
  }
  SUBCASE("empty file") {
    root.write("proc/self/statm", "");
    auto rss = read_process_rss(root.path(), page);
    REQUIRE_FALSE(rss.ok());
    CHECK(rss.error().find("expected at least 2 fields, got 0") != std::string::npos);
  }
  SUBCASE("one field") {
    root.write("proc/self/statm", "56321\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
  }
  SUBCASE("text") {
    root.write("proc/self/statm", "hello world\n");
    auto rss = read_process_rss(root.path(), page);
    REQUIRE_FALSE(rss.ok());
    CHECK(rss.error().find("'hello' is not a number") != std::string::npos);
  }
  SUBCASE("a negative or fractional resident count") {
    root.write("proc/self/statm", "100 -5 0 0 0 0 0\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
    root.write("proc/self/statm", "100 2.5 0 0 0 0 0\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
    root.write("proc/self/statm", "100 25x 0 0 0 0 0\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
  }
  SUBCASE("zero resident pages") {
    root.write("proc/self/statm", "100 0 0 0 0 0 0\n");
    auto rss = read_process_rss(root.path(), page);
    REQUIRE_FALSE(rss.ok());
    CHECK(rss.error().find("0 resident pages") != std::string::npos);
  }
  SUBCASE("overflow") {
    root.write("proc/self/statm", "1 18446744073709551615 0 0 0 0 0\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
    root.write("proc/self/statm", "1 99999999999999999999999 0 0 0 0 0\n");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
  }
  SUBCASE("a directory where the file should be") {
    root.mkdir("proc/self/statm");
    CHECK_FALSE(read_process_rss(root.path(), page).ok());
  }
}

TEST_CASE("system total: MemTotal in kB -> bytes") {
  fake_root root;
  root.normal_layout();
  auto total = read_system_total(root.path());
  REQUIRE_MESSAGE(total.ok(), total.error());
  CHECK(*total == 8000000ull * 1024);
  // MemTotal need not be the first line.
  root.write("proc/meminfo", "MemFree: 1 kB\nMemTotal:\t16 kB\n");
  CHECK(read_system_total(root.path()).value() == 16 * 1024);
}

TEST_CASE("system total: missing or garbage meminfo is an error") {
  fake_root root;
  auto fails_with = [&](const std::string& text) {
    auto total = read_system_total(root.path());
    REQUIRE_FALSE(total.ok());
    CHECK_MESSAGE(total.error().find(text) != std::string::npos, total.error());
  };
  SUBCASE("missing file") {
    fails_with("proc/meminfo");
  }
  SUBCASE("no MemTotal line") {
    root.write("proc/meminfo", "MemFree: 100 kB\nMemAvailable: 200 kB\n");
    fails_with("no MemTotal line");
  }
  SUBCASE("garbage") {
    root.write("proc/meminfo", "\x01\x02 garbage \xff\n");
    fails_with("no MemTotal line");
  }
  SUBCASE("not a number") {
    root.write("proc/meminfo", "MemTotal: lots kB\n");
    fails_with("is not a number");
  }
  SUBCASE("no unit") {
    root.write("proc/meminfo", "MemTotal: 1000\n");
    fails_with("is not 'MemTotal: N kB'");
  }
  SUBCASE("another unit") {
    root.write("proc/meminfo", "MemTotal: 1000 MB\n");
    fails_with("unit 'MB' is not 'kB'");
  }
  SUBCASE("zero") {
    root.write("proc/meminfo", "MemTotal: 0 kB\n");
    fails_with("MemTotal is 0");
  }
  SUBCASE("overflow") {
    root.write("proc/meminfo", "MemTotal: 18446744073709551615 kB\n");
    fails_with("overflows");
  }
}

TEST_CASE("cgroup v2 with a limit: memory.max and memory.current of the own cgroup") {
  fake_root root;
  root.normal_layout();
  auto cg = read_cgroup_memory(root.path());
  REQUIRE_MESSAGE(cg.ok(), cg.error());
  CHECK(cg->found);
  CHECK(cg->path == "/system.slice/node.service");
  CHECK(cg->limit == 536870912);
  CHECK(cg->usage == 123456789);
}

TEST_CASE("cgroup v2 with \"max\": found, no limit, usage still reported") {
  fake_root root;
  root.write("proc/self/cgroup", "0::/user.slice/user-1000.slice/session-2.scope\n");
  root.write("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.max",
             "max\n");
  root.write("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.current",
             "4096\n");
  auto cg = read_cgroup_memory(root.path());
  REQUIRE_MESSAGE(cg.ok(), cg.error());
  CHECK(cg->found);
  CHECK(cg->limit == 0);
  CHECK(cg->usage == 4096);
}

TEST_CASE("cgroup v2 in a namespace: path \"/\" reads the mount's top directory") {
  fake_root root;
  root.write("proc/self/cgroup", "0::/\n");
  root.write("sys/fs/cgroup/memory.max", "1073741824");
  root.write("sys/fs/cgroup/memory.current", "5000");
  auto cg = read_cgroup_memory(root.path());
  REQUIRE_MESSAGE(cg.ok(), cg.error());
  CHECK(cg->found);
  CHECK(cg->path == "/");
  CHECK(cg->limit == 1073741824);
  CHECK(cg->usage == 5000);
}

TEST_CASE("no cgroup v2 limit visible is not an error") {
  fake_root root;
  SUBCASE("no /proc/self/cgroup at all") {}
  SUBCASE("cgroup v1 only") {
    root.write("proc/self/cgroup", "12:memory:/user.slice\n"
                                   "11:cpu,cpuacct:/user.slice\n"
                                   "1:name=systemd:/user.slice/session-1.scope\n");
    root.write("sys/fs/cgroup/user.slice/memory.max", "1000");
    root.write("sys/fs/cgroup/user.slice/memory.current", "10");
  }
  SUBCASE("an empty cgroup file") {
    root.write("proc/self/cgroup", "");
  }
  SUBCASE("the root cgroup has no memory.max") {
    root.write("proc/self/cgroup", "0::/\n");
    root.mkdir("sys/fs/cgroup");
    root.write("sys/fs/cgroup/memory.stat", "anon 0\n");
  }
  SUBCASE("no memory controller in this cgroup") {
    root.write("proc/self/cgroup", "0::/app\n");
    root.write("sys/fs/cgroup/app/cgroup.procs", "1\n");
  }
  SUBCASE("hybrid layout: v2 tree not at /sys/fs/cgroup") {
    root.write("proc/self/cgroup", "12:memory:/x\n0::/x\n");
    root.write("sys/fs/cgroup/unified/x/memory.max", "1000");
  }
  SUBCASE("a path outside this cgroup namespace") {
    root.write("proc/self/cgroup", "0::/../other\n");
    root.write("sys/fs/cgroup/memory.max", "1000");
    root.write("sys/fs/cgroup/memory.current", "10");
  }
  auto cg = read_cgroup_memory(root.path());
  REQUIRE_MESSAGE(cg.ok(), cg.error());
  CHECK_FALSE(cg->found);
  CHECK(cg->limit == 0);
  CHECK(cg->usage == 0);
}

TEST_CASE("cgroup v2: unreadable or garbage files are errors") {
  fake_root root;
  root.write("proc/self/cgroup", "0::/app\n");
  auto fails_with = [&](const std::string& text) {
    auto cg = read_cgroup_memory(root.path());
    REQUIRE_FALSE(cg.ok());
    CHECK_MESSAGE(cg.error().find(text) != std::string::npos, cg.error());
  };
  SUBCASE("garbage memory.max") {
    root.write("sys/fs/cgroup/app/memory.max", "unlimited\n");
    root.write("sys/fs/cgroup/app/memory.current", "10\n");
    fails_with("'unlimited' is neither 'max' nor a number");
  }
  SUBCASE("empty memory.max") {
    root.write("sys/fs/cgroup/app/memory.max", "");
    root.write("sys/fs/cgroup/app/memory.current", "10\n");
    fails_with("is neither 'max' nor a number");
  }
  SUBCASE("a limit of 0") {
    root.write("sys/fs/cgroup/app/memory.max", "0\n");
    root.write("sys/fs/cgroup/app/memory.current", "10\n");
    fails_with("a limit of 0");
  }
  SUBCASE("memory.max without memory.current") {
    root.write("sys/fs/cgroup/app/memory.max", "1000\n");
    fails_with("app/memory.current");
  }
  SUBCASE("garbage memory.current") {
    root.write("sys/fs/cgroup/app/memory.max", "max\n");
    root.write("sys/fs/cgroup/app/memory.current", "-3\n");
    fails_with("'-3' is not a number");
  }
  SUBCASE("a malformed /proc/self/cgroup line") {
    root.write("proc/self/cgroup", "this is not a cgroup line\n");
    fails_with("malformed line");
  }
  SUBCASE("a relative v2 path") {
    root.write("proc/self/cgroup", "0::app\n");
    fails_with("is not absolute");
  }
  SUBCASE("an unreadable /proc/self/cgroup") {
    root.remove("proc/self/cgroup");
    root.mkdir("proc/self/cgroup"); // a directory: open works, read fails
    fails_with("proc/self/cgroup");
  }
}

TEST_CASE("read_memory combines every source") {
  fake_root root;
  root.normal_layout();
  auto r = read_memory(root.path(), page);
  REQUIRE_MESSAGE(r.ok(), r.error());
  CHECK(r->rss == 2500 * page);
  CHECK(r->total == 8000000ull * 1024);
  CHECK(r->cgroup_limit == 536870912);
  CHECK(r->cgroup_usage == 123456789);

  SUBCASE("without cgroup v2 the limit and usage are 0") {
    root.remove("proc/self/cgroup");
    auto r2 = read_memory(root.path(), page);
    REQUIRE_MESSAGE(r2.ok(), r2.error());
    CHECK(r2->rss == 2500 * page);
    CHECK(r2->cgroup_limit == 0);
    CHECK(r2->cgroup_usage == 0);
  }
  SUBCASE("any source failing fails the whole reading, naming it") {
    root.write("sys/fs/cgroup/system.slice/node.service/memory.current", "lots");
    auto r2 = read_memory(root.path(), page);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().find("memory.current") != std::string::npos);
    root.write("proc/meminfo", "nothing\n");
    CHECK(read_memory(root.path(), page).error().find("MemTotal") != std::string::npos);
    root.remove("proc/self/statm");
    CHECK(read_memory(root.path(), page).error().find("statm") != std::string::npos);
  }
}

TEST_CASE("the real /proc of this process reads") {
  auto rss = read_process_rss("/");
  REQUIRE_MESSAGE(rss.ok(), rss.error());
  CHECK(*rss > 0);
  auto total = read_system_total("/");
  REQUIRE_MESSAGE(total.ok(), total.error());
  CHECK(*total > *rss);
  auto cg = read_cgroup_memory("/");
  REQUIRE_MESSAGE(cg.ok(), cg.error());
  if (cg->found)
    CHECK(cg->usage > 0);
}
