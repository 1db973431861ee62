// go-libp2p's default scope limits and their scaling, against go's own
// numbers: the golden table of TestDefaultsDontChange
// (limit_config_test_default.json: the defaults scaled to 8 GiB and 16384
// file descriptors), TestScaling and TestReadmeExample (limit_test.go).
#include <doctest/doctest.h>

#include "actors/gate/scopes/scope_defaults.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

// go-libp2p p2p/host/resource-manager/limit_config_test_default.json
const char* go_golden_defaults = R"({
  "System": {"Streams": 18432, "StreamsInbound": 9216, "StreamsOutbound": 18432,
    "Conns": 1152, "ConnsInbound": 576, "ConnsOutbound": 1152, "FD": 16384,
    "Memory": "8724152320"},
  "Transient": {"Streams": 2304, "StreamsInbound": 1152, "StreamsOutbound": 2304,
    "Conns": 320, "ConnsInbound": 160, "ConnsOutbound": 320, "FD": 4096,
    "Memory": "1107296256"},
  "AllowlistedSystem": {"Streams": 18432, "StreamsInbound": 9216, "StreamsOutbound": 18432,
    "Conns": 1152, "ConnsInbound": 576, "ConnsOutbound": 1152, "FD": 16384,
    "Memory": "8724152320"},
  "AllowlistedTransient": {"Streams": 2304, "StreamsInbound": 1152,
    "StreamsOutbound": 2304, "Conns": 320, "ConnsInbound": 160, "ConnsOutbound": 320,
    "FD": 4096, "Memory": "1107296256"},
  "ServiceDefault": {"Streams": 20480, "StreamsInbound": 5120, "StreamsOutbound": 20480,
    "Conns": "blockAll", "ConnsInbound": "blockAll", "ConnsOutbound": "blockAll",
    "FD": "blockAll", "Memory": "1140850688"},
  "ServicePeerDefault": {"Streams": 320, "StreamsInbound": 160, "StreamsOutbound": 320,
    "Conns": "blockAll", "ConnsInbound": "blockAll", "ConnsOutbound": "blockAll",
    "FD": "blockAll", "Memory": "50331648"},
  "ProtocolDefault": {"Streams": 6144, "StreamsInbound": 2560, "StreamsOutbound": 6144,
    "Conns": "blockAll", "ConnsInbound": "blockAll", "ConnsOutbound": "blockAll",
    "FD": "blockAll", "Memory": "1442840576"},
  "ProtocolPeerDefault": {"Streams": 384, "StreamsInbound": 96, "StreamsOutbound": 192,
    "Conns": "blockAll", "ConnsInbound": "blockAll", "ConnsOutbound": "blockAll",
    "FD": "blockAll", "Memory": "16777248"},
  "PeerDefault": {"Streams": 2560, "StreamsInbound": 1280, "StreamsOutbound": 2560,
    "Conns": 8, "ConnsInbound": 8, "ConnsOutbound": 8, "FD": 256,
    "Memory": "1140850688"},
  "Conn": {"Streams": "blockAll", "StreamsInbound": "blockAll",
    "StreamsOutbound": "blockAll", "Conns": 1, "ConnsInbound": 1, "ConnsOutbound": 1,
    "FD": 1, "Memory": "33554432"},
  "Stream": {"Streams": 1, "StreamsInbound": 1, "StreamsOutbound": 1,
    "Conns": "blockAll", "ConnsInbound": "blockAll", "ConnsOutbound": "blockAll",
    "FD": "blockAll", "Memory": "16777216"}
})";

scope_limits limits(std::uint64_t streams, std::uint64_t streams_in,
                    std::uint64_t streams_out, std::uint64_t conns,
                    std::uint64_t conns_in, std::uint64_t conns_out, std::uint64_t fd,
                    std::uint64_t memory) {
  return scope_limits{streams,  streams_in, streams_out, conns,
                      conns_in, conns_out,  fd,          memory};
}

