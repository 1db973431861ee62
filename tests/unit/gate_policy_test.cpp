// The gate's rules without the actor: the order of checks for every event,
// the blocked-peer rule, the counters.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/gate_policy.hpp"
#include "actors/watcher/socket_watch.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms = 1000000;

/// Records what the policy reported, one line per outcome.
struct recording_sink {
  std::string named_peer;
  std::vector<std::string> lines;
  std::vector<denial> denials;

  std::string_view peer() const { return named_peer; }
  void admitted(conn_state state, direction dir, const std::optional<peer_id>& known,
                bool bypassed, time_ns at) {
    lines.push_back("admitted " + to_string(state) + " " + to_string(dir) +
                    (known ? " known=" + *known : "") + (bypassed ? " bypassed" : "") +
                    " at=" + std::to_string(at));
  }
  void denied(denial why, time_ns at) {
    lines.push_back("denied " + to_string(why.code) + " at=" + std::to_string(at));
    denials.push_back(std::move(why));
  }
  void released(const std::optional<peer_id>& known, std::string_view fixed_reason,
                time_ns at) {
    lines.push_back("released" + (known ? " known=" + *known : std::string{}) +
                    (fixed_reason.empty() ? "" : " reason=" + std::string{fixed_reason}) +
                    " at=" + std::to_string(at));
  }
};

/// One event through the policy; the sink records its outcome.
struct gate {
  gate_policy policy;
  recording_sink sink;

  explicit gate(const node_config& cfg = {}) : policy(cfg) {}

  verdict on(event_kind kind, connection_id conn, std::string peer = {},
             time_ns now = 0) {
    sink.named_peer = std::move(peer);
    return policy.decide(kind, conn, sink, now);
  }
  std::string last() const { return sink.lines.empty() ? "" : sink.lines.back(); }
  std::size_t outcomes() const { return sink.lines.size(); }
};

node_config with_memory(std::uint64_t max_bytes) {
  node_config c;
  c.memory.max_bytes = max_bytes;
  return c;
}

memory_sample sample(std::uint64_t rss, time_ns at) {
  memory_sample s;
  s.rss = rss;
  s.total = 1u << 30;
  s.at = at;
  return s;
}

/// The gate's dump part at `now`, as the gate actor writes it.
std::string gate_dump_text(gate_policy& policy, time_ns now, std::size_t subscribers) {
  return gate_dump_part(policy.stats(now), subscribers);
}

denial blocked_denial(connection_id conn, const peer_id& peer) {
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer;
  d.conn = conn;
  return d;
}

} // namespace

// -- pending_inbound ------------------------------------------------------------------

TEST_CASE("pending_inbound: the memory rule before the pending limit") {
  auto cfg = with_memory(1000);
  cfg.connection_limits.max_pending_inbound = 1;
  gate g{cfg};
  g.policy.on_memory_sample(sample(500, 0));
  CHECK(g.on(event_kind::pending_inbound, 1).allowed());
  CHECK(g.last() == "admitted pending inbound at=0");
  // Full, and over memory: the memory rule answers first.
  g.policy.on_memory_sample(sample(1001, 0));
  auto v = g.on(event_kind::pending_inbound, 2);
  REQUIRE(v.denied());
  CHECK(v.why == memory_limit_denial(1001, 1000, 2));
  CHECK(g.sink.denials.back() == v.why);
  // Under memory again: the limit answers.
  g.policy.on_memory_sample(sample(1000, 0));
  v = g.on(event_kind::pending_inbound, 3);
  CHECK(v.why == connection_limit_denial(limit_kind::pending_inbound, 1, 1, 3, ""));
  CHECK(g.policy.denials().of(denial_code::memory_limit) == 1);
  CHECK(g.policy.denials().of(limit_kind::pending_inbound) == 1);
  CHECK(g.policy.counts().pending_inbound == 1);
}

TEST_CASE("pending_inbound: a duplicate id is bad input, never a memory denial") {
  gate g{with_memory(1000)};
  g.policy.on_memory_sample(sample(10, 0));
  CHECK(g.on(event_kind::pending_inbound, 1).allowed());
  g.policy.on_memory_sample(sample(5000, 0));
  auto v = g.on(event_kind::pending_inbound, 1);
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "duplicate connection id 1");
  CHECK(g.outcomes() == 1); // only the first admission
  CHECK(g.policy.memory().denials() == 0);
  CHECK(g.policy.denials().of(denial_code::memory_limit) == 0);
  CHECK(g.policy.anomalies() == anomaly_counts{{anomaly::duplicate_connection, 1}});
}

