// Fuzz target: the replay's event-line parser (messages/json.hpp), on any line.
//
// Properties:
// - it never throws; a refused line has an error text;
// - a line with a NUL byte is refused (a line is one JSON value, nothing after);
// - an accepted event written back as JSON (to_json) parses again to an event
//   with the same JSON form and the same name.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_check.hpp"
#include "messages/json.hpp"

using namespace rcmgr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string line{reinterpret_cast<const char*>(data), size};
  auto parsed = parse_event_line(line);
  if (!parsed.value) {
    FUZZ_CHECK(!parsed.value.error().text().empty());
    return 0;
  }
  FUZZ_CHECK(std::memchr(data, 0, size) == nullptr);
  auto doc = to_json(parsed.value->event);
  auto again = parse_event(doc);
  FUZZ_CHECK(again.value);
  FUZZ_CHECK(again.name == parsed.name);
  FUZZ_CHECK(!again.value->t);
  FUZZ_CHECK(to_json(again.value->event) == doc);
  return 0;
}
