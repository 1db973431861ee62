// The "scopes" limit document and "scopes_scale" (DESIGN §6.1), with go's
// own documents and values (go-libp2p p2p/host/resource-manager:
// limit_config_test.json, limit_test.go, README.md).
#include <doctest/doctest.h>

#include "actors/gate/scopes/scope_defaults.hpp"
#include "messages/scope_config.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

scope_limit_document parse_ok(const std::string& text) {
  auto r = parse_scope_config(json::parse(text), "/scopes");
  if (!r)
    FAIL(r.error().text());
  return *r;
}

std::string parse_error(const std::string& text) {
  auto r = parse_scope_config(json::parse(text), "/scopes");
  REQUIRE_FALSE(r);
  return r.error().text();
}

limit_value number(std::uint64_t n) {
  return {limit_value::form::number, n};
}
const limit_value block_all{limit_value::form::block_all, 0};
const limit_value unlimited{limit_value::form::unlimited, 0};
const limit_value default_value{};

// go's limit_config_test.json.
const char* go_test_document = R"({
    "System": {"Memory": 65536, "Conns": 16, "ConnsInbound": 8, "ConnsOutbound": 16,
               "FD": 16},
    "ServiceDefault": {"Memory": 8765},
    "Service": {"A": {"Memory": 8192}, "B": {}},
    "ServicePeerDefault": {"Memory": 2048},
    "ServicePeer": {"A": {"Memory": 4096}},
    "ProtocolDefault": {"Memory": 2048},
    "ProtocolPeerDefault": {"Memory": 1024},
    "Protocol": {"/A": {"Memory": 8192}},
    "PeerDefault": {"Memory": 4096},
    "Peer": {"12D3KooWPFH2Bx2tPfw6RLxN8k2wh47GRXgkt9yrAHU37zFwHWzS": {"Memory": 4097}}
})";

const char* go_peer = "12D3KooWPFH2Bx2tPfw6RLxN8k2wh47GRXgkt9yrAHU37zFwHWzS";

} // namespace

TEST_CASE("go's test document resolves as go's TestLimitConfigParser expects") {
  auto doc = parse_ok(go_test_document);
  auto defaults = scale(default_scaling_limits(), 8ull << 30, 16384);
  auto cfg = build(doc, defaults);
  CHECK(cfg.system.memory == 65536);
  CHECK(cfg.system.streams == defaults.system.streams);
  CHECK(cfg.system.streams_inbound == defaults.system.streams_inbound);
  CHECK(cfg.system.streams_outbound == defaults.system.streams_outbound);
  CHECK(cfg.system.conns == 16);
  CHECK(cfg.system.conns_inbound == 8);
  CHECK(cfg.system.conns_outbound == 16);
  CHECK(cfg.system.fd == 16);
  CHECK(cfg.transient == defaults.transient);
  CHECK(cfg.service_default.memory == 8765);
  REQUIRE(cfg.service.count("A") == 1);
  auto a = cfg.service_default;
  a.memory = 8192;
  CHECK(cfg.service.at("A") == a);
  REQUIRE(cfg.service.count("B") == 1);
  CHECK(cfg.service.at("B") == cfg.service_default);
  CHECK(cfg.service_limits("not named") == cfg.service_default);
  CHECK(cfg.service_peer_limits("A").memory == 4096);
  CHECK(cfg.service_peer_limits("A").streams == defaults.service_peer_default.streams);
  CHECK(cfg.protocol_limits("/A").memory == 8192);
  CHECK(cfg.protocol_limits("/B").memory == 2048);
  CHECK(cfg.protocol_peer_limits("/A").memory == 1024);
  CHECK(cfg.peer_default.memory == 4096);
  REQUIRE(cfg.peer.count(go_peer) == 1);
  CHECK(cfg.peer.at(go_peer).memory == 4097);
  CHECK(cfg.peer.at(go_peer).conns == defaults.peer_default.conns);
}

