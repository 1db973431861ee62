// Config parsing (DESIGN §5): every key optional, errors name the JSON path.
#include <doctest/doctest.h>

#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;
using nlohmann::json;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_config_text(text);
  REQUIRE_FALSE(r);
  return r.error().text();
}

std::string line_error(const std::string& line) {
  auto r = parse_event_line(line);
  REQUIRE_FALSE(r.value);
  return r.value.error().text();
}

} // namespace

TEST_CASE("an empty document means no limits and the documented defaults") {
  auto r = parse_config_text("{}");
  REQUIRE(r);
  auto& c = *r;
  CHECK(c.connection_limits == connection_limits_config{});
  CHECK(c.connection_limits.max_pending_inbound == no_limit);
  CHECK(c.bypass_peers.empty());
  CHECK(c.memory.max_bytes == no_limit);
  CHECK(c.memory.sample_interval_ms == 100);
  CHECK(c.memory.stale == stale_policy::fail_open);
  CHECK(c.rate_limits.protocols.empty());
  CHECK(c.rate_limits.max_tracked_peers == 100000);
  CHECK(c.watcher.refresh_interval_ms == 1000);
  CHECK(c.watcher.idle_timeout_ms == 60000);
}

TEST_CASE("the DESIGN example parses and round-trips") {
  auto text = R"({
    "connection_limits": {"max_pending_inbound": 64, "max_pending_outbound": 64,
      "max_established_inbound": 256, "max_established_outbound": 256,
      "max_established_per_peer": 8, "max_established_total": 512},
    "bypass_peers": ["QmTrusted"],
    "memory": {"max_bytes": 1073741824, "max_fraction": 0.8, "sample_interval_ms": 100},
    "rate_limits": {
      "/echo/1": {"total": {"rate_per_s": 100, "burst": 50}, "per_peer": {"rate_per_s": 10, "burst": 5}},
      "*":       {"per_peer": {"rate_per_s": 50, "burst": 100}}
    },
    "watcher": {"refresh_interval_ms": 1000, "idle_timeout_ms": 60000, "max_lifetime_ms": 0,
      "peer_bandwidth_bytes_per_s": 0}
  })";
  auto r = parse_config_text(text);
  REQUIRE(r);
  auto& c = *r;
  CHECK(c.connection_limits.max_pending_inbound == 64);
  CHECK(c.connection_limits.max_established_per_peer == 8);
  CHECK(c.connection_limits.max_established_total == 512);
  CHECK(c.bypass_peers == std::vector<peer_id>{"QmTrusted"});
  CHECK(c.memory.max_bytes == 1073741824);
  CHECK(c.memory.max_fraction == doctest::Approx(0.8));
  REQUIRE(c.rate_limits.protocols.size() == 2);
  auto again = parse_config(to_json(c));
  REQUIRE(again);
  CHECK(to_json(*again) == to_json(c));
  CHECK(again->connection_limits == c.connection_limits);
}

TEST_CASE("bad values are errors naming their JSON path") {
  CHECK(error_of(R"({"connection_limits": {"max_pending_inbound": -1}})") ==
        "/connection_limits/max_pending_inbound: must not be negative");
  CHECK(error_of(R"({"connection_limits": {"max_pending_inbound": "10"}})") ==
        "/connection_limits/max_pending_inbound: expected a non-negative integer");
  CHECK(error_of(R"({"connection_limits": {"max_pending_inbound": 1.5}})") ==
        "/connection_limits/max_pending_inbound: must be a whole number");
  CHECK(error_of(R"({"connection_limits": {"max_pendng_inbound": 1}})") ==
        "/connection_limits/max_pendng_inbound: unknown key");
  CHECK(error_of(R"({"limits": {}})") == "/limits: unknown key");
  CHECK(error_of(R"({"connection_limits": []})") ==
        "/connection_limits: expected an object");
  CHECK(error_of(R"({"memory": {"max_fraction": 80}})") ==
        "/memory/max_fraction: must be a fraction in (0, 1]");
  CHECK(error_of(R"({"memory": {"max_fraction": 0}})") ==
        "/memory/max_fraction: must be a fraction in (0, 1]");
  CHECK(error_of(R"({"memory": {"stale_policy": "maybe"}})") ==
        "/memory/stale_policy: expected \"fail_open\" or \"fail_closed\"");
  CHECK(
      error_of(
          R"({"rate_limits": {"/echo/1": {"total": {"rate_per_s": -1, "burst": 5}}}})") ==
      "/rate_limits/~1echo~11/total/rate_per_s: must be greater than 0");
  CHECK(error_of(
            R"({"rate_limits": {"x": {"per_peer": {"rate_per_s": 1, "burst": 0}}}})") ==
        "/rate_limits/x/per_peer/burst: must be at least 1");
  CHECK(error_of(R"({"rate_limits": {"x": {"per_peer": {"burst": 3}}}})") ==
        "/rate_limits/x/per_peer/rate_per_s: missing");
  CHECK(error_of(R"({"bypass_peers": ["a", 3]})") ==
        "/bypass_peers/1: expected a string");
  CHECK(error_of(R"({"watcher": {"refresh_interval_ms": 0}})") ==
        "/watcher/refresh_interval_ms: must be at least 1");
  CHECK(error_of("[1, 2]") == "/: expected an object");
  CHECK(error_of("{not json") == ": not valid JSON");
}

