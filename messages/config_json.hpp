// The config document of DESIGN §5: strict parsing and its JSON form.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "messages/config.hpp"
#include "messages/result.hpp"

namespace rcmgr {

/// Every key is optional; an unknown key, a wrong type or an impossible value
/// is an error naming its path (e.g. "/connection_limits/max_pending_inbound",
/// "/scopes/System/Conns"; "/" for the document's own type). "scopes" and
/// "scopes_scale" are read by parse_scope_config and parse_scopes_scale
/// (messages/scope_config.hpp).
result<node_config> parse_config(const nlohmann::json& doc);

/// Parses JSON text first; text that is not one JSON value is an error with
/// the path "" (the whole document).
result<node_config> parse_config_text(const std::string& text);

/// The config in force, with absent limits left out, so that
/// parse_config(to_json(c)) == c.
nlohmann::json to_json(const node_config& cfg);
nlohmann::json to_json(const connection_limits_config& cfg);
nlohmann::json to_json(const memory_config& cfg);
nlohmann::json to_json(const rate_limits_config& cfg);
nlohmann::json to_json(const watcher_config& cfg);

/// "dry_run" as written back: false, true (every family) or the list.
nlohmann::json dry_run_json(std::uint8_t bits);

/// One JSON Pointer (RFC 6901) step for an object key, as error paths name
/// them: "/echo/1" becomes "/~1echo~11" ('~' is "~0", '/' is "~1").
std::string json_pointer_step(const std::string& key);

} // namespace rcmgr
