// The scope graph of DESIGN §6.1 (resource_scopes): go-libp2p's end-to-end
// scenario (rcmgr_test.go, TestResourceManager) with its limits and
// numbers, then what §6.1 adds or changes: denials as data, the
// establishment denial that closes, memory along paths, allowlisted scopes,
// bypass, dry run, bad input, config updates, a peer-id flood, the dump.
#include <doctest/doctest.h>

#include "actors/gate/scopes/resource_scopes.hpp"
#include "actors/gate/scopes/scope_defaults.hpp"
#include "actors/gate/scopes/scopes_json.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

constexpr auto in = direction::inbound;
constexpr auto out = direction::outbound;

scope_limits lim(std::uint64_t memory, std::uint64_t streams_in,
                 std::uint64_t streams_out, std::uint64_t streams,
                 std::uint64_t conns_in = 0, std::uint64_t conns_out = 0,
                 std::uint64_t conns = 0, std::uint64_t fd = 0) {
  return scope_limits{streams,  streams_in, streams_out, conns,
                      conns_in, conns_out,  fd,          memory};
}

/// The limits of go's TestResourceManager.
scope_limit_config go_test_limits() {
  scope_limit_config c;
  c.system = lim(16384, 3, 3, 6, 3, 3, 6, 2);
  c.transient = lim(4096, 1, 1, 2, 1, 1, 2, 1);
  c.service_default = lim(4096, 1, 1, 2, 1, 1, 2, 1);
  c.service_peer_default = lim(4096, 5, 5, 10);
  c.service["A.svc"] = lim(8192, 2, 2, 4, 2, 2, 4, 1);
  c.service["B.svc"] = lim(8192, 2, 2, 4, 2, 2, 4, 1);
  c.service_peer["B.svc"] = lim(8192, 1, 1, 2);
  c.protocol_default = lim(4096, 1, 1, 2);
  c.protocol["/A"] = lim(8192, 2, 2, 2);
  c.protocol_peer["/B"] = lim(8192, 1, 1, 2);
  c.peer_default = lim(4096, 1, 1, 2, 1, 1, 2, 1);
  c.protocol_peer_default = lim(4096, 5, 5, 10);
  c.peer["A"] = lim(8192, 2, 2, 4, 2, 2, 4, 1);
  c.conn = lim(4096, 0, 0, 0, 1, 1, 1, 1);
  c.stream = lim(4096, 1, 1, 1);
  return c;
}

/// Limits that never refuse.
scope_limit_config unlimited_limits() {
  scope_limit_config c;
  auto u =
      scope_limits{scope_unlimited, scope_unlimited, scope_unlimited, scope_unlimited,
                   scope_unlimited, scope_unlimited, scope_unlimited, scope_unlimited};
  c.system = c.transient = c.allowlisted_system = c.allowlisted_transient = u;
  c.service_default = c.service_peer_default = c.protocol_default = u;
  c.protocol_peer_default = c.peer_default = c.conn = c.stream = u;
  return c;
}

scope_usage use(std::uint64_t conns_in, std::uint64_t conns_out, std::uint64_t streams_in,
                std::uint64_t streams_out, std::uint64_t fd, std::uint64_t memory = 0) {
  return scope_usage{conns_in, conns_out, streams_in, streams_out, fd, memory};
}

const scope_usage none{};

void check_denial(const scope_result& r, const std::string& scope, scope_resource res,
                  std::uint64_t limit, std::uint64_t current, std::uint64_t attempted) {
  REQUIRE(r.kind == verdict_kind::deny);
  REQUIRE(r.denial);
  CHECK(r.denial->scope == scope);
  CHECK(r.denial->resource == res);
  CHECK(r.denial->limit == limit);
  CHECK(r.denial->current == current);
  CHECK(r.denial->attempted == attempted);
}

holder_ref conn_ref(std::uint64_t id) {
  return {holder_ref::kind_t::conn, id};
}
holder_ref stream_ref(std::uint64_t id) {
  return {holder_ref::kind_t::stream, id};
}

} // namespace

