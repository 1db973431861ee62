// The gate's part of the state dump (DESIGN §5), rendered from the policy's
// stats: `limits` (config, bypass set, counts, denials, blocked peers,
// subscribers), `memory` and `anomalies`.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/gate/gate_policy.hpp"

namespace rcmgr {

/// {"connection_limit": {"total": N, "by_kind": {...}}, "memory_limit": N, ...}:
/// the codes and kinds counted at least once.
nlohmann::json to_json(const denial_counts& x);

/// The dump's `memory` part.
nlohmann::json to_json(const memory_stats& x);

/// The gate's dump part as JSON text; `subscribers` is the number of
/// listeners the gate publishes to; `scopes` the part `scopes` (DESIGN
/// §6.1), left out when null (no "scopes" in the config); `ip_limits` the
/// part `ip_limits` (DESIGN §6.2), left out when null.
std::string gate_dump_part(const gate_stats& stats, std::size_t subscribers,
                           const nlohmann::json& scopes = nullptr,
                           const nlohmann::json& ip_limits = nullptr);

} // namespace rcmgr
