// Durations and points in time as the cores take them (time_ns), with
// conversions that saturate instead of wrapping around, and the bounds of
// every duration in a config or on a timer.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

#include "messages/ids.hpp"

namespace rcmgr {

/// The longest duration the config accepts, in ms: 10^12 ms (about 31.7
/// years). The parser refuses a longer one; a core given a longer one
/// directly saturates (see ms_to_ns).
inline constexpr std::uint64_t max_duration_ms = 1'000'000'000'000;

/// The end of time: a deadline that never comes.
inline constexpr time_ns time_max = std::numeric_limits<time_ns>::max();

/// Nanoseconds in a millisecond.
inline constexpr std::uint64_t ns_per_ms = 1'000'000;

/// `ms` milliseconds in ns, saturating at time_max.
constexpr time_ns ms_to_ns(std::uint64_t ms) {
  if (ms > static_cast<std::uint64_t>(time_max) / ns_per_ms)
    return time_max;
  return static_cast<time_ns>(ms * ns_per_ms);
}

/// `t + d`, saturating at the ends of time_ns.
constexpr time_ns add_saturating(time_ns t, time_ns d) {
  constexpr auto min = std::numeric_limits<time_ns>::min();
  if (d > 0 && t > time_max - d)
    return time_max;
  if (d < 0 && t < min - d)
    return min;
  return t + d;
}

/// The longest delay of a timer: one day. A timer with a longer interval
/// fires once a day (and finds nothing due), so no interval, however large,
/// reaches the clock's own arithmetic (`now + delay`) and wraps it around.
inline constexpr std::uint64_t max_timer_ms = 24ULL * 60 * 60 * 1000;

/// A timer's delay for an interval of `ms`: clamped to [1 ms, 1 day].
inline std::chrono::milliseconds timer_delay(std::uint64_t ms) {
  auto clamped = std::clamp<std::uint64_t>(ms, 1, max_timer_ms);
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(clamped));
}

} // namespace rcmgr