// -- pending_outbound -----------------------------------------------------------------

TEST_CASE("pending_outbound: blocked, then bypass skips memory, then memory, then the "
          "limit") {
  auto cfg = with_memory(1000);
  cfg.connection_limits.max_pending_outbound = 0; // every counted dial is refused
  cfg.bypass_peers = {"T"};
  gate g{cfg};
  g.policy.on_memory_sample(sample(2000, 0)); // over memory
  g.policy.on_peer_blocked(peer_blocked{"B", 100 * ms}, 0);

  SUBCASE("a blocked peer is refused before memory and the limit") {
    auto v = g.on(event_kind::pending_outbound, 1, "B");
    REQUIRE(v.denied());
    CHECK(v.why == blocked_denial(1, "B"));
    CHECK(g.last() == "denied blocked at=0");
    CHECK(g.policy.memory().denials() == 0);
  }
  SUBCASE("a bypassed peer skips the memory rule and the limit") {
    CHECK(g.on(event_kind::pending_outbound, 1, "T").allowed());
    CHECK(g.last() == "admitted pending outbound bypassed at=0");
    CHECK(g.policy.memory().denials() == 0);
    CHECK(g.policy.counts().bypassed == 1);
    CHECK(g.policy.counts().pending_outbound == 0);
  }
  SUBCASE("another peer meets the memory rule before the limit") {
    auto v = g.on(event_kind::pending_outbound, 1, "Q");
    CHECK(v.why == memory_limit_denial(2000, 1000, 1));
    g.policy.on_memory_sample(sample(1000, 0));
    v = g.on(event_kind::pending_outbound, 2, "Q");
    CHECK(v.why == connection_limit_denial(limit_kind::pending_outbound, 0, 0, 2, "Q"));
  }
  SUBCASE("a dial to an address only meets the memory rule") {
    auto v = g.on(event_kind::pending_outbound, 1, "");
    CHECK(v.why == memory_limit_denial(2000, 1000, 1));
  }
  CHECK(g.policy.counts().pending_inbound == 0);
}

TEST_CASE("pending_outbound: a duplicate id of a blocked peer is bad input") {
  gate g;
  CHECK(g.on(event_kind::pending_outbound, 1, "B").allowed());
  CHECK(g.on(event_kind::established_outbound, 1, "B").allowed());
  g.policy.on_peer_blocked(peer_blocked{"B", 100 * ms}, 0);
  auto v = g.on(event_kind::pending_outbound, 1, "B");
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "duplicate connection id 1");
  CHECK(g.policy.denials().of(denial_code::blocked) == 0);
  CHECK(g.policy.counts().established_outbound == 1);
}

TEST_CASE("pending_outbound: a duplicate of a pending id of a blocked peer is bad input, "
          "and the first keeps its slot") {
  gate g;
  CHECK(g.on(event_kind::pending_outbound, 1, "B").allowed());
  g.policy.on_peer_blocked(peer_blocked{"B", 100 * ms}, 0);
  auto v = g.on(event_kind::pending_outbound, 1, "B");
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "duplicate connection id 1");
  CHECK(g.policy.denials().of(denial_code::blocked) == 0);
  CHECK(g.policy.counts().pending_outbound == 1);
  // The first connection is still pending: its establishment is the one refused.
  auto e = g.on(event_kind::established_outbound, 1, "B");
  CHECK(e.why == blocked_denial(1, "B"));
  CHECK(g.policy.counts().pending_outbound == 0);
}

// -- established_* ----------------------------------------------------------------------

