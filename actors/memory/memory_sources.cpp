#include "actors/memory/memory_sources.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace rcmgr {

namespace {

/// The files read here are tiny; anything bigger is not what we expect.
constexpr std::size_t max_file_size = 1 << 20;

enum class read_status { ok, missing, failed };

struct file_text {
  read_status status = read_status::failed;
  std::string text;  // when ok
  std::string error; // when failed or missing
};

std::string join(const std::string& root, const std::string& rel) {
  std::string base = root;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  std::size_t i = 0;
  while (i < rel.size() && rel[i] == '/')
    ++i;
  if (i == rel.size())
    return base.empty() ? std::string{"/"} : base;
  return base + "/" + rel.substr(i);
}

/// Reads a whole (proc or sys) file: their size is not known in advance.
file_text read_file(const std::string& path) {
  file_text r;
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    auto err = errno;
    r.status =
        err == ENOENT || err == ENOTDIR ? read_status::missing : read_status::failed;
    r.error = "cannot open " + path + ": " + std::strerror(err);
    return r;
  }
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      auto err = errno;
      ::close(fd);
      r.status = read_status::failed;
      r.error = "cannot read " + path + ": " + std::strerror(err);
      return r;
    }
    if (n == 0)
      break;
    r.text.append(buf, static_cast<std::size_t>(n));
    if (r.text.size() > max_file_size) {
      ::close(fd);
      r.status = read_status::failed;
      r.error = path + ": larger than " + std::to_string(max_file_size) + " bytes";
      return r;
    }
  }
  ::close(fd);
  r.status = read_status::ok;
  return r;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    auto start = i;
    while (i < s.size() && !is_space(s[i]))
      ++i;
    if (i > start)
      out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string trim(const std::string& s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b]))
    ++b;
  while (e > b && is_space(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

/// A plain decimal number (digits only, no sign, no overflow).
std::optional<std::uint64_t> parse_u64(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9')
      return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
    return std::nullopt;
  return a * b;
}

/// Shortens garbage for an error text.
std::string quote(const std::string& s) {
  constexpr std::size_t max_len = 40;
  if (s.size() <= max_len)
    return "'" + s + "'";
  return "'" + s.substr(0, max_len) + "...'";
}

} // namespace

std::uint64_t system_page_size() {
  auto n = ::sysconf(_SC_PAGESIZE);
  return n > 0 ? static_cast<std::uint64_t>(n) : 4096;
}

read_result<std::uint64_t> read_process_rss(const std::string& root,
                                            std::uint64_t page_size) {
  using result = read_result<std::uint64_t>;
  auto path = join(root, "proc/self/statm");
  auto f = read_file(path);
  if (f.status != read_status::ok)
    return result::failure(f.error);
  auto fields = split_ws(f.text);
  if (fields.size() < 2)
    return result::failure(path + ": expected at least 2 fields, got " +
                           std::to_string(fields.size()));
  if (!parse_u64(fields[0]))
    return result::failure(path + ": size " + quote(fields[0]) + " is not a number");
  auto pages = parse_u64(fields[1]);
  if (!pages)
    return result::failure(path + ": resident " + quote(fields[1]) + " is not a number");
  if (*pages == 0)
    return result::failure(path + ": 0 resident pages (not a live process)");
  if (page_size == 0)
    return result::failure("page size is 0");
  auto bytes = checked_mul(*pages, page_size);
  if (!bytes)
    return result::failure(path + ": resident pages x page size overflows");
  return result::success(*bytes);
}

read_result<std::uint64_t> read_system_total(const std::string& root) {
  using result = read_result<std::uint64_t>;
  auto path = join(root, "proc/meminfo");
  auto f = read_file(path);
  if (f.status != read_status::ok)
    return result::failure(f.error);
  static const std::string key = "MemTotal:";
  std::size_t pos = 0;
  while (pos < f.text.size()) {
    auto eol = f.text.find('\n', pos);
    if (eol == std::string::npos)
      eol = f.text.size();
    auto line = f.text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.compare(0, key.size(), key) != 0)
      continue;
    auto fields = split_ws(line.substr(key.size()));
    if (fields.size() != 2)
      return result::failure(path + ": MemTotal line " + quote(line) +
                             " is not 'MemTotal: N kB'");
    auto kb = parse_u64(fields[0]);
    if (!kb)
      return result::failure(path + ": MemTotal " + quote(fields[0]) +
                             " is not a number");
    if (fields[1] != "kB")
      return result::failure(path + ": MemTotal unit " + quote(fields[1]) +
                             " is not 'kB'");
    if (*kb == 0)
      return result::failure(path + ": MemTotal is 0");
    auto bytes = checked_mul(*kb, 1024);
    if (!bytes)
      return result::failure(path + ": MemTotal overflows");
    return result::success(*bytes);
  }
  return result::failure(path + ": no MemTotal line");
}

