// How many peers (or connections) hold how much: the distributions behind
// go-libp2p's histograms peer_connections, peer_streams, peer_memory and
// conn_memory (DESIGN §6.3), with go's bucket bounds. A zero value is not
// observed, as in go: a peer with no inbound connection is not in the
// inbound histogram.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace rcmgr {

/// go's bounds for connection and stream counts: 1 to 10, then doubling.
inline constexpr std::array<std::uint64_t, 15> count_bucket_bounds{
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 128, 256};

/// go's bounds for memory: 1 KiB to 4 GiB.
inline constexpr std::array<std::uint64_t, 10> memory_bucket_bounds{
    1ULL << 10,   4ULL << 10,   32ULL << 10, 1ULL << 20, 32ULL << 20,
    256ULL << 20, 512ULL << 20, 1ULL << 30,  2ULL << 30, 4ULL << 30};

struct usage_histogram {
  std::vector<std::uint64_t> bounds;
  /// counts[i]: values in (bounds[i-1], bounds[i]]; the values above the
  /// last bound are `count` minus their sum.
  std::vector<std::uint64_t> counts;
  std::uint64_t count = 0;
  std::uint64_t sum = 0;

  template <std::size_t N>
  static usage_histogram with_bounds(const std::array<std::uint64_t, N>& b) {
    usage_histogram h;
    h.bounds.assign(b.begin(), b.end());
    h.counts.assign(N, 0);
    return h;
  }

  void observe(std::uint64_t value) {
    if (value == 0)
      return;
    ++count;
    sum += value;
    for (std::size_t i = 0; i < bounds.size(); ++i)
      if (value <= bounds[i]) {
        ++counts[i];
        return;
      }
  }
};

/// The histograms of one moment, over every peer and connection (not cut
/// to the dump's list cap).
struct usage_histograms {
  usage_histogram peer_conns_inbound = usage_histogram::with_bounds(count_bucket_bounds);
  usage_histogram peer_conns_outbound = usage_histogram::with_bounds(count_bucket_bounds);
  usage_histogram peer_streams_inbound =
      usage_histogram::with_bounds(count_bucket_bounds);
  usage_histogram peer_streams_outbound =
      usage_histogram::with_bounds(count_bucket_bounds);
  usage_histogram peer_memory = usage_histogram::with_bounds(memory_bucket_bounds);
  usage_histogram conn_memory = usage_histogram::with_bounds(memory_bucket_bounds);
};

} // namespace rcmgr