TEST_CASE("established: blocked, then bypass, the direction's limit, per-peer, total") {
  node_config cfg = with_memory(1000);
  cfg.connection_limits.max_established_inbound = 2;
  cfg.connection_limits.max_established_outbound = 10;
  cfg.connection_limits.max_established_per_peer = 1;
  cfg.connection_limits.max_established_total = 2;
  cfg.bypass_peers = {"T"};
  gate g{cfg};
  g.policy.on_memory_sample(sample(5000, 0)); // established events ignore memory
  CHECK(g.on(event_kind::established_inbound, 1, "A").allowed());
  CHECK(g.last() == "admitted established inbound at=0");
  CHECK(g.on(event_kind::established_inbound, 2, "B").allowed());
  // The direction's limit (2 inbound) comes before per-peer and total.
  auto v = g.on(event_kind::established_inbound, 3, "A");
  CHECK(v.why == connection_limit_denial(limit_kind::established_inbound, 2, 2, 3, "A"));
  // Outbound: per-peer (A has 1) before total (2 of 2).
  v = g.on(event_kind::established_outbound, 4, "A");
  CHECK(v.why == connection_limit_denial(limit_kind::established_per_peer, 1, 1, 4, "A"));
  v = g.on(event_kind::established_outbound, 5, "C");
  CHECK(v.why == connection_limit_denial(limit_kind::established_total, 2, 2, 5, "C"));
  // A bypassed peer passes every limit.
  CHECK(g.on(event_kind::established_outbound, 6, "T").allowed());
  CHECK(g.last() == "admitted established outbound bypassed at=0");
  // A blocked peer is refused first, whatever the limits say.
  g.policy.on_peer_blocked(peer_blocked{"C", 100 * ms}, 0);
  v = g.on(event_kind::established_outbound, 7, "C");
  CHECK(v.why == blocked_denial(7, "C"));
  CHECK(g.policy.denials().of(limit_kind::established_inbound) == 1);
  CHECK(g.policy.denials().of(limit_kind::established_per_peer) == 1);
  CHECK(g.policy.denials().of(limit_kind::established_total) == 1);
  CHECK(g.policy.denials().of(denial_code::blocked) == 1);
  CHECK(g.policy.denials().of(denial_code::memory_limit) == 0);
}

TEST_CASE("established: a blocked peer's pending connection gives back its slot") {
  node_config cfg;
  cfg.connection_limits.max_pending_inbound = 1;
  gate g{cfg};
  CHECK(g.on(event_kind::pending_inbound, 1).allowed());
  g.policy.on_peer_blocked(peer_blocked{"B", 100 * ms}, 0);
  auto v = g.on(event_kind::established_inbound, 1, "B", 1 * ms);
  CHECK(v.why == blocked_denial(1, "B"));
  CHECK(g.last() == "denied blocked at=1000000");
  CHECK(g.policy.counts() == admission_counts{});
  // The slot is free again, and the id unknown: its close is an anomaly.
  CHECK(g.on(event_kind::pending_inbound, 2).allowed());
  CHECK(g.on(event_kind::connection_closed, 1, "B").kind == verdict_kind::ok);
  CHECK(g.policy.anomalies() == anomaly_counts{{anomaly::unknown_connection, 1}});
}

// -- failures and close -----------------------------------------------------------------

TEST_CASE("failures free a pending slot with a fixed reason; close keeps its own") {
  gate g;
  CHECK(g.on(event_kind::pending_outbound, 1, "D").allowed());
  CHECK(g.on(event_kind::dial_failure, 1).kind == verdict_kind::ok);
  CHECK(g.last() == "released known=D reason=dial failure at=0");
  CHECK(g.on(event_kind::pending_inbound, 2).allowed());
  CHECK(g.on(event_kind::listen_failure, 2, {}, 5).kind == verdict_kind::ok);
  CHECK(g.last() == "released known= reason=listen failure at=5");
  CHECK(g.on(event_kind::established_inbound, 3, "E").allowed());
  // A close naming the connection's own peer: no known peer, the event's reason.
  CHECK(g.on(event_kind::connection_closed, 3, "E", 7).kind == verdict_kind::ok);
  CHECK(g.last() == "released at=7");
  // A close without its peer: the peer the connection had.
  CHECK(g.on(event_kind::established_inbound, 4, "F").allowed());
  CHECK(g.on(event_kind::connection_closed, 4, "").kind == verdict_kind::ok);
  CHECK(g.last() == "released known=F at=0");
  CHECK(g.policy.counts() == admission_counts{});
  // Unknown ids: nothing released, counted.
  auto before = g.outcomes();
  CHECK(g.on(event_kind::dial_failure, 9).kind == verdict_kind::ok);
  CHECK(g.on(event_kind::connection_closed, 9, "X").kind == verdict_kind::ok);
  CHECK(g.outcomes() == before);
  CHECK(g.policy.anomalies() == anomaly_counts{{anomaly::unknown_connection, 2}});
}

TEST_CASE("a failure of the wrong kind keeps the connection and is counted") {
  gate g;
  CHECK(g.on(event_kind::pending_inbound, 1).allowed());
  CHECK(g.on(event_kind::dial_failure, 1).kind == verdict_kind::ok);
  CHECK(g.outcomes() == 1);
  CHECK(g.policy.counts().pending_inbound == 1);
  CHECK(g.policy.anomalies() == anomaly_counts{{anomaly::failure_wrong_state, 1}});
}

