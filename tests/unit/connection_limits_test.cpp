// The connection-limits core against the scenarios of DESIGN §4.
#include <doctest/doctest.h>

#include "actors/gate/connection_limits.hpp"

using namespace rcmgr;

namespace {

connection_limits_config limits_with(std::uint64_t connection_limits_config::*field,
                                     std::uint64_t value) {
  connection_limits_config cfg;
  cfg.*field = value;
  return cfg;
}

void check_limit_denial(const admission& a, limit_kind kind, std::uint64_t limit,
                        std::uint64_t current, connection_id conn, const peer_id& peer) {
  REQUIRE(a.result.kind == verdict_kind::deny);
  CHECK(a.result.why->code == denial_code::connection_limit);
  CHECK(a.result.why->kind == kind);
  CHECK(a.result.why->limit == limit);
  CHECK(a.result.why->current == current);
  CHECK(a.result.why->conn == conn);
  CHECK(a.result.why->peer == peer);
}

} // namespace

TEST_CASE("L pending outbound are allowed and the next is denied with limit L") {
  for (std::uint64_t limit = 1; limit <= 9; ++limit) {
    CAPTURE(limit);
    connection_limits core{
        limits_with(&connection_limits_config::max_pending_outbound, limit)};
    for (connection_id c = 1; c <= limit; ++c)
      CHECK(core.on_pending_outbound(c, "peerA").result.kind == verdict_kind::allow);
    auto next = core.on_pending_outbound(limit + 1, "peerA");
    check_limit_denial(next, limit_kind::pending_outbound, limit, limit, limit + 1,
                       "peerA");
    CHECK(core.counts().pending_outbound == limit);
  }
}

TEST_CASE("a limit of 0 denies everything") {
  connection_limits core{limits_with(&connection_limits_config::max_pending_inbound, 0)};
  check_limit_denial(core.on_pending_inbound(1), limit_kind::pending_inbound, 0, 0, 1,
                     "");
  CHECK(core.size() == 0);
}

TEST_CASE("a bypassed peer dials past a full pending-outbound limit, another does not") {
  connection_limits core{limits_with(&connection_limits_config::max_pending_outbound, 2)};
  REQUIRE(core.add_bypass("trusted").kind == verdict_kind::ok);
  CHECK(core.on_pending_outbound(1, "other").result.allowed());
  CHECK(core.on_pending_outbound(2, "other").result.allowed());
  auto trusted = core.on_pending_outbound(3, "trusted");
  CHECK(trusted.result.allowed());
  CHECK(trusted.bypassed);
  check_limit_denial(core.on_pending_outbound(4, "other"), limit_kind::pending_outbound,
                     2, 2, 4, "other");
  auto c = core.counts();
  CHECK(c.pending_outbound == 2);
  CHECK(c.bypassed == 1);
  CHECK(core.size() == 3);
}

TEST_CASE("L established inbound are allowed and the next is denied, carrying the peer") {
  for (std::uint64_t limit = 1; limit <= 5; ++limit) {
    connection_limits core{
        limits_with(&connection_limits_config::max_established_inbound, limit)};
    for (connection_id c = 1; c <= limit; ++c) {
      REQUIRE(core.on_pending_inbound(c).result.allowed());
      CHECK(core.on_established(c, "p" + std::to_string(c), direction::inbound)
                .result.allowed());
    }
    REQUIRE(core.on_pending_inbound(100).result.allowed());
    auto next = core.on_established(100, "late-peer", direction::inbound);
    check_limit_denial(next, limit_kind::established_inbound, limit, limit, 100,
                       "late-peer");
    // The denied connection left pending too: its slot is free.
    CHECK(core.counts().pending_inbound == 0);
    CHECK(core.counts().established_inbound == limit);
    CHECK_FALSE(core.contains(100));
  }
}