TEST_CASE("a document written back reads the same (go's round trip)") {
  auto doc = parse_ok(go_test_document);
  auto again = parse_scope_config(to_json(doc), "/scopes");
  REQUIRE(again);
  CHECK(*again == doc);
  // Resolved limits written back with every field explicit, then resolved
  // against anything, give the same limits (go's TestLimitConfigRoundTrip).
  auto cfg = build(doc, scale(default_scaling_limits(), 8ull << 30, 16384));
  auto explicit_doc = to_document(cfg);
  auto reread = parse_scope_config(to_json(explicit_doc), "/scopes");
  REQUIRE(reread);
  CHECK(*reread == explicit_doc);
  CHECK(build(*reread, scope_limit_config{}) == cfg);
}

TEST_CASE("go's README document: the noisy neighbour") {
  const char* text =
      R"({"Peer":{"QmVvtzcZgCkMnSFf2dnrBPXrWuNFWNM9J3MpZQCvWPuVZf":)"
      R"({"StreamsInbound":"blockAll","StreamsOutbound":"unlimited",)"
      R"("ConnsInbound":"blockAll"}},"System":{"StreamsOutbound":"unlimited"}})";
  auto doc = parse_ok(text);
  CHECK(doc.system.streams_outbound == unlimited);
  CHECK(doc.system.streams == default_value);
  auto& p = doc.peer.at("QmVvtzcZgCkMnSFf2dnrBPXrWuNFWNM9J3MpZQCvWPuVZf");
  CHECK(p.conns_inbound == block_all);
  CHECK(p.conns == default_value);
  CHECK(p.conns_outbound == default_value);
  CHECK(p.streams_inbound == block_all);
  CHECK(p.streams_outbound == unlimited);
  // go writes it back exactly so.
  CHECK(to_json(doc) == json::parse(text));
  auto cfg = build(doc, scale(default_scaling_limits(), 8ull << 30, 16384));
  CHECK(cfg.system.streams_outbound == scope_unlimited);
  CHECK(cfg.system.streams == 18432);
  auto& limits = cfg.peer_limits("QmVvtzcZgCkMnSFf2dnrBPXrWuNFWNM9J3MpZQCvWPuVZf");
  CHECK(limits.conns_inbound == 0);
  CHECK(limits.conns == 8);
  CHECK(limits.streams_inbound == 0);
  CHECK(limits.streams_outbound == scope_unlimited);
}

TEST_CASE("value forms as go reads them") {
  // go's TestJSONMarshalling document.
  auto doc = parse_ok(R"({"Stream": {"StreamsInbound":10,"StreamsOutbound":"blockAll",)"
                      R"("Conns":10,"ConnsOutbound":"unlimited","Memory":"unlimited"}})");
  CHECK(doc.stream.streams == default_value);
  CHECK(doc.stream.streams_inbound == number(10));
  CHECK(doc.stream.streams_outbound == block_all);
  CHECK(doc.stream.conns == number(10));
  CHECK(doc.stream.conns_inbound == default_value);
  CHECK(doc.stream.conns_outbound == unlimited);
  CHECK(doc.stream.memory == unlimited);
  // go's TestWhatIsZeroInResourceLimits: a literal 0 is blockAll, "0" too.
  auto zero = parse_ok(R"({"Conn": {"Streams": 0, "Memory": 0}})");
  CHECK(zero.conn.streams == block_all);
  CHECK(zero.conn.memory == block_all);
  CHECK(parse_ok(R"({"Conn": {"Memory": "0"}})").conn.memory == block_all);
  // go's TestJSONRoundTripInt64: the largest Memory, written as a string.
  auto big = parse_ok(R"({"Conn": {"Memory": "9223372036854775807"}})");
  CHECK(big.conn.memory == number(9223372036854775807ull));
  CHECK(to_json(big) == json::parse(R"({"Conn": {"Memory": "9223372036854775807"}})"));
  CHECK(big.conn.memory.resolve(7) == scope_unlimited);
  // "default" is the same as leaving the field out.
  auto d = parse_ok(R"({"System": {"Conns": "default", "FD": 3}})");
  CHECK(d.system.conns == default_value);
  CHECK(d.system.fd == number(3));
  CHECK(to_json(d) == json::parse(R"({"System": {"FD": 3}})"));
  // Memory as a decimal string, with a sign as strconv.ParseInt takes it.
  CHECK(parse_ok(R"({"Peer": {"p": {"Memory": "+1024"}}})").peer.at("p").memory ==
        number(1024));
  CHECK(parse_ok(R"({"Peer": {"p": {"Memory": "65536"}}})").peer.at("p").memory ==
        number(65536));
  CHECK(parse_ok(R"({"Peer": {"p": {"Memory": 65536}}})").peer.at("p").memory ==
        number(65536));
  // Resolution: default, unlimited, blockAll, number.
  CHECK(default_value.resolve(42) == 42);
  CHECK(unlimited.resolve(42) == scope_unlimited);
  CHECK(block_all.resolve(42) == 0);
  CHECK(number(5).resolve(42) == 5);
}