TEST_CASE("go's TestResourceManager lifecycle, with its limits and usage at every step") {
  resource_scopes s{go_test_limits()};
  CHECK(s.system() == none);
  CHECK(s.transient() == none);
  // Named in the config: peer A, protocol /A, services A.svc and B.svc.
  CHECK(s.peer("A") == none);
  CHECK(s.protocol("/A") == none);
  CHECK(s.service("A.svc") == none);
  CHECK(s.dynamic_scope_count() == 4);

  // An inbound connection using an FD, in transient.
  CHECK(s.open_conn(1, in, true, 0).allowed());
  CHECK(s.system() == use(1, 0, 0, 0, 1));
  CHECK(s.transient() == use(1, 0, 0, 0, 1));
  // Transient holds one inbound connection at most.
  auto second = s.open_conn(2, in, true, 0);
  check_denial(second, "transient", scope_resource::conns_inbound, 1, 1, 1);
  CHECK(second.denial->dir == in);
  CHECK(second.denial->conn == connection_id{2});
  CHECK(s.open_conn(3, in, false, 0).denied());
  CHECK(s.blocked(scope_class::transient, scope_resource::conns_inbound, in) == 2);
  // Closed: everything comes back.
  CHECK(s.close_conn(1).kind == verdict_kind::ok);
  CHECK(s.system() == none);
  CHECK(s.transient() == none);

  // Another one, attached to peer A: it leaves transient, system keeps it.
  CHECK(s.open_conn(4, in, true, 0).allowed());
  CHECK(s.establish_conn(4, "A", in, true, 0).allowed());
  CHECK(s.peer("A") == use(1, 0, 0, 0, 1));
  CHECK(s.system() == use(1, 0, 0, 0, 1));
  CHECK(s.transient() == none);

  // A second transient connection fits now ...
  CHECK(s.open_conn(5, in, true, 0).allowed());
  CHECK(s.system() == use(2, 0, 0, 0, 2));
  CHECK(s.transient() == use(1, 0, 0, 0, 1));
  // ... but not peer A's FD limit. Unlike go, the denial closes it.
  auto fd = s.establish_conn(5, "A", in, true, 0);
  check_denial(fd, "peer:A", scope_resource::fd, 1, 1, 1);
  CHECK(fd.denial->peer == "A");
  CHECK(fd.denial->conn == connection_id{5});
  CHECK(s.peer("A") == use(1, 0, 0, 0, 1));
  CHECK(s.system() == use(1, 0, 0, 0, 1));
  CHECK(s.transient() == none);
  CHECK(s.conn_count() == 1);

  // Without an FD it can attach.
  CHECK(s.open_conn(6, in, false, 0).allowed());
  CHECK(s.system() == use(2, 0, 0, 0, 1));
  CHECK(s.transient() == use(1, 0, 0, 0, 0));
  CHECK(s.establish_conn(6, "A", in, false, 0).allowed());
  CHECK(s.peer("A") == use(2, 0, 0, 0, 1));
  CHECK(s.system() == use(2, 0, 0, 0, 1));
  CHECK(s.transient() == none);

  // A stream, in transient under peer A.
  CHECK(s.open_stream(1, "A", in, 0).allowed());
  CHECK(s.peer("A") == use(2, 0, 1, 0, 1));
  CHECK(s.system() == use(2, 0, 1, 0, 1));
  CHECK(s.transient() == use(0, 0, 1, 0, 0));
  // Transient holds one inbound stream at most.
  auto stream2 = s.open_stream(2, "A", in, 0);
  check_denial(stream2, "transient", scope_resource::streams_inbound, 1, 1, 1);
  CHECK(stream2.denial->stream == stream_id{2});
  CHECK(stream2.denial->peer == "A");
  CHECK(s.close_stream(1).kind == verdict_kind::ok);
  CHECK(s.peer("A") == use(2, 0, 0, 0, 1));
  CHECK(s.transient() == none);

  // A stream attached to protocol /A leaves transient.
  CHECK(s.open_stream(3, "A", in, 0).allowed());
  CHECK(s.set_stream_protocol(3, "/A").allowed());
  CHECK(s.peer("A") == use(2, 0, 1, 0, 1));
  CHECK(s.protocol("/A") == use(0, 0, 1, 0, 0));
  CHECK(s.protocol_peer("/A", "A") == use(0, 0, 1, 0, 0));
  CHECK(s.system() == use(2, 0, 1, 0, 1));
  CHECK(s.transient() == none);
  // And another.
  CHECK(s.open_stream(4, "A", in, 0).allowed());
  CHECK(s.transient() == use(0, 0, 1, 0, 0));
  CHECK(s.set_stream_protocol(4, "/A").allowed());
  CHECK(s.protocol("/A") == use(0, 0, 2, 0, 0));
  CHECK(s.system() == use(2, 0, 2, 0, 1));
  CHECK(s.transient() == none);

  // A third, from peer B, is refused by protocol /A and stays in transient.
  CHECK(s.open_stream(5, "B", in, 0).allowed());
  CHECK(s.peer("B") == use(0, 0, 1, 0, 0));
  CHECK(s.system() == use(2, 0, 3, 0, 1));
  auto full = s.set_stream_protocol(5, "/A");
  check_denial(full, "protocol:/A", scope_resource::streams_inbound, 2, 2, 1);
  CHECK(full.denial->protocol == "/A");
  CHECK(full.denial->peer == "B");
  CHECK(full.denial->stream == stream_id{5});
  CHECK(s.protocol("/A") == use(0, 0, 2, 0, 0));
  CHECK(s.protocol_peer("/A", "B") == std::nullopt);
  CHECK(s.transient() == use(0, 0, 1, 0, 0));
  // But another protocol takes it.
  CHECK(s.set_stream_protocol(5, "/B").allowed());
  CHECK(s.protocol("/B") == use(0, 0, 1, 0, 0));
  CHECK(s.protocol_peer("/B", "B") == use(0, 0, 1, 0, 0));
  CHECK(s.system() == use(2, 0, 3, 0, 1));
  CHECK(s.transient() == none);

  // Streams 3 and 4 fit service A.svc; stream 5 does not.
  CHECK(s.set_stream_service(3, "A.svc").allowed());
  CHECK(s.service("A.svc") == use(0, 0, 1, 0, 0));
  CHECK(s.service_peer("A.svc", "A") == use(0, 0, 1, 0, 0));
  CHECK(s.set_stream_service(4, "A.svc").allowed());
  CHECK(s.service("A.svc") == use(0, 0, 2, 0, 0));
  auto svc = s.set_stream_service(5, "A.svc");
  check_denial(svc, "service:A.svc", scope_resource::streams_inbound, 2, 2, 1);
  CHECK(svc.denial->service == "A.svc");
  CHECK(svc.denial->protocol == "/B");
  CHECK(s.service("A.svc") == use(0, 0, 2, 0, 0));
  CHECK(s.service_peer("A.svc", "B") == std::nullopt);
  CHECK(s.audit() == "");

  // Everything closed: all zero; only the scopes the config names remain.
  for (stream_id id : {3, 4, 5})
    CHECK(s.close_stream(id).kind == verdict_kind::ok);
  for (connection_id id : {4, 6})
    CHECK(s.close_conn(id).kind == verdict_kind::ok);
  CHECK(s.system() == none);
  CHECK(s.transient() == none);
  CHECK(s.peer("A") == none);
  CHECK(s.peer("B") == std::nullopt);
  CHECK(s.protocol("/A") == none);
  CHECK(s.protocol("/B") == std::nullopt);
  CHECK(s.service("A.svc") == none);
  CHECK(s.dynamic_scope_count() == 4);

  // Two streams of peer A on protocol /B: the protocol's default (one
  // inbound stream) refuses the second.
  CHECK(s.open_stream(6, "A", in, 0).allowed());
  CHECK(s.set_stream_protocol(6, "/B").allowed());
  CHECK(s.open_stream(7, "A", in, 0).allowed());
  check_denial(s.set_stream_protocol(7, "/B"), "protocol:/B",
               scope_resource::streams_inbound, 1, 1, 1);
  CHECK(s.protocol("/B") == use(0, 0, 1, 0, 0));
  CHECK(s.transient() == use(0, 0, 1, 0, 0));
  CHECK(s.close_stream(6).kind == verdict_kind::ok);
  CHECK(s.close_stream(7).kind == verdict_kind::ok);

  // Service B.svc allows two inbound streams, but one per peer.
  CHECK(s.open_stream(8, "A", in, 0).allowed());
  CHECK(s.set_stream_protocol(8, "/A").allowed());
  CHECK(s.open_stream(9, "A", in, 0).allowed());
  CHECK(s.set_stream_protocol(9, "/A").allowed());
  CHECK(s.set_stream_service(8, "B.svc").allowed());
  CHECK(s.service("B.svc") == use(0, 0, 1, 0, 0));
  auto per_peer = s.set_stream_service(9, "B.svc");
  check_denial(per_peer, "service:B.svc.peer:A", scope_resource::streams_inbound, 1, 1,
               1);
  CHECK(per_peer.denial->scope_kind == scope_class::service_peer);
  CHECK(s.service("B.svc") == use(0, 0, 1, 0, 0));
  CHECK(s.close_stream(8).kind == verdict_kind::ok);
  CHECK(s.close_stream(9).kind == verdict_kind::ok);
  CHECK(s.system() == none);
  CHECK(s.dynamic_scope_count() == 4);
  CHECK(s.audit() == "");
}

