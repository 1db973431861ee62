// Fuzz target: the go limit-file parser (messages/scope_config.hpp), the
// values of "scopes" and "scopes_scale", on any text that is JSON.
//
// Properties:
// - neither parser throws; a refused value has a message and a JSON path
//   under the key it was read for ("/scopes", "/scopes_scale");
// - an accepted document written back in go's form (to_json) parses again to
//   an equal document with the same JSON form; the same for a scale.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "messages/scope_config.hpp"

using namespace rcmgr;

namespace {

bool under(const std::string& path, const std::string& key) {
  return path.compare(0, key.size(), key) == 0 &&
         (path.size() == key.size() || path[key.size()] == '/');
}

void check_scopes(const nlohmann::json& doc) {
  auto parsed = parse_scope_config(doc, "/scopes");
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    FUZZ_CHECK(parsed.error().path && under(*parsed.error().path, "/scopes"));
    return;
  }
  auto written = to_json(*parsed);
  auto again = parse_scope_config(written, "/scopes");
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(to_json(*again) == written);
}

void check_scale(const nlohmann::json& doc) {
  auto parsed = parse_scopes_scale(doc, "/scopes_scale");
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    FUZZ_CHECK(parsed.error().path && under(*parsed.error().path, "/scopes_scale"));
    return;
  }
  auto written = to_json(*parsed);
  auto again = parse_scopes_scale(written, "/scopes_scale");
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(to_json(*again) == written);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The JSON reader is nlohmann's (fuzzed upstream); this target is about
  // what the parsers make of any JSON value.
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded())
    return 0;
  check_scopes(doc);
  check_scale(doc);
  return 0;
}
