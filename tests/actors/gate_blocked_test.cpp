// The blocked-peer rule through the actors: a `peer_blocked` makes the gate
// refuse the peer with a `blocked` denial until the block ends.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include "actors/gate/gate_actor.hpp"
#include "actors/watcher/socket_watcher_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

constexpr time_ns ms = 1000000;

denial blocked_denial(connection_id conn, const peer_id& peer) {
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer;
  d.conn = conn;
  return d;
}

nlohmann::json limits_of(actor_fixture& fx, const gate_actor& gate) {
  return nlohmann::json::parse(
      fx.ask<std::string>(gate, dump_part_atom::value))["limits"];
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "a peer_blocked makes the gate deny the peer with `blocked` until it "
                  "ends") {
  outcome_log log;
  node_config cfg;
  cfg.bypass_peers = {"T"};
  auto [gate, rec] = spawn_recorded(*this, cfg, &log);
  caf::anon_send(gate, peer_blocked{"P", 500 * ms}); // the virtual clock is at 0
  caf::anon_send(gate, peer_blocked{"T", 500 * ms});
  run();
  CHECK(limits_of(*this, gate)["blocked_peers"] == 2);
  auto v = verdict_of(gate, pending_outbound{1, "P", {"/p"}});
  REQUIRE(v.denied());
  CHECK(v.why == blocked_denial(1, "P"));
  CHECK(verdict_of(gate, established_inbound{2, "P", "/l", "/r"}).why ==
        blocked_denial(2, "P"));
  // A bypassed peer is never blocked; other peers are not affected.
  CHECK(verdict_of(gate, established_inbound{3, "T", "/l", "/r"}).allowed());
  CHECK(verdict_of(gate, established_inbound{4, "Q", "/l", "/r"}).allowed());
  advance(499ms);
  CHECK(verdict_of(gate, established_outbound{5, "P", "/p"}).why ==
        blocked_denial(5, "P"));
  advance(1ms);
  CHECK(verdict_of(gate, established_outbound{6, "P", "/p"}).allowed());
  CHECK(log.lines == std::vector<std::string>{
                         "denied 1 pending_outbound blocked",
                         "denied 2 established_inbound blocked",
                         "admitted 3 established inbound bypassed",
                         "admitted 4 established inbound",
                         "denied 5 established_outbound blocked",
                         "admitted 6 established outbound",
                     });
  auto limits = limits_of(*this, gate);
  CHECK(limits["denials"]["blocked"] == 3);
  CHECK(limits["blocked_peers"] == 0);
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "the watcher blocks a misbehaving peer at the gate for cooldown_ms") {
  auto gate = spawn_gate(sys, node_config{});
  watcher_config wc;
  wc.misbehaviour_threshold = 1;
  wc.cooldown_ms = 300;
  wc.refresh_interval_ms = 60000; // no refresh within the test
  auto watcher = spawn_socket_watcher(sys, wc, gate);
  run();
  advance(10ms);
  caf::anon_send(watcher, peer_violation{"P", "bad_frame"});
  caf::anon_send(watcher, peer_violation{"P", "bad_frame"}); // past the threshold
  run();
  CHECK(verdict_of(gate, established_inbound{1, "P", "/l", "/r"}).why ==
        blocked_denial(1, "P"));
  advance(299ms); // 1 ms before the block ends (it began at 10 ms)
  CHECK(verdict_of(gate, established_inbound{2, "P", "/l", "/r"}).why ==
        blocked_denial(2, "P"));
  advance(1ms);
  CHECK(verdict_of(gate, established_inbound{3, "P", "/l", "/r"}).allowed());
  stop(watcher, gate);
}