TEST_CASE("a protocol-peer limit refuses after the protocol allowed") {
  auto c = unlimited_limits();
  c.protocol_peer["/chat"] = lim(1 << 20, 1, 1, 1);
  resource_scopes s{c};
  CHECK(s.open_stream(1, "P", in, 0).allowed());
  CHECK(s.set_stream_protocol(1, "/chat").allowed());
  CHECK(s.open_stream(2, "P", out, 0).allowed());
  auto r = s.set_stream_protocol(2, "/chat");
  check_denial(r, "protocol:/chat.peer:P", scope_resource::streams, 1, 1, 1);
  CHECK(r.denial->dir == out);
  CHECK(r.denial->scope_kind == scope_class::protocol_peer);
  // Another peer has its own protocol-peer scope.
  CHECK(s.open_stream(3, "Q", out, 0).allowed());
  CHECK(s.set_stream_protocol(3, "/chat").allowed());
  CHECK(s.protocol("/chat") == use(0, 0, 1, 1, 0));
  CHECK(s.audit() == "");
}

TEST_CASE("memory along paths: priorities, moves at priority 255, over_release") {
  auto c = unlimited_limits();
  c.transient = lim(1000, 10, 10, 10, 10, 10, 10, 10);
  c.peer_default = lim(600, 10, 10, 10, 10, 10, 10, 10);
  c.conn = lim(4096, 0, 0, 0, 1, 1, 1, 1);
  resource_scopes s{c};
  REQUIRE(s.open_conn(1, out, true, 0).allowed());
  // 1000 * 102 / 256 = 398 at Low.
  CHECK(s.reserve_memory(conn_ref(1), 398, priority_low).allowed());
  auto low = s.reserve_memory(conn_ref(1), 1, priority_low);
  check_denial(low, "transient", scope_resource::memory, 1000, 398, 1);
  CHECK(low.denial->priority == std::optional<std::uint8_t>{priority_low});
  CHECK_FALSE(low.denial->dir);
  CHECK(low.denial->conn == connection_id{1});
  CHECK(s.reserve_memory(conn_ref(1), 302, priority_always).allowed());
  CHECK(s.transient() == use(0, 1, 0, 0, 1, 700));
  CHECK(s.system() == use(0, 1, 0, 0, 1, 700));
  CHECK(s.holder(conn_ref(1)) == use(0, 1, 0, 0, 1, 700));
  // Establishment moves the 700 bytes into a peer scope that holds 600 at
  // most: refused (checked at priority 255), and the connection is gone.
  auto moved = s.establish_conn(1, "P", out, true, 0);
  check_denial(moved, "peer:P", scope_resource::memory, 600, 0, 700);
  CHECK(moved.denial->priority == std::optional<std::uint8_t>{priority_always});
  CHECK(s.system() == none);
  CHECK(s.transient() == none);
  CHECK(s.peer("P") == std::nullopt);

  REQUIRE(s.open_conn(2, out, true, 0).allowed());
  REQUIRE(s.reserve_memory(conn_ref(2), 500).allowed());
  REQUIRE(s.establish_conn(2, "P", out, true, 0).allowed());
  CHECK(s.peer("P") == use(0, 1, 0, 0, 1, 500));
  CHECK(s.transient() == none);
  // Releasing more than is held: what is held comes back, and it is counted.
  CHECK(s.release_memory(conn_ref(2), 800).kind == verdict_kind::ok);
  CHECK(s.anomalies()[anomaly::over_release] == 1);
  CHECK(s.peer("P") == use(0, 1, 0, 0, 1, 0));
  CHECK(s.system() == use(0, 1, 0, 0, 1, 0));

  // A stream's memory moves with it into its protocol.
  REQUIRE(s.open_stream(7, "P", in, 0, connection_id{2}).allowed());
  REQUIRE(s.reserve_memory(stream_ref(7), 100).allowed());
  CHECK(s.transient() == use(0, 0, 1, 0, 0, 100));
  REQUIRE(s.set_stream_protocol(7, "/x").allowed());
  CHECK(s.protocol("/x") == use(0, 0, 1, 0, 0, 100));
  CHECK(s.protocol_peer("/x", "P") == use(0, 0, 1, 0, 0, 100));
  CHECK(s.transient() == none);
  CHECK(s.peer("P") == use(0, 1, 1, 0, 1, 100));
  // The stream's own limit (16 MiB by default here: unlimited) and the
  // peer's 600 bytes.
  auto big = s.reserve_memory(stream_ref(7), 501);
  check_denial(big, "peer:P", scope_resource::memory, 600, 100, 501);
  CHECK(big.denial->stream == stream_id{7});
  CHECK(big.denial->conn == connection_id{2});
  CHECK(big.denial->protocol == "/x");
  CHECK(s.release_memory(stream_ref(7), 100).kind == verdict_kind::ok);
  CHECK(s.protocol("/x") == use(0, 0, 1, 0, 0, 0));
  CHECK(s.close_stream(7).kind == verdict_kind::ok);
  CHECK(s.close_conn(2).kind == verdict_kind::ok);
  CHECK(s.system() == none);
  CHECK(s.dynamic_scope_count() == 0);
  CHECK(s.audit() == "");
}

