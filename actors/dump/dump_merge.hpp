// Joins dump parts into the state document (DESIGN §5): plain C++.
#pragma once

#include <map>
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

/// Joins parts as text, with the same result as merge_dump_part() for each
/// part, then finish_dump() and dump(), but without building the document:
/// a top-level value that only one part has (the connection list, the
/// watcher's peers) is copied as it came. Only keys that several parts share
/// (e.g. "anomalies") are parsed and merged. A part is checked to be valid
/// JSON before anything of it is kept.
class dump_assembler {
public:
  /// One part's text. False (and nothing kept) when it is not a JSON object.
  bool add(const std::string& text);

  /// The document as text (keys sorted, compact, like nlohmann's dump()).
  std::string finish(std::vector<std::string> missing) const;

private:
  /// Top-level key -> its values as JSON text, in the order the parts came.
  std::map<std::string, std::vector<std::string>> values_;
};

} // namespace rcmgr