TEST_CASE("per-peer and total limits count both directions") {
  connection_limits_config cfg;
  cfg.max_established_per_peer = 2;
  cfg.max_established_total = 3;
  connection_limits core{cfg};
  CHECK(core.on_established(1, "A", direction::inbound).result.allowed());
  CHECK(core.on_established(2, "A", direction::outbound).result.allowed());
  check_limit_denial(core.on_established(3, "A", direction::inbound),
                     limit_kind::established_per_peer, 2, 2, 3, "A");
  check_limit_denial(core.on_established(4, "A", direction::outbound),
                     limit_kind::established_per_peer, 2, 2, 4, "A");
  CHECK(core.on_established(5, "B", direction::outbound).result.allowed());
  check_limit_denial(core.on_established(6, "C", direction::inbound),
                     limit_kind::established_total, 3, 3, 6, "C");
  CHECK(core.established_of("A") == 2);
  CHECK(core.established_of("B") == 1);
  CHECK(core.established_of("C") == 0);
}

TEST_CASE("the direction limit is checked before per-peer, per-peer before total") {
  connection_limits_config cfg;
  cfg.max_established_outbound = 1;
  cfg.max_established_per_peer = 1;
  cfg.max_established_total = 1;
  connection_limits core{cfg};
  CHECK(core.on_established(1, "A", direction::outbound).result.allowed());
  check_limit_denial(core.on_established(2, "A", direction::outbound),
                     limit_kind::established_outbound, 1, 1, 2, "A");
  check_limit_denial(core.on_established(3, "A", direction::inbound),
                     limit_kind::established_per_peer, 1, 1, 3, "A");
  check_limit_denial(core.on_established(4, "B", direction::inbound),
                     limit_kind::established_total, 1, 1, 4, "B");
}

TEST_CASE("16 failed dials with limit 16, then 16 new dials are allowed") {
  connection_limits core{
      limits_with(&connection_limits_config::max_pending_outbound, 16)};
  for (connection_id c = 1; c <= 16; ++c)
    REQUIRE(core.on_pending_outbound(c, "").result.allowed());
  CHECK(core.on_pending_outbound(17, "").result.denied());
  for (connection_id c = 1; c <= 16; ++c) {
    auto a = core.on_failure(c, direction::outbound);
    CHECK(a.result.kind == verdict_kind::ok);
    CHECK(a.changed);
  }
  CHECK(core.counts().pending_outbound == 0);
  for (connection_id c = 101; c <= 116; ++c)
    CHECK(core.on_pending_outbound(c, "").result.allowed());
  CHECK(core.on_pending_outbound(117, "").result.denied());
  CHECK(core.anomalies().empty());
}

TEST_CASE(
    "a listen failure frees a pending inbound slot; a mismatched failure does not") {
  connection_limits core{limits_with(&connection_limits_config::max_pending_inbound, 1)};
  REQUIRE(core.on_pending_inbound(1).result.allowed());
  auto wrong = core.on_failure(1, direction::outbound);
  CHECK_FALSE(wrong.changed);
  CHECK(core.counts().pending_inbound == 1);
  CHECK(core.anomalies()[anomaly::failure_wrong_state] == 1);
  CHECK(core.on_failure(1, direction::inbound).changed);
  CHECK(core.on_pending_inbound(2).result.allowed());
}

TEST_CASE("closing an unknown id or closing twice changes no count") {
  connection_limits core;
  REQUIRE(core.on_pending_inbound(1).result.allowed());
  REQUIRE(core.on_established(1, "A", direction::inbound).result.allowed());
  REQUIRE(core.on_established(2, "B", direction::outbound).result.allowed());
  auto before = core.counts();
  auto unknown = core.on_closed(99, "");
  CHECK(unknown.result.kind == verdict_kind::ok);
  CHECK_FALSE(unknown.changed);
  CHECK(core.counts() == before);
  CHECK(core.anomalies()[anomaly::unknown_connection] == 1);
  auto first = core.on_closed(1, "A");
  CHECK(first.changed);
  CHECK_FALSE(first.peer); // the event named the connection's own peer: no copy
  auto second = core.on_closed(1, "A");
  CHECK_FALSE(second.changed);
  auto c = core.counts();
  CHECK(c.established_inbound == 0);
  CHECK(c.established_outbound == 1);
  CHECK(core.anomalies()[anomaly::unknown_connection] == 2);
  CHECK(core.established_of("A") == 0);
}