TEST_CASE("a close releases the memory a connection or stream holds") {
  resource_scopes s{unlimited_limits()};
  REQUIRE(s.open_conn(1, in, true, 0).allowed());
  REQUIRE(s.reserve_memory(conn_ref(1), 4096).allowed());
  REQUIRE(s.open_stream(1, "P", in, 0).allowed());
  REQUIRE(s.reserve_memory(stream_ref(1), 1024).allowed());
  CHECK(s.system() == use(1, 0, 1, 0, 1, 5120));
  CHECK(s.close_conn(1).kind == verdict_kind::ok);
  CHECK(s.close_stream(1).kind == verdict_kind::ok);
  CHECK(s.system() == none);
  CHECK(s.transient() == none);
}

TEST_CASE("a connection established without a pending event is opened in its peer") {
  auto c = unlimited_limits();
  c.peer_default = lim(100, 1, 1, 1, 1, 1, 1, 1);
  resource_scopes s{c};
  CHECK(s.establish_conn(9, "P", out, true, 0).allowed());
  CHECK(s.peer("P") == use(0, 1, 0, 0, 1));
  CHECK(s.system() == use(0, 1, 0, 0, 1));
  CHECK(s.transient() == none);
  auto r = s.establish_conn(10, "P", in, false, 0);
  check_denial(r, "peer:P", scope_resource::conns, 1, 1, 1);
  CHECK(r.denial->dir == in);
  CHECK(s.conn_count() == 1);
  CHECK(s.establish_conn(9, "P", out, true, 0).kind == verdict_kind::error);
  CHECK(s.anomalies()[anomaly::duplicate_connection] == 1);
}

