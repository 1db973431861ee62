// The read throttle of one connection: a token bucket in bytes, with the rate
// limiter's exact arithmetic (actors/support/token_bucket.hpp). Plain C++;
// time is a parameter (nanoseconds of a steady clock).
//
// The bucket holds at most 50 ms of its rate (at least one byte) and starts
// full. A read may take what the bucket holds, up to the read buffer; below
// a useful amount (a full buffer, or the whole burst when that is smaller)
// the caller waits the time the bucket needs to get there, rather than
// waking up for every few bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "messages/ids.hpp"

namespace rcmgr::net {

class read_throttle {
public:
  /// Rates above this are treated as this (100 GB/s): the burst in
  /// nanobytes then stays far below 2^64.
  static constexpr std::uint64_t max_rate = 100'000'000'000ULL;

  /// 0 lifts the limit. A first limit starts with a full burst; a changed
  /// one keeps what was earned at the old rate, up to the new burst.
  void set_rate(std::uint64_t bytes_per_s, time_ns now);
  std::uint64_t rate() const { return rate_; }
  bool limited() const { return rate_ > 0; }

  /// What a read may do at `now` with a buffer of `buffer` bytes.
  struct budget {
    std::size_t bytes = 0;  // > 0: read at most this many bytes now
    std::uint64_t wait = 0; // else: look again after this many ns
  };
  budget allow(std::size_t buffer, time_ns now);

  /// Takes `n` bytes that were read (at most what allow() granted).
  void consume(std::size_t n);

private:
  void refill(time_ns now);

  std::uint64_t rate_ = 0;     // bytes/s, i.e. nanobytes per ns
  std::uint64_t capacity_ = 0; // the burst, in nanobytes
  std::uint64_t level_ = 0;    // nanobytes at last_
  time_ns last_ = 0;
};

} // namespace rcmgr::net
