// The memory sampler as an actor on the deterministic scheduler (virtual
// time), alone against fake /proc trees and wired to the gate through the
// runtime: the strict rule on both pending kinds, both stale policies, the
// hysteresis, and one real allocation against the real /proc.
#include "actor_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <unistd.h>

#include "actors/memory/memory_sampler_actor.hpp"
#include "actors/memory/memory_sources.hpp"
#include "actors/runtime.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr time_ns ms_ns = 1000000;

/// A temporary directory that plays "/" for the proc source.
class fake_root {
public:
  fake_root() {
    auto templ = (fs::temp_directory_path() / "rcmgr-memsampler-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr)
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

  void remove(const std::string& rel) { fs::remove(dir_ / rel); }

  void statm(std::uint64_t resident_pages) {
    write("proc/self/statm",
          "90000 " + std::to_string(resident_pages) + " 100 10 0 500 0\n");
  }

  /// 2500 resident pages, 8000000 kB of RAM, a cgroup limit of 512 MiB.
  void normal_layout() {
    statm(2500);
    write("proc/meminfo", "MemTotal:        8000000 kB\nMemFree:  1000 kB\n");
    write("proc/self/cgroup", "0::/node\n");
    write("sys/fs/cgroup/node/memory.max", "536870912\n");
    write("sys/fs/cgroup/node/memory.current", "123456789\n");
  }

private:
  fs::path dir_;
};

struct sample_log {
  std::vector<memory_sample> samples;
};

memory_listener::behavior_type sample_recorder(memory_listener::pointer,
                                               sample_log* log) {
  return {
      [log](const memory_sample& s) { log->samples.push_back(s); },
  };
}

memory_sample injected(std::uint64_t rss, std::uint64_t total = 0, time_ns at = 0) {
  memory_sample s;
  s.rss = rss;
  s.total = total;
  s.at = at;
  return s;
}

memory_config interval_of(std::uint64_t ms) {
  memory_config c;
  c.sample_interval_ms = ms;
  return c;
}

/// The fixture plus clean-up that also runs when an assertion throws: every
/// actor this test spawned is stopped before the actor system goes away.
struct sampler_fixture : actor_fixture {
  std::vector<caf::actor> spawned;
  std::optional<runtime> rt;

  ~sampler_fixture() {
    rt.reset(); // sends the exit messages
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  time_ns now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               sched.clock().now().time_since_epoch())
        .count();
  }

  template <class Handle> Handle keep(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  memory_sampler_actor sampler(const memory_config& cfg, memory_sampler_options opts) {
    auto h = keep(spawn_memory_sampler(sys, cfg, std::move(opts)));
    run();
    return h;
  }

  memory_listener recorder_for(sample_log& log) {
    return keep(sys.spawn(sample_recorder, &log));
  }

  nlohmann::json part_of(const memory_sampler_actor& h) {
    return nlohmann::json::parse(ask<std::string>(h, dump_part_atom::value));
  }

  const runtime_handles& start_runtime(const node_config& cfg,
                                       memory_sampler_options opts) {
    runtime_options ro;
    ro.memory = std::move(opts);
    rt.emplace(sys, cfg, ro);
    run();
    return rt->handles();
  }

  void inject(const memory_sample& s) {
    caf::anon_send(rt->handles().sampler, s);
    run();
  }

  nlohmann::json dump() { return dump_of(rt->handles().dump); }

  std::size_t timers() { return sched.clock().schedule().size(); }
};

memory_sampler_options proc_at(const std::string& root) {
  memory_sampler_options o;
  o.kind = memory_source_kind::proc;
  o.proc_root = root;
  return o;
}

memory_sampler_options injected_only() {
  memory_sampler_options o;
  o.kind = memory_source_kind::injected;
  o.proc_root = "/nonexistent/rcmgr/proc/root"; // any read would fail and count
  return o;
}

void check_memory_denial(const verdict& v, std::uint64_t process_bytes,
                         std::uint64_t max_bytes, connection_id conn) {
  CHECK(v.kind == verdict_kind::deny);
  CHECK(v.why == memory_limit_denial(process_bytes, max_bytes, conn));
  auto j = to_json(v);
  CHECK(j["verdict"] == "deny");
  CHECK(j["denial"]["code"] == "memory_limit");
  CHECK(j["denial"]["process_bytes"] == process_bytes);
  CHECK(j["denial"]["max_bytes"] == max_bytes);
}

const std::uint64_t page = system_page_size();

} // namespace

// -- the sampler alone ---------------------------------------------------------

TEST_CASE_FIXTURE(sampler_fixture,
                  "the proc sampler reads at start, then every interval") {
  fake_root root;
  root.normal_layout();
  auto t0 = now();
  auto h = sampler(interval_of(100), proc_at(root.path()));
  CHECK(timers() == 1); // the next tick, and only that
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  // A new listener gets the reading taken at start at once.
  REQUIRE(log.samples.size() == 1);
  auto& first = log.samples[0];
  CHECK(first.rss == 2500 * page);
  CHECK(first.total == 8000000ull * 1024);
  CHECK(first.cgroup_limit == 536870912);
  CHECK(first.cgroup_usage == 123456789);
  CHECK(first.at == t0);

  root.statm(3000);
  advance(100ms);
  REQUIRE(log.samples.size() == 2);
  CHECK(log.samples[1].rss == 3000 * page);
  CHECK(log.samples[1].at == t0 + 100 * ms_ns);
  advance(50ms);
  CHECK(log.samples.size() == 2);
  advance(50ms);
  REQUIRE(log.samples.size() == 3);
  CHECK(log.samples[2].at == t0 + 200 * ms_ns);
  CHECK(timers() == 1);

  auto part = part_of(h);
  CHECK(part == nlohmann::json::parse(R"({"memory": {"source": "proc",
    "sample_interval_ms": 100, "samples": 3, "skipped_reads": 0,
    "last_read_error": null, "listeners": 1}})"));
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "ticks from outside sample at once and never pile up") {
  fake_root root;
  root.normal_layout();
  auto t0 = now();
  auto h = sampler(interval_of(100), proc_at(root.path()));
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  for (int i = 0; i < 5; ++i)
    caf::anon_send(h, tick_atom::value);
  run();
  CHECK(log.samples.size() == 6); // the one from the start + 5
  CHECK(timers() == 1);           // still only the timer's own tick
  // A long pause fires the one outstanding tick once, not once per interval.
  advance(1000ms);
  REQUIRE(log.samples.size() == 7);
  CHECK(log.samples.back().at == t0 + 1000 * ms_ns);
  CHECK(timers() == 1);
  advance(100ms);
  CHECK(log.samples.size() == 8);
  CHECK(part_of(h)["memory"]["samples"] == 8);
}