TEST_CASE("allowlisted scopes take what the normal ones refuse (go's allowlist test)") {
  auto c = build({}, scale(default_scaling_limits(), 8ull << 30, 16384));
  c.system.conns = 0;
  c.transient.conns = 0;
  c.allowlisted_system.conns = 2;
  c.allowlisted_system.conns_inbound = 2;
  c.allowlisted_system.conns_outbound = 1;
  c.allowlisted_transient.conns = 1;
  c.allowlisted_transient.conns_inbound = 1;
  c.allowlisted_transient.conns_outbound = 1;
  resource_scopes s{c};
  // Not from an allowlisted address: refused by transient's total.
  check_denial(s.open_conn(1, in, true, 0), "transient", scope_resource::conns, 0, 0, 1);
  // From an allowlisted address: charged to the allowlisted scopes.
  CHECK(s.open_conn(2, in, true, 0, true).allowed());
  CHECK(s.allowlisted_transient() == use(1, 0, 0, 0, 1));
  CHECK(s.allowlisted_system() == use(1, 0, 0, 0, 1));
  CHECK(s.system() == none);
  // Its peer is allowed from that address: it stays in allowlisted_system.
  CHECK(s.establish_conn(2, "P", in, true, 0, true).allowed());
  CHECK(s.allowlisted_transient() == none);
  CHECK(s.allowlisted_system() == use(1, 0, 0, 0, 1));
  CHECK(s.peer("P") == use(1, 0, 0, 0, 1));
  // Allowlisted address, but a peer not allowed from it: it must fit the
  // normal scopes, which refuse; refused by system first (go's order).
  CHECK(s.open_conn(3, in, true, 0, true).allowed());
  auto r = s.establish_conn(3, "Q", in, true, 0, false);
  check_denial(r, "system", scope_resource::conns, 0, 0, 1);
  CHECK(s.allowlisted_transient() == none);
  CHECK(s.allowlisted_system() == use(1, 0, 0, 0, 1));
  CHECK(s.peer("Q") == std::nullopt);
  // When the allowlisted scopes refuse too, theirs is the refusal.
  CHECK(s.open_conn(4, in, true, 0, true).allowed());
  auto both = s.open_conn(5, in, true, 0, true);
  check_denial(both, "allowlisted_transient", scope_resource::conns_inbound, 1, 1, 1);
  // With room in the normal scopes, a transfer goes through.
  auto c2 = c;
  c2.system.conns = 10;
  c2.transient.conns = 10;
  s.set_limits(c2);
  CHECK(s.establish_conn(4, "Q", in, true, 0, false).allowed());
  CHECK(s.allowlisted_system() == use(1, 0, 0, 0, 1));
  CHECK(s.allowlisted_transient() == none);
  CHECK(s.system() == use(1, 0, 0, 0, 1));
  CHECK(s.transient() == none);
  CHECK(s.peer("Q") == use(1, 0, 0, 0, 1));
  CHECK(s.audit() == "");
}

