// The tracker's core: records, counts and per-peer counts kept as outcomes
// arrive, and the dump's `connections` part.
#include <doctest/doctest.h>

#include "actors/tracker/connection_registry.hpp"
#include "actors/tracker/tracker_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;

namespace {

admitted entered(connection_id conn, conn_state state, direction dir, peer_id peer = {},
                 bool bypassed = false, time_ns at = 0) {
  admitted x;
  x.conn = conn;
  x.state = state;
  x.dir = dir;
  x.peer = std::move(peer);
  x.bypassed = bypassed;
  x.at = at;
  return x;
}

released gone(connection_id conn) {
  released x;
  x.conn = conn;
  return x;
}

constexpr auto pending = conn_state::pending;
constexpr auto established = conn_state::established;
constexpr auto in = direction::inbound;
constexpr auto out = direction::outbound;

} // namespace

TEST_CASE("counts and per-peer counts follow every outcome") {
  connection_registry reg;
  reg.on_admitted(entered(1, pending, in, {}, false, 1000000));
  reg.on_admitted(entered(2, pending, out, "B"));
  reg.on_admitted(entered(3, established, in, "A")); // never pending: fine
  reg.on_admitted(entered(4, pending, in, {}, true));
  admission_counts c;
  c.pending_inbound = 1;
  c.pending_outbound = 1;
  c.established_inbound = 1;
  c.bypassed = 1;
  CHECK(reg.counts() == c);
  // 1 is established with its peer learned at the handshake.
  reg.on_admitted(entered(1, established, in, "A", false, 2000000));
  c.pending_inbound = 0;
  c.established_inbound = 2;
  CHECK(reg.counts() == c);
  auto j = to_json(reg.stats(10));
  CHECK(j["per_peer"] == nlohmann::json::parse(
                             R"({"A": {"pending": 0, "established": 2},
                                 "B": {"pending": 1, "established": 0}})"));
  CHECK(j["total"] == 4);
  CHECK(j["list"][0]["pending_at_ms"] == 1);
  CHECK(j["list"][0]["established_at_ms"] == 2);
  // A denied established event takes 2 out; a denied pending one is no record.
  denied d;
  d.conn = 2;
  d.event = event_kind::established_outbound;
  reg.on_denied(d);
  d.conn = 9;
  d.event = event_kind::pending_inbound;
  reg.on_denied(d);
  c.pending_outbound = 0;
  CHECK(reg.counts() == c);
  CHECK(to_json(reg.stats(10))["per_peer"].count("B") == 0); // no connection: no entry
  reg.on_released(gone(1));
  reg.on_released(gone(3));
  reg.on_released(gone(4));
  CHECK(reg.counts() == admission_counts{});
  CHECK(reg.size() == 0);
  CHECK(to_json(reg.stats(10))["per_peer"] == nlohmann::json::object());
  CHECK(reg.inconsistencies() == 0);
  reg.on_released(gone(1)); // again: unknown
  CHECK(reg.inconsistencies() == 1);
  CHECK(reg.counts() == admission_counts{});
}

TEST_CASE("the dump lists the lowest ids up to the cap") {
  connection_registry reg;
  for (connection_id id : {7, 3, 9, 1, 5})
    reg.on_admitted(entered(id, pending, in));
  auto j = to_json(reg.stats(3));
  REQUIRE(j["list"].size() == 3);
  CHECK(j["list"][0]["conn"] == 1);
  CHECK(j["list"][1]["conn"] == 3);
  CHECK(j["list"][2]["conn"] == 5);
  CHECK(j["truncated"] == true);
  CHECK(j["total"] == 5);
  CHECK(to_json(reg.stats(5))["truncated"] == false);
  CHECK(to_json(reg.stats(0))["list"] == nlohmann::json::array());
}

TEST_CASE("the dump text is exactly the JSON document, written directly") {
  connection_registry reg;
  CHECK(to_json_text(reg.stats(3)) == dump_text(to_json(reg.stats(3)))); // empty
  for (connection_id id = 1; id <= 40; ++id) {
    auto x = entered(id, pending, id % 3 == 0 ? out : in, "", id % 7 == 0, 1000000 * id);
    x.local = "127.0.0.1:4001";
    x.remote = {"10.0.0." + std::to_string(id) + ":5000", "quote\"back\\slash\n"};
    reg.on_admitted(x);
    if (id % 2 == 0) {
      // Peer ids that sort in interesting ways, with escapes and bad UTF-8.
      std::string peer = id % 4 == 0 ? "Qm" + std::to_string(id % 5) : "\xff\x01p";
      reg.on_admitted(entered(id, established, x.dir, peer, x.bypassed, 5000000 * id));
    }
  }
  reg.on_released(gone(4));
  reg.on_released(gone(1000)); // an inconsistency
  for (std::size_t cap : {0, 1, 10, 39, 1000})
    CHECK(to_json_text(reg.stats(cap)) == dump_text(to_json(reg.stats(cap))));
  auto j = nlohmann::json::parse(to_json_text(reg.stats(10)));
  CHECK(j["total"] == 39);
  CHECK(j["inconsistencies"] == 1);
  CHECK(j["truncated"] == true);
}

TEST_CASE("records keep each peer id and local address once, and give them back") {
  connection_registry reg;
  for (connection_id id = 1; id <= 6; ++id) {
    auto x = entered(id, pending, in, "", false, 1000000 * id);
    x.local = "/ip4/127.0.0.1/tcp/4001";
    x.remote = {"/ip4/10.0.0." + std::to_string(id) + "/tcp/5000"};
    reg.on_admitted(x);
    reg.on_admitted(entered(id, established, in, id % 2 ? "PeerOdd" : "PeerEven", false,
                            2000000 * id));
  }
  CHECK(reg.interned_texts() == 3); // two peers, one local address
  auto r = reg.find(5);
  REQUIRE(r.has_value());
  CHECK(r->conn == 5);
  CHECK(r->peer == "PeerOdd");
  CHECK(r->local == "/ip4/127.0.0.1/tcp/4001");
  CHECK(r->remote == std::vector<std::string>{"/ip4/10.0.0.5/tcp/5000"});
  CHECK(r->state == established);
  CHECK(r->pending_at == 5000000);
  CHECK(r->established_at == 10000000);
  CHECK_FALSE(reg.find(7).has_value());
  auto odd = reg.of_peer("PeerOdd");
  REQUIRE(odd.size() == 3);
  CHECK(odd[0].conn == 1);
  CHECK(odd[1].conn == 3);
  CHECK(odd[2].conn == 5);
  CHECK(reg.of_peer("PeerNone").empty());
  // A reused id starts a fresh record: the old peer is let go.
  reg.on_admitted(entered(2, pending, out, "PeerNew"));
  CHECK(reg.find(2)->peer == "PeerNew");
  CHECK(reg.find(2)->local == "");
  CHECK(reg.of_peer("PeerEven").size() == 2);
  for (connection_id id = 1; id <= 6; ++id)
    reg.on_released(gone(id));
  CHECK(reg.size() == 0);
  CHECK(reg.interned_texts() == 0);
  CHECK(reg.counts() == admission_counts{});
}