TEST_CASE("replay lines parse into events; bad lines name the problem") {
  auto ok = parse_event_line(
      R"({"event":"pending_outbound","conn":7,"peer":"P","addresses":["/ip4/1.2.3.4/tcp/1"],"t":5})");
  REQUIRE(ok.value);
  CHECK(ok.name == "pending_outbound");
  CHECK(ok.value->t == std::optional<std::uint64_t>{5});
  auto& po = std::get<pending_outbound>(ok.value->event);
  CHECK(po.conn == 7);
  CHECK(po.peer == "P");
  CHECK(po.addresses == std::vector<inline_text>{"/ip4/1.2.3.4/tcp/1"});
  CHECK(line_error("nope") == "not valid JSON");
  CHECK(line_error(R"({"conn":1})") == "missing field 'event' (a string)");
  CHECK(line_error(R"({"event":"pending_inbound"})") == "missing field 'conn'");
  CHECK(line_error(R"({"event":"pending_inbound","conn":-4})") ==
        "field 'conn' must be a non-negative integer");
  CHECK(line_error(R"({"event":"pending_inbound","conn":1,"colour":"red"})") ==
        "unknown field 'colour'");
  CHECK(line_error(R"({"event":"teleport"})") == "unknown event 'teleport'");
  CHECK(line_error(R"({"event":"established_inbound","conn":1,"peer":""})") ==
        "field 'peer' must not be empty");
  CHECK(line_error(R"({"event":"config","config":{"memory":{"max_bytes":-2}}})") ==
        "config/memory/max_bytes: must not be negative");
}

TEST_CASE("denials round-trip through their JSON form") {
  auto d = connection_limit_denial(limit_kind::established_per_peer, 8, 8, 42, "QmX");
  auto j = to_json(d);
  CHECK(j == json{{"code", "connection_limit"},
                  {"kind", "established_per_peer"},
                  {"limit", 8},
                  {"current", 8},
                  {"conn", 42},
                  {"peer", "QmX"}});
  auto back = denial_from_json(j);
  REQUIRE(back);
  CHECK(*back == d);
  auto m = memory_limit_denial(2000, 1000, 0);
  CHECK(to_json(m) ==
        json{{"code", "memory_limit"}, {"process_bytes", 2000}, {"max_bytes", 1000}});
  CHECK_FALSE(denial_from_json(json{{"code", "nonsense"}}));
  CHECK(to_json(verdict::deny(d)) == json{{"verdict", "deny"}, {"denial", j}});
  CHECK(to_json(verdict::fail("x")) == json{{"verdict", "error"}, {"error", "x"}});
}

TEST_CASE("a line or a document is one JSON value: a NUL byte and what follows are bad") {
  using namespace std::string_literals;
  CHECK(line_error("{\"event\":\"dump\"}\0junk"s) ==
        "not valid JSON (a NUL byte at offset 16)");
  CHECK(line_error("{\"event\":\"dump\"}\0"s) ==
        "not valid JSON (a NUL byte at offset 16)");
  CHECK(line_error("\0{\"event\":\"dump\"}"s) ==
        "not valid JSON (a NUL byte at offset 0)");
  CHECK(parse_event_line("{\"event\":\"dump\"}"s).value);
  CHECK(error_of("{}\0{\"watcher\": 1}"s) == ": not valid JSON (a NUL byte at offset 2)");
}

TEST_CASE("a denial read off the wire never throws; a field of the wrong type is named") {
  auto read = [](const char* text) { return denial_from_json(json::parse(text)); };
  auto exceeds = read(R"({"code":"rate_limit","exceeds_burst":null})");
  REQUIRE_FALSE(exceeds);
  CHECK(exceeds.error().text() == "field 'exceeds_burst' must be true or false");
  CHECK(read(R"({"code":"memory_limit","max_bytes":-1})").error().text() ==
        "field 'max_bytes' must be a non-negative integer");
  CHECK(read(R"({"code":"blocked","peer":7})").error().text() ==
        "field 'peer' must be a string");
  CHECK(read(R"({"code":"connection_limit","kind":"sideways"})").error().text() ==
        "unknown connection_limit kind 'sideways'");
  CHECK(read(R"({"code":"nonsense"})").error().text() ==
        "unknown denial code 'nonsense'");
  CHECK(read(R"({"code":3})").error().text() == "a denial needs a string field 'code'");
  CHECK(read("[]").error().text() == "a denial is a JSON object");
  auto burst = read(
      R"({"code":"rate_limit","protocol":"/p","peer":"A","exceeds_burst":true,"cost":9,"burst":5})");
  REQUIRE(burst);
  CHECK(burst->code == denial_code::rate_limit);
  CHECK(burst->protocol == "/p");
  CHECK(burst->peer == "A");
  CHECK(burst->scope == rate_scope::total);
  CHECK(burst->exceeds_burst);
  CHECK(burst->cost == 9);
  CHECK(burst->burst == 5);
}