// limit_test.go's base limit for TestScaling.
const scope_limits test_base = limits(100, 200, 400, 10, 20, 40, 1, 1 << 20);

} // namespace

TEST_CASE("go's defaults scaled to 8 GiB and 16384 FDs are go's golden table") {
  auto scaled = scale(default_scaling_limits(), 8ull << 30, 16 << 10);
  // Written as go writes ToPartialLimitConfig(): the same document.
  CHECK(to_json(to_document(scaled)) == json::parse(go_golden_defaults));
  // And field by field, for a readable failure.
  CHECK(scaled.system == limits(18432, 9216, 18432, 1152, 576, 1152, 16384, 8724152320));
  CHECK(scaled.transient == limits(2304, 1152, 2304, 320, 160, 320, 4096, 1107296256));
  CHECK(scaled.allowlisted_system == scaled.system);
  CHECK(scaled.allowlisted_transient == scaled.transient);
  CHECK(scaled.service_default == limits(20480, 5120, 20480, 0, 0, 0, 0, 1140850688));
  CHECK(scaled.service_peer_default == limits(320, 160, 320, 0, 0, 0, 0, 50331648));
  CHECK(scaled.protocol_default == limits(6144, 2560, 6144, 0, 0, 0, 0, 1442840576));
  CHECK(scaled.protocol_peer_default == limits(384, 96, 192, 0, 0, 0, 0, 16777248));
  CHECK(scaled.peer_default == limits(2560, 1280, 2560, 8, 8, 8, 256, 1140850688));
  CHECK(scaled.conn == limits(0, 0, 0, 1, 1, 1, 1, 33554432));
  CHECK(scaled.stream == limits(1, 1, 1, 0, 0, 0, 0, 16777216));
  CHECK(scaled.peer.empty());
  CHECK(scaled.protocol.empty());
  CHECK(scaled.service.empty());
  // "scopes": {} is these defaults.
  CHECK(resolve_scope_limits({}, {8ull << 30, 16 << 10}) == scaled);
}

TEST_CASE("go's README example: 4 GiB and 1000 FDs give 384 conns and 1000 FDs") {
  scaling_limits system;
  system.base = limits(1024, 512, 1024, 128, 64, 128, 256, 128 << 20);
  system.increase = {512, 256, 512, 64, 32, 64, 256 << 20, 1.0};
  auto scaled = scale(system, 4ull << 30, 1000);
  CHECK(scaled.conns == 384);
  CHECK(scaled.fd == 1000);
  CHECK(scaled.conns_inbound == 64 + 4 * 32);
  CHECK(scaled.streams == 1024 + 4 * 512);
  CHECK(scaled.memory == (128ull << 20) + 4 * (256ull << 20));
}

TEST_CASE("go's TestScaling") {
  SUBCASE("no scaling if no increase is defined") {
    CHECK(scale(scaling_limits{test_base, {}}, 8ull << 30, 100) == test_base);
  }
  SUBCASE("scaling") {
    scaling_limits s{test_base, {1, 2, 3, 4, 5, 6, 7, 0.5}};
    auto scaled = scale(s, (128ull << 20) + (4ull << 30), 1000);
    CHECK(scaled.fd == 500);
    CHECK(scaled.streams == test_base.streams + 4);
    CHECK(scaled.streams_inbound == test_base.streams_inbound + 4 * 2);
    CHECK(scaled.streams_outbound == test_base.streams_outbound + 4 * 3);
    CHECK(scaled.conns == test_base.conns + 4 * 4);
    CHECK(scaled.conns_inbound == test_base.conns_inbound + 4 * 5);
    CHECK(scaled.conns_outbound == test_base.conns_outbound + 4 * 6);
    CHECK(scaled.memory == test_base.memory + 4 * 7);
  }
  SUBCASE("scaling and using the base amounts") {
    scaling_limits s{test_base, {1, 2, 3, 4, 5, 6, 7, 0.01}};
    CHECK(scale(s, 1, 10) == test_base);
  }
}

