// Exact token-bucket arithmetic in integers, shared by the rate limiter
// (messages) and the net layer's read throttle (bytes).
//
// A bucket's level is held in fine units and its rate in fine units per
// nanosecond, so the refill over `elapsed` nanoseconds is `elapsed * rate`
// with no rounding at all. The rate limiter counts picotokens (a rate of
// 1 milli-token/s is 1 picotoken/ns); the read throttle counts nanobytes (a
// rate of 1 byte/s is 1 nanobyte/ns). The caller keeps every capacity below
// 2^64; nothing here can overflow then.
#pragma once

#include <cstdint>

namespace rcmgr::token_bucket {

/// a / b rounded up; b > 0.
constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return a / b + (a % b != 0);
}

/// Nanoseconds until a bucket at `level` refilling at `rate` (>= 1) holds
/// `target`; 0 when it already does.
constexpr std::uint64_t ns_until(std::uint64_t rate, std::uint64_t level,
                                 std::uint64_t target) {
  return level >= target ? 0 : ceil_div(target - level, rate);
}

/// The level of a bucket at `level` after `elapsed` ns of refill at `rate`
/// (>= 1): `capacity` once it is full. The product is only formed when the
/// elapsed time is below the time to fill, so it stays below
/// `capacity - level`.
constexpr std::uint64_t refill(std::uint64_t rate, std::uint64_t capacity,
                               std::uint64_t level, std::uint64_t elapsed) {
  if (elapsed >= ns_until(rate, level, capacity))
    return capacity;
  return level + elapsed * rate;
}

} // namespace rcmgr::token_bucket