TEST_CASE_FIXTURE(sampler_fixture, "a failed read is skipped and counted, never pushed") {
  fake_root root;
  root.normal_layout();
  auto h = sampler(interval_of(100), proc_at(root.path()));
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  REQUIRE(log.samples.size() == 1);

  root.remove("proc/self/statm");
  advance(100ms);
  CHECK(log.samples.size() == 1);
  auto part = part_of(h)["memory"];
  CHECK(part["samples"] == 1);
  CHECK(part["skipped_reads"] == 1);
  CHECK(part["last_read_error"].get<std::string>().find("proc/self/statm") !=
        std::string::npos);

  root.statm(2600);
  root.write("proc/meminfo", "garbage\n");
  advance(100ms);
  CHECK(log.samples.size() == 1);
  part = part_of(h)["memory"];
  CHECK(part["skipped_reads"] == 2);
  CHECK(part["last_read_error"].get<std::string>().find("MemTotal") != std::string::npos);

  root.write("sys/fs/cgroup/node/memory.max", "lots\n");
  root.write("proc/meminfo", "MemTotal: 100 kB\n");
  advance(100ms);
  CHECK(log.samples.size() == 1);
  CHECK(part_of(h)["memory"]["skipped_reads"] == 3);

  // The loop went on: a good reading is pushed at the next tick. The last
  // error stays in the dump (with the count) for the operator to see.
  root.write("sys/fs/cgroup/node/memory.max", "max\n");
  advance(100ms);
  REQUIRE(log.samples.size() == 2);
  CHECK(log.samples[1].rss == 2600 * page);
  CHECK(log.samples[1].total == 100 * 1024);
  CHECK(log.samples[1].cgroup_limit == 0);
  CHECK(log.samples[1].cgroup_usage == 123456789);
  part = part_of(h)["memory"];
  CHECK(part["samples"] == 2);
  CHECK(part["skipped_reads"] == 3);
  CHECK(part["last_read_error"].get<std::string>().find("memory.max") !=
        std::string::npos);
  CHECK(timers() == 1);
}

