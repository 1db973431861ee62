// Replay's reading of a trace line (messages/trace_input.hpp): the fields a
// trace line holds besides a DESIGN §5 event.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "messages/time.hpp"
#include "messages/trace_input.hpp"

using namespace rcmgr;

TEST_CASE("a trace line: t_ns and, with --expect, the verdict are taken out") {
  line_extras x;
  auto p = parse_trace_input(
      R"({"t":3,"t_ns":3400000,"event":"protocol_message","conn":1,"peer":"QmA","protocol":"/echo/1","cost":1,"verdict":"deny","denial":{"code":"rate_limit","retry_after_ms":1000}})",
      true, x);
  REQUIRE(p.value);
  CHECK(p.name == "protocol_message");
  CHECK(p.value->t == 3u);
  CHECK(x.t_ns == 3400000u);
  REQUIRE(x.expected);
  CHECK(x.expected->dump() ==
        R"({"denial":{"code":"rate_limit","retry_after_ms":1000},"verdict":"deny"})");
  CHECK_FALSE(x.block);
  // Without --expect the verdict is not the event's: refused, and named.
  auto q = parse_trace_input(R"({"event":"dump","verdict":"ok"})", false, x);
  REQUIRE_FALSE(q.value);
  CHECK(q.value.error().text() == "unknown field 'verdict'");
  CHECK_FALSE(x.t_ns);
  CHECK_FALSE(x.expected);
}

TEST_CASE("a peer_blocked line: its peer and time, in ns or ms, and its errors") {
  line_extras x;
  auto p = parse_trace_input(
      R"({"t":5,"t_ns":5000001,"event":"peer_blocked","peer":"QmB","until_ms":7,"verdict":"ok"})",
      true, x);
  REQUIRE(p.value);
  CHECK(p.name == "peer_blocked");
  CHECK(std::holds_alternative<advance_clock>(p.value->event));
  REQUIRE(x.block);
  CHECK(x.block->peer == "QmB");
  CHECK(x.block->until == 7'000'000);
  CHECK(x.t_ns == 5000001u);
  auto huge = parse_trace_input(
      R"({"event":"peer_blocked","peer":"QmB","until_ms":18446744073709551615})", false,
      x);
  REQUIRE(huge.value);
  CHECK(x.block->until == time_max);
  auto error = [&](const std::string& line) {
    auto r = parse_trace_input(line, false, x);
    CHECK_FALSE(x.block);
    return r.value ? std::string{} : r.value.error().text();
  };
  CHECK(error(R"({"event":"peer_blocked","peer":"QmB","until_ns":1,"until_ms":1})") ==
        "fields 'until_ns' and 'until_ms' exclude each other");
  CHECK(error(R"({"event":"peer_blocked","peer":"QmB"})") == "missing field 'until_ns'");
  CHECK(error(R"({"event":"peer_blocked","peer":"","until_ns":1})") ==
        "field 'peer' must not be empty");
  CHECK(error(R"({"event":"peer_blocked","peer":"QmB","until_ns":-1})") ==
        "field 'until_ns' must be a non-negative integer");
  CHECK(error(R"({"event":"peer_blocked","peer":"QmB","until_ns":1,"x":0})") ==
        "unknown field 'x'");
  CHECK(error(R"({"t_ns":"1","event":"dump"})") ==
        "field 't_ns' must be a non-negative integer");
  CHECK(error("") == "empty line");
}