TEST_CASE(
    "scaling: the 128 MiB threshold, FD fractions, saturation instead of wrapping") {
  auto& d = default_scaling_limits();
  // At most 128 MiB: the bases alone; one byte more: 128 MiB worth of increase.
  CHECK(scale(d.system, 128ull << 20, 0) == d.system.base);
  auto just_over = scale(d.system, (128ull << 20) + 1, 0);
  CHECK(just_over.conns == 128 + 128 * 128 / 1024);
  // No FDs given: the base FD limit; a fraction below the base: the base.
  CHECK(scale(d.peer, 1ull << 30, 0).fd == 4);
  CHECK(scale(d.peer, 1ull << 30, 100).fd == 4);
  CHECK(scale(d.peer, 1ull << 30, 6400).fd == 100);
  CHECK(scale(d.transient, 1ull << 30, 1001).fd == 250);
  // Inputs too large for go's int64 saturate at unlimited.
  auto huge = scale(d.system, UINT64_MAX, UINT64_MAX);
  CHECK(huge.memory == scope_unlimited);
  CHECK(huge.fd == scope_unlimited);
  CHECK(huge.conns == 128 + ((128ull * (scope_unlimited >> 20)) >> 10));
}

TEST_CASE("\"auto\": 1/8 of the smaller of RAM and memory.max, 1/2 of RLIMIT_NOFILE") {
  auto a = auto_scale(16ull << 30, 0, 1024);
  CHECK(a.memory_bytes == 2ull << 30);
  CHECK(a.fds == 512);
  CHECK(auto_scale(16ull << 30, 4ull << 30, 1024).memory_bytes == 512ull << 20);
  CHECK(auto_scale(16ull << 30, 64ull << 30, 1024).memory_bytes == 2ull << 30);
  CHECK(auto_scale(16ull << 30, 0, UINT64_MAX).fds == UINT64_MAX / 2);
  scopes_scale_config fixed{false, 123, 45};
  auto f = scale_for(fixed, 16ull << 30, 0, 1024);
  CHECK(f.memory_bytes == 123);
  CHECK(f.fds == 45);
  auto automatic = scale_for(scopes_scale_config{}, 16ull << 30, 1ull << 30, 4096);
  CHECK(automatic.memory_bytes == 128ull << 20);
  CHECK(automatic.fds == 2048);
}

TEST_CASE("build: entries fall back on their class's default as the document sets it") {
  scope_limit_document doc;
  doc.peer_default.memory = {limit_value::form::number, 4096};
  doc.peer["p"].conns = {limit_value::form::number, 3};
  doc.peer["q"]; // named, nothing set
  auto defaults = scale(default_scaling_limits(), 1ull << 30, 1024);
  auto cfg = build(doc, defaults);
  auto want_default = defaults.peer_default;
  want_default.memory = 4096;
  CHECK(cfg.peer_default == want_default);
  auto want_p = want_default;
  want_p.conns = 3;
  CHECK(cfg.peer_limits("p") == want_p);
  CHECK(cfg.peer_limits("q") == want_default);
  CHECK(cfg.peer_limits("other") == want_default);
  // An entry the defaults name is built on that entry (go's
  // buildMapWithDefault).
  scope_limit_config with_entry = defaults;
  with_entry.protocol["/x"] = limits(5, 5, 5, 0, 0, 0, 0, 5);
  scope_limit_document one;
  one.protocol["/x"].streams = {limit_value::form::number, 9};
  auto built = build(one, with_entry);
  CHECK(built.protocol_limits("/x") == limits(9, 5, 5, 0, 0, 0, 0, 5));
  // An unlimited or blockAll field wins over any default.
  scope_limit_document u;
  u.system.conns = {limit_value::form::unlimited, 0};
  u.system.fd = {limit_value::form::block_all, 0};
  auto bu = build(u, defaults);
  CHECK(bu.system.conns == scope_unlimited);
  CHECK(bu.system.fd == 0);
  CHECK(bu.system.streams == defaults.system.streams);
}