TEST_CASE_FIXTURE(sampler_fixture, "a proc source that never reads pushes nothing") {
  auto h = sampler(interval_of(100), proc_at("/nonexistent/rcmgr/root"));
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  advance(100ms);
  CHECK(log.samples.empty());
  auto part = part_of(h)["memory"];
  CHECK(part["samples"] == 0);
  CHECK(part["skipped_reads"] == 2);
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "injected: reads nothing, pushes at once, re-stamps on ticks") {
  auto t0 = now();
  auto h = sampler(interval_of(100), injected_only());
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  CHECK(log.samples.empty()); // nothing injected yet: nothing to push
  advance(100ms);
  CHECK(log.samples.empty());

  auto s = injected(5000, 10000, 777); // its own `at` is ignored
  s.cgroup_limit = 9000;
  s.cgroup_usage = 6000;
  caf::anon_send(h, s);
  run();
  REQUIRE(log.samples.size() == 1);
  CHECK(log.samples[0].rss == 5000);
  CHECK(log.samples[0].total == 10000);
  CHECK(log.samples[0].cgroup_limit == 9000);
  CHECK(log.samples[0].cgroup_usage == 6000);
  CHECK(log.samples[0].at == t0 + 100 * ms_ns);

  advance(100ms); // the same reading again, with a fresh stamp
  REQUIRE(log.samples.size() == 2);
  CHECK(log.samples[1].rss == 5000);
  CHECK(log.samples[1].at == t0 + 200 * ms_ns);
  CHECK(timers() == 1);

  auto part = part_of(h);
  CHECK(part == nlohmann::json::parse(R"({"memory": {"source": "injected",
    "sample_interval_ms": 100, "samples": 2, "skipped_reads": 0,
    "last_read_error": null, "listeners": 1}})"));
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "an injected sample overrides a proc reading until the next tick") {
  fake_root root;
  root.normal_layout();
  auto h = sampler(interval_of(100), proc_at(root.path()));
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  run();
  caf::anon_send(h, injected(42));
  run();
  REQUIRE(log.samples.size() == 2);
  CHECK(log.samples[1].rss == 42);
  // A listener subscribing now gets the injected reading.
  sample_log late;
  caf::anon_send(h, subscribe_atom::value, recorder_for(late));
  run();
  REQUIRE(late.samples.size() == 1);
  CHECK(late.samples[0].rss == 42);
  advance(100ms);
  REQUIRE(log.samples.size() == 3);
  CHECK(log.samples[2].rss == 2500 * page);
}