// -- the blocked-peer rule
// -----------------------------------------------------------------

TEST_CASE("a blocked peer is denied with `blocked`, exactly, at every stage") {
  gate g;
  g.policy.on_peer_blocked(peer_blocked{"P", 10 * ms}, 0);
  CHECK(g.policy.blocked_peers(0) == 1);
  auto v = g.on(event_kind::pending_outbound, 1, "P");
  REQUIRE(v.denied());
  denial expected;
  expected.code = denial_code::blocked;
  expected.peer = "P";
  expected.conn = 1;
  CHECK(v.why == expected);
  CHECK(v.why->limit == 0);
  CHECK(v.why->current == 0);
  CHECK(v.why->retry_after_ms == 0);
  CHECK(g.on(event_kind::established_inbound, 2, "P").why == blocked_denial(2, "P"));
  CHECK(g.on(event_kind::established_outbound, 3, "P").why == blocked_denial(3, "P"));
  CHECK(g.sink.denials == std::vector<denial>{blocked_denial(1, "P"),
                                              blocked_denial(2, "P"),
                                              blocked_denial(3, "P")});
  // Other peers, and inbound dials before a peer is known, are not affected.
  CHECK(g.on(event_kind::pending_inbound, 4).allowed());
  CHECK(g.on(event_kind::established_inbound, 4, "Q").allowed());
  CHECK(g.policy.denials().of(denial_code::blocked) == 3);
  CHECK(g.policy.counts().established_inbound == 1);
}

TEST_CASE("a bypassed peer is never blocked") {
  node_config cfg;
  cfg.bypass_peers = {"T"};
  gate g{cfg};
  g.policy.on_peer_blocked(peer_blocked{"T", 10 * ms}, 0);
  CHECK(g.on(event_kind::pending_outbound, 1, "T").allowed());
  CHECK(g.on(event_kind::established_outbound, 1, "T").allowed());
  CHECK(g.on(event_kind::established_inbound, 2, "T").allowed());
  // Bypassed later: no longer refused; removed from the set: refused again.
  g.policy.on_peer_blocked(peer_blocked{"U", 10 * ms}, 0);
  CHECK(g.on(event_kind::established_inbound, 3, "U").denied());
  CHECK(g.policy.add_bypass("U").kind == verdict_kind::ok);
  CHECK(g.on(event_kind::established_inbound, 4, "U").allowed());
  CHECK(g.policy.remove_bypass("U").kind == verdict_kind::ok);
  CHECK(g.on(event_kind::established_inbound, 5, "U").why == blocked_denial(5, "U"));
  CHECK(g.policy.denials().of(denial_code::blocked) == 2);
}

TEST_CASE("the block ends when the watcher's cooldown does") {
  // The watcher blocks a peer past its misbehaviour threshold until
  // now + cooldown_ms.
  watcher_config wc;
  wc.misbehaviour_threshold = 1;
  wc.cooldown_ms = 250;
  socket_watch watcher;
  watcher.configure(wc);
  CHECK(watcher.on_violation("P", "bad_frame", 10 * ms).block.empty());
  auto actions = watcher.on_violation("P", "bad_frame", 20 * ms);
  REQUIRE(actions.block.size() == 1);
  auto b = actions.block[0];
  CHECK(b.peer == "P");
  CHECK(b.until == 20 * ms + 250 * ms);

  gate g;
  g.policy.on_peer_blocked(b, 20 * ms);
  CHECK(g.on(event_kind::established_inbound, 1, "P", 20 * ms).why ==
        blocked_denial(1, "P"));
  CHECK(g.on(event_kind::established_inbound, 2, "P", b.until - 1).why ==
        blocked_denial(2, "P"));
  CHECK(g.policy.blocked_peers(b.until - 1) == 1);
  CHECK(g.on(event_kind::established_inbound, 3, "P", b.until).allowed());
  CHECK(g.policy.blocked_peers(b.until) == 0);
  // A block that ended before it arrived blocks nothing.
  g.policy.on_peer_blocked(peer_blocked{"Q", 30 * ms}, 30 * ms);
  CHECK(g.policy.blocked_peers(30 * ms) == 0);
  CHECK(g.on(event_kind::established_inbound, 4, "Q", 30 * ms).allowed());
  // A later block of the same peer extends it; an earlier one does not shorten it.
  g.policy.on_peer_blocked(peer_blocked{"P", b.until + 100 * ms}, b.until);
  g.policy.on_peer_blocked(peer_blocked{"P", b.until + 10 * ms}, b.until);
  CHECK(g.on(event_kind::established_inbound, 5, "P", b.until + 50 * ms).denied());
  CHECK(g.on(event_kind::established_inbound, 6, "P", b.until + 100 * ms).allowed());
}