TEST_CASE("every section and field is read; names match in any case, as go's decoder") {
  auto doc = parse_ok(R"({
    "System": {"Streams": 1}, "Transient": {"StreamsInbound": 2},
    "AllowlistedSystem": {"StreamsOutbound": 3}, "AllowlistedTransient": {"Conns": 4},
    "ServiceDefault": {"ConnsInbound": 5}, "Service": {"s": {"ConnsOutbound": 6}},
    "ServicePeerDefault": {"FD": 7}, "ServicePeer": {"s": {"Memory": 8}},
    "ProtocolDefault": {"Streams": 9}, "Protocol": {"/p": {"Streams": 10}},
    "ProtocolPeerDefault": {"Streams": 11}, "ProtocolPeer": {"/p": {"Streams": 12}},
    "PeerDefault": {"Streams": 13}, "Peer": {"q": {"Streams": 14}},
    "conn": {"streams": 15}, "STREAM": {"memory": 16}})");
  CHECK(doc.system.streams == number(1));
  CHECK(doc.transient.streams_inbound == number(2));
  CHECK(doc.allowlisted_system.streams_outbound == number(3));
  CHECK(doc.allowlisted_transient.conns == number(4));
  CHECK(doc.service_default.conns_inbound == number(5));
  CHECK(doc.service.at("s").conns_outbound == number(6));
  CHECK(doc.service_peer_default.fd == number(7));
  CHECK(doc.service_peer.at("s").memory == number(8));
  CHECK(doc.protocol_default.streams == number(9));
  CHECK(doc.protocol.at("/p").streams == number(10));
  CHECK(doc.protocol_peer_default.streams == number(11));
  CHECK(doc.protocol_peer.at("/p").streams == number(12));
  CHECK(doc.peer_default.streams == number(13));
  CHECK(doc.peer.at("q").streams == number(14));
  CHECK(doc.conn.streams == number(15));
  CHECK(doc.stream.memory == number(16));
  CHECK(parse_ok("{}") == scope_limit_document{});
}