TEST_CASE_FIXTURE(sampler_fixture, "a new interval applies from the next tick") {
  auto t0 = now();
  auto h = sampler(interval_of(100), injected_only());
  sample_log log;
  caf::anon_send(h, subscribe_atom::value, recorder_for(log));
  caf::anon_send(h, injected(1));
  run();
  REQUIRE(log.samples.size() == 1);
  node_config c;
  c.memory.sample_interval_ms = 250;
  CHECK(verdict_of(h, c).kind == verdict_kind::ok);
  advance(100ms); // the tick already scheduled keeps the old interval
  REQUIRE(log.samples.size() == 2);
  CHECK(log.samples[1].at == t0 + 100 * ms_ns);
  advance(100ms);
  advance(100ms);
  CHECK(log.samples.size() == 2);
  advance(50ms);
  REQUIRE(log.samples.size() == 3);
  CHECK(log.samples[2].at == t0 + 350 * ms_ns);
  advance(250ms);
  CHECK(log.samples.size() == 4);
  CHECK(part_of(h)["memory"]["sample_interval_ms"] == 250);
  CHECK(timers() == 1);
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "listeners: pushed to all, dropped when they go down") {
  auto h = sampler(interval_of(100), injected_only());
  sample_log a;
  sample_log b;
  auto la = recorder_for(a);
  auto lb = recorder_for(b);
  caf::anon_send(h, subscribe_atom::value, la);
  caf::anon_send(h, subscribe_atom::value, lb);
  caf::anon_send(h, subscribe_atom::value, lb); // twice: still one listener
  caf::anon_send(h, subscribe_atom::value, memory_listener{}); // invalid: ignored
  run();
  CHECK(part_of(h)["memory"]["listeners"] == 2);
  caf::anon_send(h, injected(10));
  run();
  CHECK(a.samples.size() == 1);
  CHECK(b.samples.size() == 1);
  stop(la);
  CHECK(part_of(h)["memory"]["listeners"] == 1);
  caf::anon_send(h, injected(20));
  run();
  CHECK(a.samples.size() == 1);
  REQUIRE(b.samples.size() == 2);
  CHECK(b.samples[1].rss == 20);
  // Subscribing again gets the last reading at once, without a duplicate.
  caf::anon_send(h, subscribe_atom::value, lb);
  run();
  REQUIRE(b.samples.size() == 3);
  CHECK(b.samples[2].rss == 20);
  caf::anon_send(h, injected(30));
  run();
  CHECK(b.samples.size() == 4);
  CHECK(part_of(h)["memory"]["listeners"] == 1);
}

// -- through the runtime and the gate -----------------------------------------

TEST_CASE_FIXTURE(sampler_fixture,
                  "the gate: usage equal to the maximum admits, one byte more denies") {
  node_config cfg;
  cfg.memory.max_bytes = 1000;
  auto& h = start_runtime(cfg, injected_only());
  inject(injected(1000, 1u << 20));
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r1"}).allowed());
  CHECK(verdict_of(h.gate, pending_outbound{2, "P", {"a"}}).allowed());
  CHECK(verdict_of(h.gate, pending_outbound{3, "", {"a"}}).allowed());

  inject(injected(1001, 1u << 20));
  check_memory_denial(verdict_of(h.gate, pending_inbound{4, "l", "r4"}), 1001, 1000, 4);
  check_memory_denial(verdict_of(h.gate, pending_outbound{5, "P", {"a"}}), 1001, 1000, 5);
  check_memory_denial(verdict_of(h.gate, pending_outbound{6, "", {"a"}}), 1001, 1000, 6);
  // Established events are not checked against memory.
  CHECK(verdict_of(h.gate, established_inbound{1, "A", "l", "r1"}).allowed());
  CHECK(verdict_of(h.gate, established_outbound{2, "P", "a"}).allowed());
  CHECK(verdict_of(h.gate, established_outbound{9, "Q", "a"}).allowed());

  inject(injected(1000, 1u << 20));
  CHECK(verdict_of(h.gate, pending_inbound{7, "l", "r7"}).allowed());

  auto d = dump();
  auto& m = d["memory"];
  // The gate's keys and the sampler's keys in one object.
  CHECK(m["denials"] == 3);
  CHECK(m["effective_max_bytes"] == 1000);
  CHECK(m["max_source"] == "max_bytes");
  CHECK(m["last_sample"]["rss"] == 1000);
  CHECK(m["source"] == "injected");
  CHECK(m["samples"] == 3);
  CHECK(m["listeners"] == 1);
  CHECK(m["skipped_reads"] == 0);
  CHECK(d["limits"]["denials"]["memory_limit"] == 3);
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "the gate: with max_bytes and max_fraction the smaller wins") {
  node_config cfg;
  cfg.memory.max_bytes = 1500;
  cfg.memory.max_fraction = 0.5;
  auto& h = start_runtime(cfg, injected_only());
  inject(injected(1000, 2000)); // 0.5 x 2000 = 1000 < 1500
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r"}).allowed());
  inject(injected(1001, 2000));
  check_memory_denial(verdict_of(h.gate, pending_inbound{2, "l", "r"}), 1001, 1000, 2);
  CHECK(dump()["memory"]["max_source"] == "max_fraction");
  inject(injected(1500, 4000)); // 0.5 x 4000 = 2000 > 1500
  CHECK(verdict_of(h.gate, pending_outbound{3, "P", {"a"}}).allowed());
  inject(injected(1501, 4000));
  check_memory_denial(verdict_of(h.gate, pending_outbound{4, "P", {"a"}}), 1501, 1500, 4);
  CHECK(dump()["memory"]["max_source"] == "max_bytes");
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "the gate: a config update through control changes the rule") {
  node_config cfg;
  auto& h = start_runtime(cfg, injected_only());
  inject(injected(5000, 100000));
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r"}).allowed()); // no memory config
  node_config update;
  update.memory.max_bytes = 4999;
  update.memory.sample_interval_ms = 200;
  CHECK(verdict_of(h.control, update).kind == verdict_kind::ok);
  check_memory_denial(verdict_of(h.gate, pending_inbound{2, "l", "r"}), 5000, 4999, 2);
  auto m = dump()["memory"];
  CHECK(m["sample_interval_ms"] == 200);
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "the gate: a config update one actor would refuse changes nothing") {
  node_config cfg;
  auto& h = start_runtime(cfg, injected_only());
  inject(injected(5000, 100000));
  node_config update;
  update.memory.max_bytes = 4999;           // the gate's part: valid
  update.rate_limits.max_tracked_peers = 0; // the rate limiter's: out of bounds
  auto v = verdict_of(h.control, update);
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "invalid config: /rate_limits/max_tracked_peers: must be at least 1");
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r"}).allowed()); // no memory rule
  auto in_force = nlohmann::json::parse(
      ask<std::string>(h.control, get_atom::value, config_atom::value));
  CHECK(in_force == to_json(cfg));
}