// -- the rest
// -------------------------------------------------------------------------------

TEST_CASE("a config update replaces limits, bypass set and memory rule; keeps the rest") {
  gate g;
  CHECK(g.on(event_kind::established_inbound, 1, "A").allowed());
  g.policy.on_peer_blocked(peer_blocked{"B", 100 * ms}, 0);
  node_config cfg = with_memory(1000);
  cfg.connection_limits.max_established_inbound = 1;
  cfg.bypass_peers = {"B"};
  g.policy.configure(cfg);
  CHECK(g.policy.limits().limits() == cfg.connection_limits);
  CHECK(g.policy.bypass_peers() == std::vector<peer_id>{"B"});
  CHECK(g.policy.memory().config().max_bytes == 1000);
  CHECK(g.policy.counts().established_inbound == 1);
  CHECK(g.on(event_kind::established_inbound, 2, "C").why ==
        connection_limit_denial(limit_kind::established_inbound, 1, 1, 2, "C"));
  CHECK(g.on(event_kind::established_inbound, 3, "B").allowed()); // bypassed now
  g.policy.configure(node_config{});
  CHECK(g.on(event_kind::established_inbound, 4, "B").why == blocked_denial(4, "B"));
}

TEST_CASE("bad entries and reported anomalies are counted with the limits' own") {
  gate g;
  auto v = g.policy.refuse_bad_entry();
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "a batch event refers to texts the batch lacks");
  v = g.on(static_cast<event_kind>(99), 1);
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "unknown event kind in a batch");
  CHECK(g.outcomes() == 0);
  g.policy.on_anomaly(anomaly::bad_frame);
  g.on(event_kind::connection_closed, 5);
  CHECK(g.policy.anomalies() == anomaly_counts{{anomaly::bad_batch_entry, 2},
                                               {anomaly::bad_frame, 1},
                                               {anomaly::unknown_connection, 1}});
  CHECK(g.policy.add_bypass("").kind == verdict_kind::error);
  CHECK(g.policy.anomalies()[anomaly::bad_input] == 1);
}

TEST_CASE("the gate's dump part: limits, memory and anomalies, byte for byte") {
  node_config cfg = with_memory(1000);
  cfg.connection_limits.max_pending_inbound = 1;
  cfg.bypass_peers = {"T", "S"};
  gate g{cfg};
  g.policy.on_memory_sample(sample(500, 0));
  CHECK(g.on(event_kind::pending_inbound, 1).allowed());
  CHECK(g.on(event_kind::pending_inbound, 2).denied());
  CHECK(g.on(event_kind::established_outbound, 3, "T").allowed());
  g.policy.on_peer_blocked(peer_blocked{"P", 100 * ms}, 0);
  CHECK(g.on(event_kind::established_outbound, 4, "P").denied());
  g.policy.on_anomaly(anomaly::bad_frame);
  g.on(event_kind::connection_closed, 9);
  CHECK(gate_dump_text(g.policy, 2 * ms, 3) ==
        R"({"anomalies":{"bad_frame":1,"unknown_connection":1},)"
        R"("limits":{"blocked_peers":1,"bypass_peers":["S","T"],)"
        R"("config":{"max_pending_inbound":1},)"
        R"("counts":{"bypassed":1,"established_inbound":0,"established_outbound":0,)"
        R"("pending_inbound":1,"pending_outbound":0},)"
        R"("denials":{"blocked":1,"connection_limit":{"by_kind":{"pending_inbound":1},)"
        R"("total":1}},"subscribers":3,"would_deny":{}},)"
        R"("memory":{"active":true,"age_ms":2,"denials":0,"effective_max_bytes":1000,)"
        R"("hysteresis_active":false,"last_sample":{"at_ms":0,"rss":500,)"
        R"("total":1073741824},"max_source":"max_bytes","pressure":0.5,)"
        R"("sample_interval_ms":100,"stale":false,"stale_admits":0,"stale_denials":0,)"
        R"("stale_policy":"fail_open","would_denials":0}})");
}
