#include "net/read_throttle.hpp"

#include <algorithm>

#include "actors/support/token_bucket.hpp"

namespace rcmgr::net {

namespace {

constexpr std::uint64_t nano = 1'000'000'000ULL; // nanobytes per byte

/// 50 ms of the rate, at least one byte.
std::uint64_t burst_bytes(std::uint64_t rate) {
  return std::max<std::uint64_t>(1, rate / 20);
}

} // namespace

void read_throttle::refill(time_ns now) {
  if (now > last_)
    level_ = token_bucket::refill(rate_, capacity_, level_,
                                  static_cast<std::uint64_t>(now - last_));
  last_ = std::max(last_, now);
}

void read_throttle::set_rate(std::uint64_t bytes_per_s, time_ns now) {
  bytes_per_s = std::min(bytes_per_s, max_rate);
  if (bytes_per_s == rate_)
    return;
  if (bytes_per_s == 0) {
    rate_ = 0;
    return;
  }
  bool first = rate_ == 0;
  if (!first)
    refill(now); // what was earned at the old rate
  rate_ = bytes_per_s;
  capacity_ = burst_bytes(rate_) * nano;
  level_ = first ? capacity_ : std::min(level_, capacity_);
  last_ = now;
}

read_throttle::budget read_throttle::allow(std::size_t buffer, time_ns now) {
  if (rate_ == 0)
    return {buffer, 0};
  refill(now);
  auto wanted = std::min<std::uint64_t>(burst_bytes(rate_), buffer) * nano;
  if (level_ >= wanted)
    return {std::min<std::size_t>(buffer, level_ / nano), 0};
  return {0, token_bucket::ns_until(rate_, level_, wanted)};
}

void read_throttle::consume(std::size_t n) {
  if (rate_ == 0)
    return;
  auto taken = static_cast<std::uint64_t>(n) * nano;
  level_ = taken >= level_ ? 0 : level_ - taken;
}

} // namespace rcmgr::net
