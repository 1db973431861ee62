// Fuzz target: the config parser (messages/config_json.hpp), on any text.
//
// Properties:
// - it never throws, and a refused document has an error with a JSON path
//   ("" for the document itself, otherwise starting with '/') and a message;
// - text with a NUL byte is refused (a document is one JSON value);
// - an accepted config written back as JSON (to_json) parses again, from the
//   JSON and from its text, to a config with the same JSON form.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_check.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  auto parsed = parse_config_text(text);
  if (!parsed) {
    auto& err = parsed.error();
    FUZZ_CHECK(!err.message.empty());
    FUZZ_CHECK(err.path);
    FUZZ_CHECK(err.path->empty() || err.path->front() == '/');
    return 0;
  }
  FUZZ_CHECK(std::memchr(data, 0, size) == nullptr);
  auto doc = to_json(*parsed);
  auto again = parse_config(doc);
  FUZZ_CHECK(again);
  FUZZ_CHECK(to_json(*again) == doc);
  auto from_text = parse_config_text(dump_text(doc));
  FUZZ_CHECK(from_text);
  FUZZ_CHECK(to_json(*from_text) == doc);
  return 0;
}
