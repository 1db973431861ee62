// What the config structs of several keys share: the absent limit and the
// token bucket.
#pragma once

#include <cstdint>
#include <limits>

#include <caf/meta/type_name.hpp>

namespace rcmgr {

/// Marks an absent limit ("no limit"). A check `current >= limit` never
/// fires for it, so no special case is needed on the admission path.
inline constexpr std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();

/// One token bucket: `burst` tokens at most, refilled at `rate_per_s`.
/// burst == 0 means "no such bucket".
struct bucket_config {
  double rate_per_s = 0;
  std::uint64_t burst = 0;
  bool present() const { return burst > 0; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bucket_config& x) {
  return f(caf::meta::type_name("bucket_config"), x.rate_per_s, x.burst);
}

} // namespace rcmgr
