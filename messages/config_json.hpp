// The config document of DESIGN §5: strict parsing and its JSON form.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/config.hpp"

namespace rcmgr {

/// A rejected config: the JSON path of the offending value and why.
struct config_error {
  std::string path; // e.g. "/connection_limits/max_pending_inbound"
  std::string message;
  std::string text() const { return path + ": " + message; }
};

struct config_result {
  std::optional<node_config> config;
  config_error error; // meaningful when !config
  explicit operator bool() const { return config.has_value(); }
};

/// Every key is optional; an unknown key, a wrong type or an impossible value
/// is an error naming its path.
config_result parse_config(const nlohmann::json& doc);

/// Parses JSON text first; a syntax error has the path "".
config_result parse_config_text(const std::string& text);

/// The config in force, with absent limits left out, so that
/// parse_config(to_json(c)) == c.
nlohmann::json to_json(const node_config& cfg);
nlohmann::json to_json(const connection_limits_config& cfg);
nlohmann::json to_json(const memory_config& cfg);
nlohmann::json to_json(const rate_limits_config& cfg);
nlohmann::json to_json(const watcher_config& cfg);

/// One JSON Pointer (RFC 6901) step for an object key, as error paths name
/// them: "/echo/1" becomes "/~1echo~11" ('~' is "~0", '/' is "~1").
std::string json_pointer_step(const std::string& key);

} // namespace rcmgr
