// The tracker's part of the state dump (DESIGN §5), rendered from the
// registry's stats.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "actors/tracker/connection_registry.hpp"

namespace rcmgr {

/// The dump's `connections` object: counts by state and direction, per-peer
/// counts, the listed connections and `truncated` when there are more.
nlohmann::json to_json(const registry_stats& x);

/// The same document as `dump_text(to_json(x))`, written directly: the
/// tracker's dump part, without building 10,000s of JSON values first.
std::string to_json_text(const registry_stats& x);

} // namespace rcmgr