TEST_CASE("bypassed connections and streams are tracked and charged to no scope") {
  auto c = unlimited_limits();
  c.transient = lim(0, 0, 0, 0, 0, 0, 0, 0);
  resource_scopes s{c};
  CHECK(s.open_conn(1, out, true, 0, false, true).allowed());
  CHECK(s.establish_conn(1, "T", out, true, 0, false, true).allowed());
  CHECK(s.open_stream(1, "T", in, 0, connection_id{1}, true).allowed());
  CHECK(s.set_stream_protocol(1, "/x").allowed());
  CHECK(s.set_stream_service(1, "svc").allowed());
  CHECK(s.reserve_memory(stream_ref(1), 1 << 30).allowed());
  CHECK(s.system() == none);
  CHECK(s.dynamic_scope_count() == 0);
  // A charged pending connection whose peer turns out bypassed leaves every
  // scope.
  auto c2 = unlimited_limits();
  s.set_limits(c2);
  CHECK(s.open_conn(2, in, true, 0).allowed());
  CHECK(s.reserve_memory(conn_ref(2), 10).allowed());
  CHECK(s.system() == use(1, 0, 0, 0, 1, 10));
  CHECK(s.establish_conn(2, "T", in, true, 0, false, true).allowed());
  CHECK(s.system() == none);
  CHECK(s.transient() == none);
  CHECK(s.release_memory(conn_ref(2), 10).kind == verdict_kind::ok);
  CHECK(s.anomalies()[anomaly::over_release] == 0);
  for (connection_id id : {1, 2})
    CHECK(s.close_conn(id).kind == verdict_kind::ok);
  CHECK(s.close_stream(1).kind == verdict_kind::ok);
  CHECK(s.conn_count() == 0);
  CHECK(s.stream_count() == 0);
  CHECK(s.audit() == "");
}

TEST_CASE("dry run: nothing refused, everything charged, the would-be denial reported") {
  auto c = unlimited_limits();
  c.transient = lim(100, 1, 1, 1, 1, 1, 1, 1);
  resource_scopes s{c};
  s.set_dry_run(true);
  CHECK(s.open_conn(1, in, true, 0).allowed());
  auto over = s.open_conn(2, in, true, 0);
  CHECK(over.allowed());
  REQUIRE(over.denial);
  CHECK(over.denial->scope == "transient");
  CHECK(over.denial->resource == scope_resource::conns_inbound);
  CHECK(s.transient() == use(2, 0, 0, 0, 2));
  CHECK(s.blocked(scope_class::transient, scope_resource::conns_inbound, in) == 0);
  auto dump = to_json(s.stats_at(0, 10));
  CHECK(dump["would_block"] ==
        json::parse(R"([{"scope":"transient",)"
                    R"("resource":"conns_inbound","dir":"inbound",)"
                    R"("count":1}])"));
  CHECK(dump["blocked"] == json::array());
  s.set_dry_run(false);
  check_denial(s.open_conn(3, in, true, 0), "transient", scope_resource::conns_inbound, 1,
               2, 1);
  CHECK(s.close_conn(1).kind == verdict_kind::ok);
  CHECK(s.close_conn(2).kind == verdict_kind::ok);
  CHECK(s.transient() == none);
  CHECK(s.audit() == "");
}

TEST_CASE("bad input: an error, an anomaly, nothing changed") {
  resource_scopes s{unlimited_limits()};
  REQUIRE(s.open_conn(1, in, true, 0).allowed());
  REQUIRE(s.open_stream(1, "P", in, 0).allowed());
  auto before = s.system();
  CHECK(s.open_conn(1, out, true, 0).kind == verdict_kind::error);
  CHECK(s.close_conn(77).kind == verdict_kind::error);
  CHECK(s.establish_conn(1, "", in, true, 0).kind == verdict_kind::error);
  CHECK(s.open_stream(1, "P", in, 0).kind == verdict_kind::error);
  CHECK(s.open_stream(2, "", in, 0).kind == verdict_kind::error);
  CHECK(s.set_stream_protocol(9, "/x").kind == verdict_kind::error);
  CHECK(s.set_stream_protocol(1, "").kind == verdict_kind::error);
  CHECK(s.set_stream_service(1, "svc").kind == verdict_kind::error);
  REQUIRE(s.set_stream_protocol(1, "/x").allowed());
  CHECK(s.set_stream_protocol(1, "/y").kind == verdict_kind::error);
  REQUIRE(s.set_stream_service(1, "svc").allowed());
  CHECK(s.set_stream_service(1, "other").kind == verdict_kind::error);
  CHECK(s.close_stream(9).kind == verdict_kind::error);
  CHECK(s.reserve_memory(conn_ref(9), 1).kind == verdict_kind::error);
  CHECK(s.release_memory(stream_ref(9), 1).kind == verdict_kind::error);
  CHECK(s.system() == before);
  anomaly_counts want{{anomaly::duplicate_connection, 1},
                      {anomaly::unknown_connection, 1},
                      {anomaly::missing_peer, 2},
                      {anomaly::duplicate_stream, 1},
                      {anomaly::unknown_stream, 2},
                      {anomaly::missing_protocol, 1},
                      {anomaly::service_before_protocol, 1},
                      {anomaly::stream_protocol_twice, 1},
                      {anomaly::stream_service_twice, 1},
                      {anomaly::unknown_scope, 2}};
  CHECK(s.anomalies() == want);
  CHECK(s.audit() == "");
}

