// Bytes per second over a sliding window of ten 100 ms slots: plain C++.
#pragma once

#include <array>
#include <cstdint>

#include "messages/ids.hpp"

namespace rcmgr {

class rate_window {
public:
  static constexpr time_ns slot_ns = 100'000'000;
  static constexpr std::size_t slots = 10; // the window is one second

  void add(std::uint64_t bytes, time_ns now) {
    roll(now);
    counts_[index(now)] += bytes;
  }

  /// Bytes seen in the last second (the current slot included).
  std::uint64_t sum(time_ns now) {
    roll(now);
    std::uint64_t total = 0;
    for (auto c : counts_)
      total += c;
    return total;
  }

private:
  static std::size_t index(time_ns t) {
    return static_cast<std::size_t>(t / slot_ns) % slots;
  }

  /// Clears the slots that fell out of the window since the last call.
  void roll(time_ns now) {
    auto slot = now / slot_ns;
    if (slot <= last_slot_)
      return;
    auto stale = slot - last_slot_;
    if (stale >= static_cast<time_ns>(slots)) {
      counts_.fill(0);
    } else {
      for (time_ns s = last_slot_ + 1; s <= slot; ++s)
        counts_[static_cast<std::size_t>(s) % slots] = 0;
    }
    last_slot_ = slot;
  }

  std::array<std::uint64_t, slots> counts_{};
  time_ns last_slot_ = 0;
};

} // namespace rcmgr
