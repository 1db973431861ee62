// The rate limiter's part of the state dump (DESIGN §5), rendered from the
// core's stats.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/rate/rate_limits.hpp"

namespace rcmgr {

/// {"bounds": [ms...], "counts": [per bound...], "count", "sum"}: the shape
/// of the dump's other histograms (the values above every bound are
/// count - the sum of counts).
nlohmann::json to_json(const retry_after_histogram& x);

/// The dump's `rate_limits` object (without the key):
/// {"protocols": {NAME: {"allowed", "denied": {"total", "per_peer"},
///  "would_deny": {"total", "per_peer"}, "live_buckets", "evictions",
///  "retry_after_ms": histogram}}, "live_peer_buckets", "live_total_buckets",
///  "max_tracked_peers", "evictions", "unlimited_allowed"}
nlohmann::json to_json(const rate_limits_stats& x);

/// The rate limiter's dump part: {"rate_limits": ...}, plus the dry run's
/// would-denials at limits/would_deny/rate_limit (by bucket as kind, the
/// shape of a connection_limit count) when there are any.
nlohmann::json rate_dump_part(const rate_limits_stats& x);

} // namespace rcmgr