TEST_CASE_FIXTURE(sampler_fixture, "stale samples: fail_open admits and counts") {
  fake_root root;
  root.normal_layout();
  node_config cfg;
  cfg.memory.max_bytes = 100 * page; // far below the fake RSS: fresh samples deny
  cfg.memory.sample_interval_ms = 100;
  cfg.memory.stale = stale_policy::fail_open;
  auto& h = start_runtime(cfg, proc_at(root.path()));
  check_memory_denial(verdict_of(h.gate, pending_inbound{1, "l", "r"}), 2500 * page,
                      100 * page, 1);
  root.remove("proc/self/statm"); // every read fails from now on
  advance(100ms);
  advance(100ms);
  advance(100ms); // the sample is 300 ms old: 3 intervals, still fresh
  check_memory_denial(verdict_of(h.gate, pending_inbound{2, "l", "r"}), 2500 * page,
                      100 * page, 2);
  advance(100ms); // 400 ms: stale
  CHECK(verdict_of(h.gate, pending_inbound{3, "l", "r"}).allowed());
  CHECK(verdict_of(h.gate, pending_outbound{4, "P", {"a"}}).allowed());
  auto m = dump()["memory"];
  CHECK(m["stale"] == true);
  CHECK(m["stale_admits"] == 2);
  CHECK(m["denials"] == 2);
  CHECK(m["age_ms"] == 400);
  CHECK(m["skipped_reads"] == 4);
  CHECK(m["source"] == "proc");
  // Reads work again: fresh, denied again.
  root.statm(2500);
  advance(100ms);
  check_memory_denial(verdict_of(h.gate, pending_inbound{5, "l", "r"}), 2500 * page,
                      100 * page, 5);
}

