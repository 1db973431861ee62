// GET /config and peer-node's start-up line: the config in force (the
// control actor's document, every key with its default) joined with the
// scope limits the gate resolved from it (go's defaults, scaled), which the
// config document itself leaves partial. Plain C++: JSON in, JSON out.
#pragma once

#include <nlohmann/json.hpp>

namespace rcmgr {

/// {"config": config, "scope_limits": {SCOPE: {limit: N | "unlimited"}}}, the
/// scope limits of the fixed scopes (system, transient, allowlisted_system,
/// allowlisted_transient) and of each scope class (peer, protocol,
/// protocol_peer, service, service_peer, conn, stream) as the dump's part
/// `scopes` has them; "scope_limits" is null when `state` has no scopes
/// (the config has no "scopes" key).
nlohmann::json effective_config(const nlohmann::json& config,
                                const nlohmann::json& state);

} // namespace rcmgr
