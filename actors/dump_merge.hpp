// Joins dump parts into the state document (DESIGN §5): plain C++.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rcmgr {

/// The top-level parts every dump has (null when no actor provided one).
inline const std::vector<std::string>& dump_part_names() {
  static const std::vector<std::string> names{"connections", "limits",  "memory",
                                              "rate_limits", "watcher", "anomalies"};
  return names;
}

/// Merges one actor's part (a JSON object) into the document: objects merge
/// key by key; under "anomalies" counters of the same name add up.
void merge_dump_part(nlohmann::json& doc, const nlohmann::json& part);

/// The finished document: "schema": 1, every top-level part present,
/// "missing" names the sources that did not answer in time (sorted).
nlohmann::json finish_dump(nlohmann::json doc, std::vector<std::string> missing);

} // namespace rcmgr