TEST_CASE("scope names for reserve_memory") {
  CHECK(parse_holder_name("conn-12") == holder_ref{holder_ref::kind_t::conn, 12});
  CHECK(parse_holder_name("stream-0") == holder_ref{holder_ref::kind_t::stream, 0});
  CHECK(parse_holder_name("stream-18446744073709551615") ==
        holder_ref{holder_ref::kind_t::stream, UINT64_MAX});
  for (auto bad : {"conn-", "conn-01", "conn--1", "conn-1x", "peer:A", "stream-+1",
                   "Conn-1", "stream-18446744073709551616", ""})
    CHECK_FALSE(parse_holder_name(bad));
  CHECK(holder_name({holder_ref::kind_t::stream, 7}) == "stream-7");
}

TEST_CASE("config updates: new limits for live scopes, named scopes come and go") {
  auto c = unlimited_limits();
  resource_scopes s{c};
  REQUIRE(s.open_stream(1, "P", in, 0).allowed());
  REQUIRE(s.open_stream(2, "P", in, 0).allowed());
  // Lowering a limit closes nothing; it refuses until usage is below it.
  auto lower = c;
  lower.peer["P"] = lim(100, 1, 1, 1);
  lower.protocol["/named"] = lim(100, 1, 1, 1);
  s.set_limits(lower);
  CHECK(s.peer("P") == use(0, 0, 2, 0, 0));
  CHECK(s.protocol("/named") == none);
  check_denial(s.open_stream(3, "P", in, 0), "peer:P", scope_resource::streams_inbound, 1,
               2, 1);
  CHECK(s.dynamic_scope_count() == 2);
  // No longer named: gone once empty.
  s.set_limits(c);
  CHECK(s.protocol("/named") == std::nullopt);
  CHECK(s.peer("P") == use(0, 0, 2, 0, 0));
  CHECK(s.close_stream(1).kind == verdict_kind::ok);
  CHECK(s.close_stream(2).kind == verdict_kind::ok);
  CHECK(s.peer("P") == std::nullopt);
  CHECK(s.dynamic_scope_count() == 0);
  CHECK(s.audit() == "");
}

TEST_CASE("a flood of fresh peer ids leaves no scope behind") {
  resource_scopes s{build({}, scale(default_scaling_limits(), 8ull << 30, 16384))};
  stream_id next = 1;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      auto peer = "peer-" + std::to_string(round) + "-" + std::to_string(i);
      if (i < 100) {
        auto conn = static_cast<connection_id>(i);
        REQUIRE(s.open_conn(conn, in, true, 0).allowed());
        REQUIRE(s.establish_conn(conn, peer, in, true, 0).allowed());
      }
      REQUIRE(s.open_stream(next, peer, out, 0).allowed());
      REQUIRE(s.set_stream_protocol(next, "/p" + std::to_string(i % 7)).allowed());
      REQUIRE(s.close_stream(next++).kind == verdict_kind::ok);
    }
    // Only the peers with a connection are left.
    CHECK(s.dynamic_scope_count() == 100);
    for (int i = 0; i < 100; ++i)
      REQUIRE(s.close_conn(static_cast<connection_id>(i)).kind == verdict_kind::ok);
    CHECK(s.dynamic_scope_count() == 0);
    CHECK(s.system() == none);
    CHECK(s.audit() == "");
  }
}

