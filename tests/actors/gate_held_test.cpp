// Held outcomes (actors/gate_actor.cpp): single events the gate reads
// together are published together, their replies wait for the publication,
// and nothing stays held whatever message the gate reads last. On the
// deterministic scheduler, where "read together" means queued before run().
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/gate/gate_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

// -- a client that records its replies in the order they arrive -------------------

struct client_args {
  gate_actor gate;
  std::vector<lifecycle_event> events;
  /// When set: on each reply, the client asks this tracker for the records
  /// of `peer` and logs what it finds.
  tracker_actor tracker;
  peer_id peer;
  std::vector<std::string>* log = nullptr;
};

template <class Event, class Handler>
void send_as_typed(caf::event_based_actor* self, const gate_actor& gate, Event ev,
                   Handler h) {
  self->request(gate, caf::infinite, std::move(ev)).then(h, [h](caf::error&) mutable {
    h(verdict::fail("request failed"));
  });
}

caf::behavior client(caf::event_based_actor* self, client_args a) {
  auto log = a.log;
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    auto& e = a.events[i];
    auto on_reply = [self, log, i, tracker = a.tracker, peer = a.peer](verdict v) {
      log->push_back("reply " + std::to_string(i) + " " + to_string(v.kind));
      if (tracker)
        self->request(tracker, caf::infinite, query_atom::value, peer)
            .then(
                [log](const std::vector<connection_record>& rs) {
                  for (auto& r : rs)
                    log->push_back("record " + std::to_string(r.conn) + " " +
                                   to_string(r.state) + " " + r.local + " " +
                                   (r.remote.empty() ? "-" : r.remote.front()));
                  if (rs.empty())
                    log->push_back("no record");
                },
                [log](caf::error&) { log->push_back("query failed"); });
    };
    switch (e.kind) {
    case event_kind::pending_inbound:
      send_as_typed(self, a.gate, pending_inbound{e.conn, e.local, e.remote.at(0)},
                    on_reply);
      break;
    case event_kind::established_inbound:
      send_as_typed(self, a.gate,
                    established_inbound{e.conn, e.peer, e.local, e.remote.at(0)},
                    on_reply);
      break;
    case event_kind::connection_closed:
      send_as_typed(self, a.gate, connection_closed{e.conn, e.peer, e.reason}, on_reply);
      break;
    default:
      FAIL_CHECK("the test client sends pending, established and closed only");
    }
  }
  return {[](get_atom) {}};
}

lifecycle_event pending(connection_id c) {
  lifecycle_event e;
  e.kind = event_kind::pending_inbound;
  e.conn = c;
  e.local = "/ip4/10.0.0.1/tcp/4001";
  e.remote = {"/ip4/10.1.0." + std::to_string(c) + "/tcp/40000"};
  return e;
}

lifecycle_event established(connection_id c, peer_id peer) {
  auto e = pending(c);
  e.kind = event_kind::established_inbound;
  e.peer = std::move(peer);
  return e;
}

lifecycle_event closed(connection_id c, peer_id peer) {
  lifecycle_event e;
  e.kind = event_kind::connection_closed;
  e.conn = c;
  e.peer = std::move(peer);
  e.reason = "done";
  return e;
}

/// Spawns a client for `events` and lets it send them: its requests are
/// queued at the gate, which has not run yet.
caf::actor spawn_client(actor_fixture& fx, const gate_actor& gate,
                        std::vector<lifecycle_event> events,
                        std::vector<std::string>* log, tracker_actor tracker = {},
                        peer_id peer = {}) {
  client_args a;
  a.gate = gate;
  a.events = std::move(events);
  a.tracker = std::move(tracker);
  a.peer = std::move(peer);
  a.log = log;
  auto c = fx.sys.spawn(client, std::move(a));
  fx.sched.prioritize(c);
  fx.sched.run_once();
  return c;
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "single events read together are published as one batch, and "
                  "their replies follow in order") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, limited(1, 10), &log);
  std::vector<std::string> replies;
  auto c =
      spawn_client(*this, gate, {pending(1), pending(2), established(1, "A")}, &replies);
  run();
  CHECK(log.lines == std::vector<std::string>{"batch 3", "admitted 1 pending inbound",
                                              "denied 2 pending_inbound connection_limit",
                                              "admitted 1 established inbound"});
  CHECK(replies ==
        std::vector<std::string>{"reply 0 allow", "reply 1 deny", "reply 2 allow"});
  stop(gate, rec, c);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a caller that has its verdict finds the outcome at the tracker, "
                  "with the event's texts") {
  auto [gate, tracker] = spawn_with_tracker(*this, limited(10, 10));
  std::vector<std::string> log;
  auto c =
      spawn_client(*this, gate, {pending(1), established(1, "A")}, &log, tracker, "A");
  // The gate reads the first event only. Had it answered already, the
  // client would now run first and ask the tracker, which would answer before
  // it hears the outcome (the test scheduler runs whom it is told to).
  sched.prioritize(gate);
  sched.run_once();
  if (sched.prioritize(c)) {
    sched.run_once();
    if (sched.prioritize(tracker))
      sched.run_once();
  }
  run();
  // The replies wait until both outcomes are published (the gate read both
  // events together), so even the first reply finds the established record.
  // Were the first reply sent before the outcomes, the query it causes would
  // reach the tracker first and find nothing.
  auto record = "record 1 established /ip4/10.0.0.1/tcp/4001 /ip4/10.1.0.1/tcp/40000";
  CHECK(log ==
        std::vector<std::string>{"reply 0 allow", "reply 1 allow", record, record});
  // The same once the connection is closed: the record is gone when the
  // reply to the close arrives.
  log.clear();
  auto c2 = spawn_client(*this, gate, {closed(1, "A")}, &log, tracker, "A");
  run();
  CHECK(log == std::vector<std::string>{"reply 0 ok", "no record"});
  stop(gate, tracker, c, c2);
}

