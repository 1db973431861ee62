// The gate, the tracker and the state dump as actors, on the deterministic
// scheduler.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include "actors/dump/dump_merge.hpp"
#include "actors/dump/state_dump_actor.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

struct silent_state {
  std::vector<caf::typed_response_promise<std::string>> held;
};

/// A dump part that never answers (it holds the promise forever).
dump_part_source::behavior_type
silent_part(dump_part_source::stateful_pointer<silent_state> self, int) {
  return {
      [self](dump_part_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        self->state.held.push_back(rp);
        return rp;
      },
  };
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture, "the verdict reaches the asker with its full reason") {
  auto gate = spawn_gate(sys, limited(1, 1));
  CHECK(verdict_of(gate, pending_inbound{1, "l", "r"}).kind == verdict_kind::allow);
  auto v = verdict_of(gate, pending_inbound{2, "l", "r2"});
  REQUIRE(v.kind == verdict_kind::deny);
  CHECK(v.why == connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, ""));
  CHECK(verdict_of(gate, established_inbound{1, "A", "l", "r"}).allowed());
  auto e = verdict_of(gate, established_inbound{3, "B", "l", "r"});
  CHECK(e.why == connection_limit_denial(limit_kind::established_inbound, 1, 1, 3, "B"));
  auto dup = verdict_of(gate, pending_inbound{1, "l", "r"});
  CHECK(dup.kind == verdict_kind::error);
  CHECK(dup.error == "duplicate connection id 1");
  CHECK(verdict_of(gate, connection_closed{77, "", ""}).kind == verdict_kind::ok);
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.established_inbound == 1);
  CHECK(counts.pending_inbound == 0);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture, "subscribers see the outcomes, in order") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, limited(1, 10), &log);
  verdict_of(gate, pending_inbound{1, "l", "r"});
  verdict_of(gate, pending_inbound{2, "l", "r"});
  verdict_of(gate, established_inbound{1, "A", "l", "r"});
  verdict_of(gate, pending_outbound{3, "B", {"addr"}});
  verdict_of(gate, dial_failure{3});
  verdict_of(gate, connection_closed{1, "A", "done"});
  verdict_of(gate, connection_closed{1, "A", "again"}); // unknown now: nothing published
  CHECK(log.lines == std::vector<std::string>{
                         "admitted 1 pending inbound",
                         "denied 2 pending_inbound connection_limit",
                         "admitted 1 established inbound", "admitted 3 pending outbound",
                         "released 3 dial_failure", "released 1 connection_closed"});
  // A subscriber that goes away is dropped.
  stop(rec);
  verdict_of(gate, pending_inbound{4, "l", "r"});
  auto dump = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(dump["limits"]["subscribers"] == 0);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture, "the tracker keeps a record per connection") {
  auto [gate, tracker] = spawn_with_tracker(*this, node_config{});
  verdict_of(gate, pending_inbound{1, "/ip4/127.0.0.1/tcp/1", "/ip4/10.0.0.1/tcp/9"});
  advance(5ms);
  verdict_of(gate, established_inbound{1, "A", "", ""});
  verdict_of(gate, established_outbound{2, "A", "/dns/a/tcp/1"});
  verdict_of(gate, pending_outbound{3, "B", {"/dns/b/tcp/1", "/dns/b/tcp/2"}});
  auto of_a =
      ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"A"});
  REQUIRE(of_a.size() == 2);
  CHECK(of_a[0].conn == 1);
  CHECK(of_a[0].state == conn_state::established);
  CHECK(of_a[0].dir == direction::inbound);
  CHECK(of_a[0].local == "/ip4/127.0.0.1/tcp/1");
  CHECK(of_a[0].remote == std::vector<std::string>{"/ip4/10.0.0.1/tcp/9"});
  CHECK(of_a[0].established_at - of_a[0].pending_at == 5000000);
  CHECK(of_a[1].conn == 2);
  CHECK(of_a[1].dir == direction::outbound);
  CHECK(of_a[1].pending_at == -1);
  auto pending = ask<std::vector<connection_record>>(tracker, query_atom::value,
                                                     conn_state::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].remote == std::vector<std::string>{"/dns/b/tcp/1", "/dns/b/tcp/2"});
  CHECK(ask<admission_counts>(tracker, get_atom::value, counts_atom::value) ==
        ask<admission_counts>(gate, get_atom::value, counts_atom::value));
  stop(gate, tracker);
}

TEST_CASE_FIXTURE(actor_fixture, "the dump joins all parts") {
  auto [gate, tracker] = spawn_with_tracker(*this, limited(4, 4), tracker_options{2});
  auto dump = spawn_state_dump(sys, {{"gate", gate}, {"tracker", tracker}},
                               state_dump_options{100ms});
  run();
  for (connection_id c = 1; c <= 3; ++c)
    verdict_of(gate, established_inbound{c, "P", "", ""});
  verdict_of(gate, established_inbound{9, "P", "", ""});
  verdict_of(gate, established_inbound{10, "Q", "", ""}); // denied: 4 >= 4
  verdict_of(gate, connection_closed{99, "", ""});        // anomaly
  caf::anon_send(gate, anomaly_report{anomaly::bad_frame});
  auto doc = dump_of(dump);
  CHECK(doc["schema"] == 1);
  CHECK(doc["missing"] == nlohmann::json::array());
  for (auto& part : dump_part_names())
    CHECK_MESSAGE(doc.contains(part), part);
  auto& conns = doc["connections"];
  CHECK(conns["total"] == 4);
  CHECK(conns["established"]["inbound"] == 4);
  CHECK(conns["per_peer"]["P"]["established"] == 4);
  CHECK(conns["list"].size() == 2);
  CHECK(conns["list"][0]["conn"] == 1);
  CHECK(conns["truncated"] == true);
  CHECK(doc["limits"]["config"]["max_established_inbound"] == 4);
  CHECK(doc["limits"]["denials"]["connection_limit"]["by_kind"]["established_inbound"] ==
        1);
  CHECK(doc["anomalies"]["unknown_connection"] == 1);
  CHECK(doc["anomalies"]["bad_frame"] == 1);
  CHECK(doc["memory"]["active"] == false);
  stop(gate, tracker, dump);
}

