// The memory sampler's sources (plain C++, no CAF): each reads one figure
// from a file system rooted at `root` ("/" in production, a fake tree in
// tests) and returns either the figure or an error text. A source that cannot
// be read never returns 0: a 0 would look like "no memory used".
//
// Sources and what counts as an error:
// - process resident bytes: <root>/proc/self/statm, field 2 (resident pages)
//   x the page size. Missing file, fewer than 2 fields, a field that is not
//   a decimal number, or an overflow: error.
// - system total: <root>/proc/meminfo, the "MemTotal: N kB" line, x 1024.
//   Missing file, no MemTotal line, a value that is not a number, a unit
//   other than kB, or 0: error.
// - cgroup v2 limit and usage of the process's own cgroup:
//   <root>/proc/self/cgroup gives the path on its "0::/path" line, then
//   <root>/sys/fs/cgroup/<path>/memory.max ("max" = no limit, or bytes) and
//   memory.current (bytes).
//   "No cgroup v2 limit" (not an error, `found == false`):
//     * <root>/proc/self/cgroup does not exist (a kernel without cgroups);
//     * it has no "0::" line (cgroup v1 only; v1 limits are not read);
//     * the path has a ".." component (a cgroup namespace that does not show
//       the process's own cgroup);
//     * <root>/sys/fs/cgroup/<path>/memory.max does not exist (the root
//       cgroup, the memory controller not enabled for this cgroup, or a
//       hybrid layout whose v2 tree is not mounted at /sys/fs/cgroup).
//   Errors: /proc/self/cgroup exists but cannot be read or has a malformed
//   line; memory.max or memory.current exists but cannot be read or is not
//   "max"/a number; memory.max exists and memory.current does not.
//   With "max" the cgroup is found, has no limit (`limit == 0`), and its
//   usage is still reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace rcmgr {

/// A figure or the reason it could not be read.
template <class T> class read_result {
public:
  static read_result success(T value) {
    read_result r;
    r.value_ = std::move(value);
    return r;
  }
  static read_result failure(std::string why) {
    read_result r;
    r.error_ = std::move(why);
    return r;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  /// Only when ok().
  const T& value() const { return *value_; }
  const T& operator*() const { return *value_; }
  const T* operator->() const { return &*value_; }
  /// Empty when ok(); names the file and what is wrong with it otherwise.
  const std::string& error() const { return error_; }

private:
  read_result() = default;
  std::optional<T> value_;
  std::string error_;
};

/// What the cgroup v2 source found.
struct cgroup_memory {
  /// False: no cgroup v2 memory accounting is visible (no limit, no usage).
  bool found = false;
  /// The cgroup's path from /proc/self/cgroup ("/" for the root cgroup).
  std::string path;
  /// Bytes; 0 means "max" (no limit).
  std::uint64_t limit = 0;
  /// Bytes (memory.current); 0 when !found.
  std::uint64_t usage = 0;
};

/// One complete reading of every source.
struct memory_reading {
  std::uint64_t rss = 0;
  std::uint64_t total = 0;
  std::uint64_t cgroup_limit = 0; // 0: no cgroup limit
  std::uint64_t cgroup_usage = 0; // 0: no cgroup found
};

/// The system's page size (sysconf).
std::uint64_t system_page_size();

/// <root>/proc/self/statm: resident pages x page_size.
read_result<std::uint64_t> read_process_rss(const std::string& root,
                                            std::uint64_t page_size = system_page_size());

/// <root>/proc/meminfo: MemTotal in bytes.
read_result<std::uint64_t> read_system_total(const std::string& root);

/// The cgroup v2 limit and usage of the process's own cgroup.
read_result<cgroup_memory> read_cgroup_memory(const std::string& root);

/// Every source at once; the first error fails the whole reading (the
/// sampler then skips it rather than push a partial sample).
read_result<memory_reading> read_memory(const std::string& root,
                                        std::uint64_t page_size = system_page_size());

} // namespace rcmgr
