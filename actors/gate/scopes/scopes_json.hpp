// The scopes' JSON: the dump part `scopes` and the `scope_limit` denial
// (DESIGN §6.1).
#pragma once

#include <nlohmann/json.hpp>

#include "actors/gate/scopes/resource_scopes.hpp"
#include "actors/gate/scopes/scopes_stats.hpp"

namespace rcmgr {

/// {conns_inbound, conns_outbound, streams_inbound, streams_outbound, fd, memory}
nlohmann::json usage_json(const scope_usage& u);

/// The dump part `scopes`.
nlohmann::json to_json(const scopes_stats& x);

/// {"code": "scope_limit", "scope", "resource", "dir"?, "limit", "current",
/// "attempted", "priority"?, "conn"?, "stream"?, "peer"?, "protocol"?,
/// "service"?}
nlohmann::json to_json(const scope_denial& x);

} // namespace rcmgr