read_result<cgroup_memory> read_cgroup_memory(const std::string& root) {
  using result = read_result<cgroup_memory>;
  cgroup_memory none;
  auto self_path = join(root, "proc/self/cgroup");
  auto f = read_file(self_path);
  if (f.status == read_status::missing)
    return result::success(none); // a kernel without cgroups
  if (f.status != read_status::ok)
    return result::failure(f.error);
  std::optional<std::string> v2_path;
  std::size_t pos = 0;
  while (pos < f.text.size()) {
    auto eol = f.text.find('\n', pos);
    if (eol == std::string::npos)
      eol = f.text.size();
    auto line = f.text.substr(pos, eol - pos);
    pos = eol + 1;
    if (trim(line).empty())
      continue;
    // hierarchy-ID:controller-list:cgroup-path (the path may hold ':').
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos || !parse_u64(line.substr(0, c1)))
      return result::failure(self_path + ": malformed line " + quote(line));
    auto path = line.substr(c2 + 1);
    if (line.compare(0, c2 + 1, "0::") == 0) {
      if (path.empty() || path.front() != '/')
        return result::failure(self_path + ": cgroup v2 path " + quote(path) +
                               " is not absolute");
      v2_path = path;
    }
  }
  if (!v2_path)
    return result::success(none); // cgroup v1 only
  auto cg = *v2_path;
  for (std::size_t i = 0; i <= cg.size();) {
    auto j = cg.find('/', i);
    if (j == std::string::npos)
      j = cg.size();
    if (cg.compare(i, j - i, "..") == 0 && j - i == 2)
      return result::success(none); // outside this cgroup namespace's view
    i = j + 1;
  }
  auto dir = join(join(root, "sys/fs/cgroup"), cg);
  auto max_path = join(dir, "memory.max");
  auto max_file = read_file(max_path);
  if (max_file.status == read_status::missing)
    return result::success(none); // root cgroup or no memory controller
  if (max_file.status != read_status::ok)
    return result::failure(max_file.error);
  cgroup_memory found;
  found.found = true;
  found.path = cg;
  auto max_text = trim(max_file.text);
  if (max_text != "max") {
    auto limit = parse_u64(max_text);
    if (!limit)
      return result::failure(max_path + ": " + quote(max_text) +
                             " is neither 'max' nor a number");
    if (*limit == 0)
      return result::failure(max_path + ": a limit of 0 cannot be told from no limit");
    found.limit = *limit;
  }
  auto cur_path = join(dir, "memory.current");
  auto cur_file = read_file(cur_path);
  if (cur_file.status != read_status::ok)
    return result::failure(cur_file.error);
  auto cur_text = trim(cur_file.text);
  auto usage = parse_u64(cur_text);
  if (!usage)
    return result::failure(cur_path + ": " + quote(cur_text) + " is not a number");
  found.usage = *usage;
  return result::success(found);
}

read_result<memory_reading> read_memory(const std::string& root,
                                        std::uint64_t page_size) {
  using result = read_result<memory_reading>;
  auto rss = read_process_rss(root, page_size);
  if (!rss)
    return result::failure(rss.error());
  auto total = read_system_total(root);
  if (!total)
    return result::failure(total.error());
  auto cg = read_cgroup_memory(root);
  if (!cg)
    return result::failure(cg.error());
  memory_reading r;
  r.rss = *rss;
  r.total = *total;
  r.cgroup_limit = cg->limit;
  r.cgroup_usage = cg->usage;
  return result::success(r);
}

} // namespace rcmgr