TEST_CASE_FIXTURE(actor_fixture, "a silent part is reported missing after the timeout") {
  auto gate = spawn_gate(sys, node_config{});
  auto silent = sys.spawn(silent_part, 0);
  auto dump = spawn_state_dump(sys, {{"gate", gate}, {"watcher", silent}},
                               state_dump_options{250ms});
  run();
  auto handle = self->request(dump, caf::infinite, dump_atom::value);
  run();
  CHECK(self->mailbox().empty()); // still waiting for the silent part
  sched.trigger_timeouts();
  run();
  std::string text;
  handle.receive([&](const std::string& s) { text = s; },
                 [&](const caf::error& e) { FAIL(caf::to_string(e)); });
  auto doc = nlohmann::json::parse(text);
  CHECK(doc["missing"] == nlohmann::json::array({"watcher"}));
  CHECK(doc["limits"].is_object());
  CHECK(doc["watcher"].is_null());
  stop(gate, silent, dump);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a batch is decided in order, like the same events one by one") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, limited(1, 1), &log);
  lifecycle_batch batch;
  auto ev = [](event_kind k, connection_id c, peer_id p = {}) {
    lifecycle_event e;
    e.kind = k;
    e.conn = c;
    e.peer = std::move(p);
    return e;
  };
  batch_writer out{batch};
  for (auto& e :
       {ev(event_kind::pending_inbound, 1), ev(event_kind::pending_inbound, 2),
        ev(event_kind::established_inbound, 1, "A"),
        ev(event_kind::established_inbound, 3, "B"), ev(event_kind::connection_closed, 1),
        ev(event_kind::connection_closed, 1), ev(event_kind::pending_inbound, 4)})
    out.add(e);
  auto vs = ask<std::vector<verdict>>(gate, batch);
  REQUIRE(vs.size() == 7);
  CHECK(vs[0].kind == verdict_kind::allow);
  CHECK(vs[1].why == connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, ""));
  CHECK(vs[2].kind == verdict_kind::allow);
  CHECK(vs[3].why ==
        connection_limit_denial(limit_kind::established_inbound, 1, 1, 3, "B"));
  CHECK(vs[4].kind == verdict_kind::ok);
  CHECK(vs[5].kind == verdict_kind::ok);
  CHECK(vs[6].kind == verdict_kind::allow);
  // One message with the batch's six outcomes, in event order.
  CHECK(log.lines == std::vector<std::string>{
                         "batch 6", "admitted 1 pending inbound",
                         "denied 2 pending_inbound connection_limit",
                         "admitted 1 established inbound",
                         "denied 3 established_inbound connection_limit",
                         "released 1 connection_closed", "admitted 4 pending inbound"});
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture, "the tracker follows a batch's outcomes") {
  auto [gate, tracker] = spawn_with_tracker(*this, limited(8, 8));
  lifecycle_batch batch;
  batch_writer out{batch};
  for (connection_id c = 1; c <= 5; ++c) {
    lifecycle_event e;
    e.kind = event_kind::pending_inbound;
    e.conn = c;
    out.add(e);
    e.kind = event_kind::established_inbound;
    e.peer = "P" + std::to_string(c % 2);
    out.add(e);
  }
  lifecycle_event close;
  close.kind = event_kind::connection_closed;
  close.conn = 2;
  out.add(close);
  auto vs = ask<std::vector<verdict>>(gate, batch);
  REQUIRE(vs.size() == 11);
  auto counts = ask<admission_counts>(tracker, get_atom::value, counts_atom::value);
  CHECK(counts.established_inbound == 4);
  CHECK(counts.pending_inbound == 0);
  CHECK(counts == ask<admission_counts>(gate, get_atom::value, counts_atom::value));
  CHECK(ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"P1"})
            .size() == 3);
  // A malformed batch (order names an outcome the lists lack) changes no
  // record and is counted.
  outcome_batch bad;
  bad.order = {outcome_kind::admitted, outcome_kind::admitted};
  bad.admits.resize(1);
  bad.admits[0].conn = 99;
  caf::anon_send(tracker, bad);
  run();
  auto doc = nlohmann::json::parse(ask<std::string>(tracker, dump_part_atom::value));
  CHECK(doc["connections"]["inconsistencies"] == 1);
  CHECK(doc["connections"]["total"] == 4); // five established, one closed
  stop(gate, tracker);
}

TEST_CASE_FIXTURE(actor_fixture, "a peer id that is not UTF-8 does not break the dump") {
  auto [gate, tracker] = spawn_with_tracker(*this, limited(8, 8));
  CHECK(verdict_of(gate, pending_inbound{1, "", ""}).kind == verdict_kind::allow);
  CHECK(verdict_of(gate, established_inbound{1, "bad\xff", "", ""}).kind ==
        verdict_kind::allow);
  auto doc = nlohmann::json::parse(ask<std::string>(tracker, dump_part_atom::value));
  // The bad byte is written as U+FFFD; the tracker lives on.
  CHECK(doc["connections"]["per_peer"].contains("bad\xEF\xBF\xBD"));
  CHECK(doc["connections"]["list"][0]["peer"] == "bad\xEF\xBF\xBD");
  CHECK(ask<admission_counts>(tracker, get_atom::value, counts_atom::value)
            .established_inbound == 1);
  stop(gate, tracker);
}
