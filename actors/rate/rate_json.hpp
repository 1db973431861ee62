// The rate limiter's part of the state dump (DESIGN §5), rendered from the
// core's stats.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/rate/rate_limits.hpp"

namespace rcmgr {

/// The dump's `rate_limits` object (without the key):
/// {"protocols": {NAME: {"allowed", "denied": {"total", "per_peer"},
///  "live_buckets", "evictions"}}, "live_peer_buckets", "live_total_buckets",
///  "max_tracked_peers", "evictions", "unlimited_allowed"}
nlohmann::json to_json(const rate_limits_stats& x);

} // namespace rcmgr
