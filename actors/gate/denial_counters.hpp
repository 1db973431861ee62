// Denial counters by code, and by kind for connection limits: the `denials`
// of the dump's `limits` part. An array per enum: counting a denial makes no
// string and looks nothing up.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "messages/verdict.hpp"

namespace rcmgr {

/// One past the last enumerator of each (update with the enums).
constexpr std::size_t denial_code_count =
    static_cast<std::size_t>(denial_code::attempt_rate) + 1;
constexpr std::size_t limit_kind_count =
    static_cast<std::size_t>(limit_kind::established_total) + 1;

/// How many denials of each code, and of each kind of connection limit.
struct denial_counts {
  std::array<std::uint64_t, denial_code_count> by_code{};
  std::array<std::uint64_t, limit_kind_count> by_kind{};

  std::uint64_t of(denial_code code) const {
    auto i = static_cast<std::size_t>(code);
    return i < by_code.size() ? by_code[i] : 0;
  }
  std::uint64_t of(limit_kind kind) const {
    auto i = static_cast<std::size_t>(kind);
    return i < by_kind.size() ? by_kind[i] : 0;
  }
};

class denial_counters {
public:
  void count(const denial& d) {
    auto code = static_cast<std::size_t>(d.code);
    if (code >= denial_code_count)
      return; // not a denial the gate makes
    ++counts_.by_code[code];
    auto kind = static_cast<std::size_t>(d.kind);
    if (d.code == denial_code::connection_limit && kind < limit_kind_count)
      ++counts_.by_kind[kind];
  }

  std::uint64_t of(denial_code code) const { return counts_.of(code); }
  std::uint64_t of(limit_kind kind) const { return counts_.of(kind); }
  const denial_counts& stats() const { return counts_; }

private:
  denial_counts counts_;
};

} // namespace rcmgr
