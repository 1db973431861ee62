// The socket watcher's part of the state dump (DESIGN §5), rendered from the
// core's stats.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/watcher/socket_watch.hpp"

namespace rcmgr {

/// The dump's `watcher` object (without the key):
/// {"watched", "pruned", "paused", "pauses", "blocks", "closed_by_reason",
///  "peers": {PEER: {"connections": {CONN: {"health", "bytes_in", "bytes_out",
///  "bytes_in_per_s", "last_activity_ms_ago", "age_ms", "paused",
///  "read_limit_bytes_per_s"}}, "bytes_in_per_s", "paused", "violations",
///  "rate_limit_denials", "pruned", "blocked"}}, "config": {...}}
nlohmann::json to_json(const socket_watch_stats& x);

} // namespace rcmgr