TEST_CASE_FIXTURE(sampler_fixture, "stale samples: fail_closed denies") {
  fake_root root;
  root.normal_layout();
  node_config cfg;
  cfg.memory.max_bytes = 1ull << 40; // far above: the fake cgroup limit (512 MiB) wins
  cfg.memory.sample_interval_ms = 100;
  cfg.memory.stale = stale_policy::fail_closed;
  auto& h = start_runtime(cfg, proc_at(root.path()));
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r"}).allowed());
  root.write("proc/meminfo", "garbage\n");
  advance(300ms); // one tick fires (at 300 ms) and fails; the sample is 300 ms old
  CHECK(verdict_of(h.gate, pending_inbound{2, "l", "r"}).allowed());
  advance(1ms);
  check_memory_denial(verdict_of(h.gate, pending_inbound{3, "l", "r"}), 2500 * page,
                      536870912, 3);
  check_memory_denial(verdict_of(h.gate, pending_outbound{4, "P", {"a"}}), 2500 * page,
                      536870912, 4);
  auto m = dump()["memory"];
  CHECK(m["stale"] == true);
  CHECK(m["max_source"] == "cgroup");
  CHECK(m["stale_denials"] == 2);
  CHECK(m["stale_admits"] == 0);
  CHECK(m["skipped_reads"] == 1);
  root.write("proc/meminfo", "MemTotal: 8000000 kB\n");
  advance(100ms); // the tick at 400 ms reads again
  CHECK(verdict_of(h.gate, pending_inbound{5, "l", "r"}).allowed());
}

TEST_CASE_FIXTURE(sampler_fixture,
                  "hysteresis: denied until usage falls below the mark") {
  node_config cfg;
  cfg.memory.max_bytes = 1000;
  cfg.memory.resume_below_fraction = 0.8; // mark: 800
  cfg.memory.stale = stale_policy::fail_closed;
  auto& h = start_runtime(cfg, injected_only());
  inject(injected(1001));
  check_memory_denial(verdict_of(h.gate, pending_inbound{1, "l", "r"}), 1001, 1000, 1);
  inject(injected(900));
  // Virtual time goes on; the sampler keeps the injected reading fresh.
  advance(1000ms);
  advance(1000ms);
  check_memory_denial(verdict_of(h.gate, pending_inbound{2, "l", "r"}), 900, 800, 2);
  CHECK(dump()["memory"]["hysteresis_active"] == true);
  inject(injected(800));
  check_memory_denial(verdict_of(h.gate, pending_outbound{3, "P", {"a"}}), 800, 800, 3);
  inject(injected(799));
  advance(100ms);
  CHECK(verdict_of(h.gate, pending_inbound{4, "l", "r"}).allowed());
  inject(injected(1000));
  CHECK(verdict_of(h.gate, pending_inbound{5, "l", "r"}).allowed());
  auto m = dump()["memory"];
  CHECK(m["hysteresis_active"] == false);
  CHECK(m["stale_denials"] == 0);
  CHECK(m["denials"] == 3);
}

// -- the real thing ------------------------------------------------------------

TEST_CASE_FIXTURE(sampler_fixture, "real RSS: 64 MiB more than RSS + 32 MiB is denied") {
  // In the spirit of rust-libp2p's memory-connection-limits test: the real
  // proc source, the real sampler and gate, a real allocation.
  constexpr std::uint64_t mib = 1024 * 1024;
  auto before = read_process_rss("/");
  REQUIRE_MESSAGE(before.ok(), before.error());
  node_config cfg;
  cfg.memory.max_bytes = *before + 32 * mib;
  auto& h = start_runtime(cfg, proc_at("/"));
  CHECK(verdict_of(h.gate, pending_inbound{1, "l", "r"}).allowed());

  constexpr std::size_t size = 64 * mib;
  std::unique_ptr<unsigned char[]> block{new unsigned char[size]};
  auto step = static_cast<std::size_t>(page);
  for (std::size_t i = 0; i < size; i += step)
    block[i] = static_cast<unsigned char>(i / step + 1); // touch every page
  caf::anon_send(h.sampler, tick_atom::value);
  run();
  auto v = verdict_of(h.gate, pending_inbound{2, "l", "r"});
  CHECK(v.kind == verdict_kind::deny);
  CHECK(v.why->code == denial_code::memory_limit);
  CHECK(v.why->max_bytes == *before + 32 * mib);
  CHECK(v.why->process_bytes > v.why->max_bytes);
  CHECK(v.why->process_bytes >= *before + size);
  auto o = verdict_of(h.gate, pending_outbound{3, "P", {"a"}});
  CHECK(o.why->code == denial_code::memory_limit);
  // Keep the block alive (and its contents observable) until the checks.
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < size; i += step)
    sum += block[i];
  CHECK(sum > 0);
  block.reset();
}
