// Fuzz target: replay's reading of a trace line (messages/trace_input.hpp), on
// any line, with and without --expect.
//
// Properties:
// - it never throws; a refused line has an error text;
// - a line with a NUL byte is refused;
// - without --expect no verdict is taken out; with it, what is taken out is an
//   object of verdict fields that holds "verdict";
// - a `peer_blocked` line names a peer and a time not before the start, and
//   its event is the stand-in; any other accepted line is an event whose JSON
//   form parses again to the same event;
// - the extras a line leaves do not depend on what an earlier line left.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>

#include "fuzz_check.hpp"
#include "messages/json.hpp"
#include "messages/trace_input.hpp"

using namespace rcmgr;

namespace {

bool is_verdict_field(const std::string& key) {
  for (auto f : verdict_fields)
    if (key == f)
      return true;
  return false;
}

void check(const std::string& line, bool expect, const std::uint8_t* data,
           std::size_t size) {
  line_extras extras;
  auto parsed = parse_trace_input(line, expect, extras);
  // The same line after another: the extras start over.
  line_extras reused;
  reused.t_ns = 7;
  reused.expected = nlohmann::json::object({{"verdict", "allow"}});
  reused.block = peer_blocked{"QmOld", 1};
  auto again = parse_trace_input(line, expect, reused);
  FUZZ_CHECK(static_cast<bool>(again.value) == static_cast<bool>(parsed.value));
  FUZZ_CHECK(reused.t_ns == extras.t_ns);
  FUZZ_CHECK(reused.expected == extras.expected);
  FUZZ_CHECK(reused.block.has_value() == extras.block.has_value());
  if (!parsed.value) {
    FUZZ_CHECK(!parsed.value.error().text().empty());
    return;
  }
  FUZZ_CHECK(std::memchr(data, 0, size) == nullptr);
  if (!expect)
    FUZZ_CHECK(!extras.expected);
  if (extras.expected) {
    FUZZ_CHECK(extras.expected->is_object());
    FUZZ_CHECK(extras.expected->contains("verdict"));
    for (auto& [key, value] : extras.expected->items())
      FUZZ_CHECK(is_verdict_field(key));
  }
  if (extras.block) {
    FUZZ_CHECK(parsed.name == "peer_blocked");
    FUZZ_CHECK(!extras.block->peer.empty());
    FUZZ_CHECK(extras.block->until >= 0);
    FUZZ_CHECK(std::holds_alternative<advance_clock>(parsed.value->event));
    return;
  }
  auto doc = to_json(parsed.value->event);
  auto round = parse_event(doc);
  FUZZ_CHECK(round.value);
  FUZZ_CHECK(round.name == parsed.name);
  FUZZ_CHECK(to_json(round.value->event) == doc);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string line{reinterpret_cast<const char*>(data), size};
  check(line, false, data, size);
  check(line, true, data, size);
  return 0;
}