TEST_CASE("the dump: usage and limits per scope, who holds transient, blocked counts") {
  auto c = unlimited_limits();
  c.transient = lim(1000, 5, 5, 5, 5, 5, 5, 5);
  c.peer_default = lim(2000, 1, 1, 2, 1, 1, 2, 2);
  resource_scopes s{c, scope_scale_info{8ull << 30, 16384, "config"}};
  constexpr time_ns ms = 1000000;
  REQUIRE(s.open_conn(1, in, true, 10 * ms).allowed());
  REQUIRE(s.open_conn(2, out, false, 5 * ms).allowed());
  REQUIRE(s.reserve_memory(conn_ref(2), 64).allowed());
  REQUIRE(s.establish_conn(1, "P", in, true, 20 * ms).allowed());
  REQUIRE(s.open_stream(4, "P", in, 30 * ms, connection_id{1}).allowed());
  REQUIRE(s.open_stream(5, "P", out, 25 * ms).allowed());
  REQUIRE(s.set_stream_protocol(5, "/echo").allowed());
  REQUIRE(s.set_stream_service(5, "echo").allowed());
  REQUIRE(s.open_stream(6, "P", in, 31 * ms).denied()); // peer P: one inbound stream
  auto j = to_json(s.stats_at(100 * ms, 10));
  CHECK(j["scale"] == json::parse(R"({"memory_bytes":8589934592,"fds":16384,)"
                                  R"("source":"config"})"));
  CHECK(j["system"]["usage"] ==
        json::parse(R"({"conns_inbound":1,"conns_outbound":1,"streams_inbound":1,)"
                    R"("streams_outbound":1,"fd":1,"memory":64})"));
  CHECK(j["system"]["limits"]["conns"] == "unlimited");
  CHECK(j["transient"]["limits"] ==
        json::parse(R"({"conns":5,"conns_inbound":5,"conns_outbound":5,"streams":5,)"
                    R"("streams_inbound":5,"streams_outbound":5,"fd":5,"memory":1000})"));
  CHECK(j["transient"]["usage"] ==
        json::parse(R"({"conns_inbound":0,"conns_outbound":1,"streams_inbound":1,)"
                    R"("streams_outbound":0,"fd":0,"memory":64})"));
  CHECK(j["peers"]["P"]["usage"]["streams_inbound"] == 1);
  CHECK(j["peers"]["P"]["usage"]["conns_inbound"] == 1);
  CHECK(j["peers"]["P"]["limits"]["memory"] == 2000);
  CHECK(j["protocols"]["/echo"]["usage"]["streams_outbound"] == 1);
  CHECK(j["protocols"]["/echo"]["peers"]["P"]["usage"]["streams_outbound"] == 1);
  CHECK(j["services"]["echo"]["peers"]["P"]["usage"]["streams_outbound"] == 1);
  CHECK(j["allowlisted_system"]["usage"]["conns_inbound"] == 0);
  // Oldest first: conn-2 (5 ms), then stream-4 (30 ms).
  CHECK(j["transient_holders"] ==
        json::parse(R"([{"scope":"conn-2","kind":"conn","dir":"outbound","age_ms":95,)"
                    R"("memory":64,"transient":"transient"},)"
                    R"({"scope":"stream-4","kind":"stream","dir":"inbound","age_ms":70,)"
                    R"("memory":0,"transient":"transient","peer":"P","conn":1}])"));
  CHECK(j["blocked"] == json::parse(R"([{"scope":"peer","resource":"streams_inbound",)"
                                    R"("dir":"inbound","count":1}])"));
  CHECK(j["counts"] ==
        json::parse(R"({"conns":2,"streams":2,"uncharged":0,"peers":1,)"
                    R"("protocols":1,"services":1,"transient_holders":2})"));
  CHECK(j["truncated"] == false);
  // A cap of 1: the oldest holder, the busiest peer; `truncated` says so.
  REQUIRE(s.open_stream(7, "R", out, 40 * ms).allowed());
  auto cut = to_json(s.stats_at(100 * ms, 1));
  CHECK(cut["truncated"] == true);
  CHECK(cut["transient_holders"].size() == 1);
  CHECK(cut["transient_holders"][0]["scope"] == "conn-2");
  CHECK(cut["peers"].size() == 1);
  CHECK(cut["peers"].contains("P"));
  CHECK(cut["counts"]["peers"] == 2);
}

TEST_CASE("a scope_limit denial as JSON") {
  scope_denial d;
  d.scope = "protocol:/x.peer:P";
  d.scope_kind = scope_class::protocol_peer;
  d.resource = scope_resource::streams_inbound;
  d.dir = in;
  d.limit = 4;
  d.current = 4;
  d.attempted = 1;
  d.stream = 9;
  d.conn = 3;
  d.peer = "P";
  d.protocol = "/x";
  CHECK(to_json(d) ==
        json::parse(R"({"code":"scope_limit","scope":"protocol:/x.peer:P",)"
                    R"("resource":"streams_inbound","dir":"inbound","limit":4,)"
                    R"("current":4,"attempted":1,"stream":9,"conn":3,"peer":"P",)"
                    R"("protocol":"/x"})"));
  scope_denial m;
  m.scope = "system";
  m.resource = scope_resource::memory;
  m.limit = 100;
  m.current = 90;
  m.attempted = 20;
  m.priority = 101;
  CHECK(to_json(m) == json::parse(R"({"code":"scope_limit","scope":"system",)"
                                  R"("resource":"memory","limit":100,"current":90,)"
                                  R"("attempted":20,"priority":101})"));
}