TEST_CASE("a duplicate id is refused without changing any count") {
  connection_limits core;
  REQUIRE(core.on_pending_inbound(1).result.allowed());
  REQUIRE(core.on_established(2, "A", direction::outbound).result.allowed());
  auto before = core.counts();
  auto dup_pending = core.on_pending_outbound(1, "A");
  CHECK(dup_pending.result.kind == verdict_kind::error);
  CHECK(dup_pending.result.error == "duplicate connection id 1");
  CHECK(core.on_pending_inbound(2).result.kind == verdict_kind::error);
  CHECK(core.on_established(2, "A", direction::outbound).result.kind ==
        verdict_kind::error);
  CHECK(core.counts() == before);
  CHECK(core.established_of("A") == 1);
  CHECK(core.anomalies()[anomaly::duplicate_connection] == 3);
}

TEST_CASE("bypassed connections are tracked but not counted") {
  connection_limits_config cfg;
  cfg.max_established_inbound = 1;
  cfg.max_established_per_peer = 1;
  cfg.max_established_total = 1;
  connection_limits core{cfg};
  core.add_bypass("trusted");
  for (connection_id c = 1; c <= 5; ++c) {
    auto a = core.on_established(c, "trusted", direction::inbound);
    CHECK(a.result.allowed());
    CHECK(a.bypassed);
  }
  CHECK(core.on_established(10, "A", direction::inbound).result.allowed());
  auto c = core.counts();
  CHECK(c.established_inbound == 1);
  CHECK(c.bypassed == 5);
  CHECK(core.established_of("trusted") == 0);
  // Removing the bypass does not turn live connections into counted ones.
  CHECK(core.remove_bypass("trusted").kind == verdict_kind::ok);
  CHECK(core.on_closed(3, "trusted").bypassed);
  CHECK(core.counts().bypassed == 4);
  CHECK(core.on_established(11, "trusted", direction::inbound).result.denied());
}

TEST_CASE("a lowered limit keeps existing connections and denies new ones") {
  connection_limits core{
      limits_with(&connection_limits_config::max_established_outbound, 5)};
  for (connection_id c = 1; c <= 5; ++c)
    REQUIRE(core.on_established(c, "p" + std::to_string(c), direction::outbound)
                .result.allowed());
  core.set_limits(limits_with(&connection_limits_config::max_established_outbound, 2));
  CHECK(core.counts().established_outbound == 5);
  check_limit_denial(core.on_established(6, "x", direction::outbound),
                     limit_kind::established_outbound, 2, 5, 6, "x");
  for (connection_id c = 1; c <= 3; ++c)
    core.on_closed(c, "");
  check_limit_denial(core.on_established(7, "x", direction::outbound),
                     limit_kind::established_outbound, 2, 2, 7, "x");
  core.on_closed(4, "");
  CHECK(core.on_established(8, "x", direction::outbound).result.allowed());
}

TEST_CASE("the bypass set: add, remove, query, replace") {
  connection_limits core;
  CHECK(core.add_bypass("").kind == verdict_kind::error);
  core.add_bypass("b");
  core.add_bypass("a");
  core.add_bypass("a");
  CHECK(core.bypass_peers() == std::vector<peer_id>{"a", "b"});
  CHECK(core.is_bypassed("a"));
  core.remove_bypass("a");
  CHECK_FALSE(core.is_bypassed("a"));
  core.set_bypass_peers({"x", "y"});
  CHECK(core.bypass_peers() == std::vector<peer_id>{"x", "y"});
}

TEST_CASE("entries keep each peer id once and give it back with the last one") {
  connection_limits core;
  for (connection_id id = 1; id <= 4; ++id) {
    CHECK(core.on_pending_outbound(id, "PeerA").result.allowed());
    CHECK(core.on_established(id, "PeerA", direction::outbound).result.allowed());
  }
  CHECK(core.on_pending_inbound(5).result.allowed());
  CHECK(core.interned_peers() == 1);
  CHECK(core.established_of("PeerA") == 4);
  auto closed = core.on_closed(2, "");
  CHECK(closed.peer == "PeerA"); // the peer comes back from the entry
  CHECK(core.on_failure(5, direction::inbound).changed);
  for (connection_id id : {1, 3, 4})
    core.on_closed(id, "PeerA");
  CHECK(core.interned_peers() == 0);
  CHECK(core.established_of("PeerA") == 0);
  CHECK(core.size() == 0);
}