TEST_CASE_FIXTURE(actor_fixture, "at most 64 outcomes are held") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, node_config{}, &log);
  std::vector<lifecycle_event> events;
  for (connection_id c = 1; c <= 70; ++c)
    events.push_back(pending(c));
  std::vector<std::string> replies;
  auto c = spawn_client(*this, gate, std::move(events), &replies);
  run();
  REQUIRE(log.lines.size() == 72); // 2 batch lines and 70 outcomes
  CHECK(log.lines[0] == "batch 64");
  CHECK(log.lines[1] == "admitted 1 pending inbound");
  CHECK(log.lines[64] == "admitted 64 pending inbound");
  CHECK(log.lines[65] == "batch 6");
  CHECK(log.lines[71] == "admitted 70 pending inbound");
  REQUIRE(replies.size() == 70);
  CHECK(replies.front() == "reply 0 allow");
  CHECK(replies.back() == "reply 69 allow");
  stop(gate, rec, c);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "what is held goes out when the last message read is not an event") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, node_config{}, &log);
  std::vector<std::string> replies;
  SUBCASE("a request") {
    auto c = spawn_client(*this, gate, {pending(1), pending(2)}, &replies);
    auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
    CHECK(counts.pending_inbound == 2);
    stop(c);
  }
  SUBCASE("a message the gate does not know") {
    auto c = spawn_client(*this, gate, {pending(1), pending(2)}, &replies);
    caf::anon_send(caf::actor_cast<caf::actor>(gate), std::string{"unknown"});
    run();
    stop(c);
  }
  SUBCASE("a memory sample") {
    auto c = spawn_client(*this, gate, {pending(1), pending(2)}, &replies);
    caf::anon_send(gate, memory_sample{});
    run();
    stop(c);
  }
  CHECK(log.lines == std::vector<std::string>{"batch 2", "admitted 1 pending inbound",
                                              "admitted 2 pending inbound"});
  CHECK(replies == std::vector<std::string>{"reply 0 allow", "reply 1 allow"});
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture, "a gate told to exit answers every request first") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, node_config{}, &log);
  std::vector<std::string> replies;
  auto c = spawn_client(*this, gate, {pending(1), pending(2), pending(3)}, &replies);
  caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
  run();
  // Every request has its answer (none hangs): the exit came after the
  // events, so they were decided, published and answered.
  CHECK(replies ==
        std::vector<std::string>{"reply 0 allow", "reply 1 allow", "reply 2 allow"});
  CHECK(log.lines == std::vector<std::string>{"batch 3", "admitted 1 pending inbound",
                                              "admitted 2 pending inbound",
                                              "admitted 3 pending inbound"});
  stop(rec, c);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a subscriber hears the events decided while it is subscribed") {
  outcome_log before, after;
  auto gate = spawn_gate(sys, node_config{});
  auto first = sys.spawn(recorder, &before);
  auto second = sys.spawn(recorder, &after);
  caf::anon_send(gate, subscribe_atom::value, first);
  run();
  std::vector<std::string> replies;
  auto c1 = spawn_client(*this, gate, {pending(1)}, &replies);
  caf::anon_send(gate, subscribe_atom::value, second);
  auto c2 = spawn_client(*this, gate, {pending(2)}, &replies);
  caf::anon_send(gate, unsubscribe_atom::value, lifecycle_listener{first});
  auto c3 = spawn_client(*this, gate, {pending(3)}, &replies);
  run();
  CHECK(before.lines == std::vector<std::string>{"admitted 1 pending inbound",
                                                 "admitted 2 pending inbound"});
  CHECK(after.lines == std::vector<std::string>{"admitted 2 pending inbound",
                                                "admitted 3 pending inbound"});
  CHECK(replies.size() == 3);
  stop(gate, first, second, c1, c2, c3);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a lifecycle batch is published after the single events held before "
                  "it") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(*this, node_config{}, &log);
  std::vector<std::string> replies;
  auto c = spawn_client(*this, gate, {pending(1), pending(2)}, &replies);
  lifecycle_batch b;
  batch_writer out{b};
  out.add(pending(3));
  out.add(pending(4));
  auto vs = ask<std::vector<verdict>>(gate, std::move(b));
  CHECK(vs.size() == 2);
  CHECK(log.lines == std::vector<std::string>{"batch 2", "admitted 1 pending inbound",
                                              "admitted 2 pending inbound", "batch 2",
                                              "admitted 3 pending inbound",
                                              "admitted 4 pending inbound"});
  CHECK(replies == std::vector<std::string>{"reply 0 allow", "reply 1 allow"});
  stop(gate, rec, c);
}