TEST_CASE("bad values name their JSON Pointer path") {
  CHECK(parse_error(R"({"System": {"Conns": -1}})") ==
        "/scopes/System/Conns: must not be negative");
  CHECK(parse_error(R"({"System": {"Memory": "-2"}})") ==
        "/scopes/System/Memory: must not be negative");
  CHECK(parse_error(R"({"Peer": {"p": {"FD": -5}}})") ==
        "/scopes/Peer/p/FD: must not be negative");
  CHECK(parse_error(R"({"Protocol": {"/echo/1": {"Streams": -1.5}}})") ==
        "/scopes/Protocol/~1echo~11/Streams: must not be negative");
  CHECK(parse_error(R"({"Systen": {}})") == "/scopes/Systen: unknown section");
  CHECK(parse_error(R"({"System": {"Connz": 1}})") ==
        "/scopes/System/Connz: unknown field");
  CHECK(parse_error(R"({"Service": {"a~b": {"X": 1}}})") ==
        "/scopes/Service/a~0b/X: unknown field");
  CHECK(parse_error(R"({"System": {"Conns": "5"}})") ==
        "/scopes/System/Conns: expected an integer, \"unlimited\", \"blockAll\" or "
        "\"default\"");
  CHECK(parse_error(R"({"System": {"Conns": "Unlimited"}})") ==
        "/scopes/System/Conns: expected an integer, \"unlimited\", \"blockAll\" or "
        "\"default\"");
  CHECK(parse_error(R"({"System": {"Memory": "12kb"}})") ==
        "/scopes/System/Memory: expected an integer, \"unlimited\", \"blockAll\" or "
        "\"default\" (Memory: or a decimal string)");
  CHECK(parse_error(R"({"System": {"Conns": 1.5}})") ==
        "/scopes/System/Conns: expected an integer (no fraction or exponent)");
  CHECK(parse_error(R"({"System": {"Conns": 1e3}})") ==
        "/scopes/System/Conns: expected an integer (no fraction or exponent)");
  CHECK(parse_error(R"({"System": {"Conns": true}})") ==
        "/scopes/System/Conns: expected an integer, \"unlimited\", \"blockAll\" or "
        "\"default\"");
  CHECK(parse_error(R"({"System": {"Conns": null}})") ==
        "/scopes/System/Conns: expected an integer, \"unlimited\", \"blockAll\" or "
        "\"default\"");
  CHECK(parse_error(R"({"System": {"Conns": 9223372036854775808}})") ==
        "/scopes/System/Conns: out of range (at most 9223372036854775807)");
  CHECK(parse_error(R"({"System": {"Memory": "9223372036854775808"}})") ==
        "/scopes/System/Memory: out of range (at most 9223372036854775807)");
  CHECK(parse_error(R"({"System": 5})") == "/scopes/System: expected an object");
  CHECK(parse_error(R"({"Peer": {"p": []}})") == "/scopes/Peer/p: expected an object");
  CHECK(parse_error(R"({"Peer": [1]})") ==
        "/scopes/Peer: expected an object of sections");
  CHECK(parse_error(R"({"Peer": {"": {}}})") ==
        "/scopes/Peer/: a peer id must not be empty");
  CHECK(parse_error(R"({"System": {}, "system": {}})") ==
        "/scopes/system: System is given twice (names match in any case)");
  CHECK(parse_error("[]") == "/scopes: expected an object");
  CHECK(parse_scope_config(json::parse(R"({"X": 1})"), "").error().text() ==
        "/X: unknown section");
}

TEST_CASE("scopes_scale: \"auto\" or both figures") {
  auto a = parse_scopes_scale(json("auto"), "/scopes_scale");
  REQUIRE(a);
  CHECK(a->automatic);
  CHECK(to_json(*a) == json("auto"));
  auto fixed = parse_scopes_scale(
      json::parse(R"({"memory_bytes": 8589934592, "fds": 16384})"), "/scopes_scale");
  REQUIRE(fixed);
  CHECK_FALSE(fixed->automatic);
  CHECK(fixed->memory_bytes == 8589934592ull);
  CHECK(fixed->fds == 16384);
  CHECK(*parse_scopes_scale(to_json(*fixed), "/x") == *fixed);
  auto err = [](const char* text) {
    auto r = parse_scopes_scale(json::parse(text), "/scopes_scale");
    REQUIRE_FALSE(r);
    return r.error().text();
  };
  CHECK(err(R"("manual")") ==
        "/scopes_scale: expected \"auto\" or {\"memory_bytes\": N, \"fds\": N}");
  CHECK(err(R"({"memory_bytes": 1})") ==
        "/scopes_scale/fds: missing (give both memory_bytes and fds)");
  CHECK(err(R"({"fds": 1})") ==
        "/scopes_scale/memory_bytes: missing (give both memory_bytes and fds)");
  CHECK(err(R"({"memory_bytes": -1, "fds": 1})") ==
        "/scopes_scale/memory_bytes: must not be negative");
  CHECK(err(R"({"memory_bytes": 1, "fds": 1.5})") ==
        "/scopes_scale/fds: expected a non-negative integer");
  CHECK(err(R"({"memory_bytes": 1, "fds": 1, "cpus": 2})") ==
        "/scopes_scale/cpus: unknown key");
}