TEST_CASE("admission.peer is nothing when the event's own peer is the connection's") {
  connection_limits core;
  auto pending = core.on_pending_inbound(1);
  CHECK(pending.result.kind == verdict_kind::allow);
  CHECK_FALSE(pending.peer.has_value());
  auto established = core.on_established(1, "QmA", direction::inbound);
  CHECK(established.result.kind == verdict_kind::allow);
  CHECK(established.changed);
  CHECK_FALSE(established.peer.has_value());
  auto direct = core.on_established(2, "QmB", direction::outbound);
  CHECK(direct.result.kind == verdict_kind::allow);
  CHECK_FALSE(direct.peer.has_value());
  auto dial = core.on_pending_outbound(3, "QmC");
  CHECK(dial.result.kind == verdict_kind::allow);
  CHECK_FALSE(dial.peer.has_value());
  auto closed = core.on_closed(1, "QmA");
  CHECK(closed.result.kind == verdict_kind::ok);
  CHECK(closed.changed);
  CHECK_FALSE(closed.peer.has_value());
  CHECK(core.anomalies().empty());
  CHECK(core.size() == 2);
}

TEST_CASE("admission.peer is the known peer for a close without one") {
  connection_limits core;
  REQUIRE(core.on_pending_inbound(1).result.allowed());
  REQUIRE(core.on_established(1, "QmA", direction::inbound).result.allowed());
  auto closed = core.on_closed(1, "");
  CHECK(closed.result.kind == verdict_kind::ok);
  CHECK(closed.changed);
  REQUIRE(closed.peer.has_value());
  CHECK(*closed.peer == "QmA");
  CHECK(core.anomalies().empty());
  CHECK(core.size() == 0);
}

TEST_CASE("admission.peer is the known peer for a close naming another, counted") {
  connection_limits core;
  REQUIRE(core.on_established(1, "QmA", direction::outbound).result.allowed());
  auto closed = core.on_closed(1, "QmOther");
  CHECK(closed.result.kind == verdict_kind::ok);
  CHECK(closed.changed); // closed anyway
  REQUIRE(closed.peer.has_value());
  CHECK(*closed.peer == "QmA");
  CHECK(core.anomalies() == anomaly_counts{{anomaly::peer_mismatch, 1}});
  CHECK(core.size() == 0);
  CHECK(core.established_of("QmA") == 0);
}

TEST_CASE("admission.peer is an engaged empty id for a close naming a peer the "
          "pending inbound connection never had") {
  connection_limits core;
  REQUIRE(core.on_pending_inbound(1).result.allowed());
  auto closed = core.on_closed(1, "QmLate");
  CHECK(closed.result.kind == verdict_kind::ok);
  CHECK(closed.changed);
  REQUIRE(closed.peer.has_value());
  CHECK(*closed.peer == "");
  CHECK(core.anomalies().empty()); // not a mismatch: the core knew no peer
  CHECK(core.size() == 0);
}

TEST_CASE("admission.peer is the dialled peer for a dial failure") {
  connection_limits core;
  REQUIRE(core.on_pending_outbound(1, "QmDialled").result.allowed());
  auto failed = core.on_failure(1, direction::outbound);
  CHECK(failed.result.kind == verdict_kind::ok);
  CHECK(failed.changed);
  CHECK_FALSE(failed.bypassed);
  REQUIRE(failed.peer.has_value());
  CHECK(*failed.peer == "QmDialled");
  CHECK(core.anomalies().empty());
  CHECK(core.size() == 0);
  CHECK(core.interned_peers() == 0);
  // A dial to an address only: the known peer is empty, and still given.
  REQUIRE(core.on_pending_outbound(2, "").result.allowed());
  auto anonymous = core.on_failure(2, direction::outbound);
  CHECK(anonymous.changed);
  REQUIRE(anonymous.peer.has_value());
  CHECK(*anonymous.peer == "");
}
