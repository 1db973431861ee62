// The one-way forms (messages/oneway.hpp): the gate and the rate limiter
// answer `oneway<Event>` with an `event_verdict` carrying the caller's id and
// the verdict the request form gives; the gate's one-way verdict, like its
// reply, goes out after the outcome it depends on.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/gate/gate_actor.hpp"
#include "actors/rate/rate_limiter_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"
#include "messages/type_registry.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

/// What a verdict recorder saw: the answers, and a log of lines ("verdict 7
/// allow", then what the tracker held when the answer came).
struct answer_log {
  std::vector<event_verdict> answers;
  std::vector<std::string> lines;
};

struct answer_state {
  answer_log* log = nullptr;
  tracker_actor tracker;
  peer_id peer;
};

/// Records each one-way answer; with a tracker, asks it for `peer`'s records
/// on each answer and logs them.
verdict_listener::behavior_type
answer_recorder(verdict_listener::stateful_pointer<answer_state> self, answer_log* log,
                tracker_actor tracker, peer_id peer) {
  self->state.log = log;
  self->state.tracker = std::move(tracker);
  self->state.peer = std::move(peer);
  return {
      [self](event_verdict& a) {
        auto log = self->state.log;
        log->lines.push_back("verdict " + std::to_string(a.id) + " " +
                             to_string(a.result.kind));
        log->answers.push_back(std::move(a));
        if (!self->state.tracker)
          return;
        self->request(self->state.tracker, caf::infinite, query_atom::value,
                      self->state.peer)
            .then(
                [log](const std::vector<connection_record>& rs) {
                  for (auto& r : rs)
                    log->lines.push_back("record " + std::to_string(r.conn) + " " +
                                         to_string(r.state));
                  if (rs.empty())
                    log->lines.push_back("no record");
                },
                [log](caf::error&) { log->lines.push_back("query failed"); });
      },
  };
}

pending_inbound pending(connection_id c) {
  return pending_inbound{c, "/ip4/10.0.0.1/tcp/4001",
                         "/ip4/10.1.0." + std::to_string(c) + "/tcp/40000"};
}

established_inbound established(connection_id c, peer_id peer) {
  return established_inbound{c, std::move(peer), "/ip4/10.0.0.1/tcp/4001",
                             "/ip4/10.1.0." + std::to_string(c) + "/tcp/40000"};
}

template <class Event>
oneway<Event> one_way(correlation_id id, const verdict_listener& to, Event ev) {
  return oneway<Event>{id, to, std::move(ev)};
}

/// Records one-way answers of both forms as lines: "verdict 5 allow",
/// "batch 6 deny(2) allow".
caf::behavior both_forms_recorder(caf::event_based_actor*,
                                  std::vector<std::string>* out) {
  return {
      [out](const event_verdict& a) {
        out->push_back("verdict " + std::to_string(a.id) + " " +
                       to_string(a.result.kind));
      },
      [out](const batch_verdicts& b) {
        auto line = "batch " + std::to_string(b.id);
        // A verdict with its denial names the denied connection.
        b.results.each([&](std::size_t, const verdict& v) {
          line += " " + to_string(v.kind);
          if (!v.why.empty())
            line += "(" + std::to_string(v.why->conn) + ")";
        });
        out->push_back(line);
      },
  };
}

} // namespace

TEST_CASE_FIXTURE(
    actor_fixture,
    "a one-way event gets its id back with the verdict of the request form") {
  for (bool subscribed : {false, true}) {
    CAPTURE(subscribed);
    // The request form, on a gate of its own.
    auto asked = spawn_gate(sys, limited(1, 10));
    auto allow = verdict_of(asked, pending(1));
    auto deny = verdict_of(asked, pending(2));
    REQUIRE(allow.kind == verdict_kind::allow);
    REQUIRE(deny.kind == verdict_kind::deny);
    // The one-way form, the same events.
    outcome_log outcomes;
    auto gate = spawn_gate(sys, limited(1, 10));
    auto rec = sys.spawn(recorder, &outcomes);
    if (subscribed)
      caf::anon_send(gate, subscribe_atom::value, rec);
    answer_log log;
    auto to = sys.spawn(answer_recorder, &log, tracker_actor{}, peer_id{});
    caf::anon_send(gate, one_way(7, to, pending(1)));
    caf::anon_send(gate, one_way(8, to, pending(2)));
    run();
    REQUIRE(log.answers.size() == 2);
    CHECK(log.answers[0].id == 7);
    CHECK(log.answers[0].result.kind == verdict_kind::allow);
    CHECK(log.answers[1].id == 8);
    const auto& v = log.answers[1].result;
    REQUIRE(v.kind == verdict_kind::deny);
    CHECK(v.why == deny.why);
    CHECK(v.why->code == denial_code::connection_limit);
    CHECK(v.why->kind == limit_kind::pending_inbound);
    CHECK(v.why->limit == 1);
    CHECK(v.why->current == 1);
    CHECK(v.why->conn == 2);
    CHECK(v.why->peer.empty());
    if (subscribed)
      CHECK(outcomes.lines ==
            std::vector<std::string>{"batch 2", "admitted 1 pending inbound",
                                     "denied 2 pending_inbound connection_limit"});
    else
      CHECK(outcomes.lines.empty());
    auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
    CHECK(counts.pending_inbound == 1);
    stop(asked, gate, rec, to);
  }
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a one-way verdict goes out after the outcome it depends on") {
  auto [gate, tracker] = spawn_with_tracker(*this, limited(10, 10));
  answer_log log;
  auto to = sys.spawn(answer_recorder, &log, tracker, peer_id{"A"});
  caf::anon_send(gate, one_way(1, to, pending(1)));
  caf::anon_send(gate, one_way(2, to, established(1, "A")));
  // The gate reads the first event only. Had it answered already, the
  // recorder would run now and ask the tracker before the tracker heard the
  // outcome.
  sched.prioritize(gate);
  sched.run_once();
  if (sched.prioritize(to)) {
    sched.run_once();
    if (sched.prioritize(tracker))
      sched.run_once();
  }
  run();
  CHECK(log.lines == std::vector<std::string>{"verdict 1 allow", "verdict 2 allow",
                                              "record 1 established",
                                              "record 1 established"});
  // A close: the record is gone when its verdict arrives.
  log.lines.clear();
  caf::anon_send(gate, one_way(3, to, connection_closed{1, "A", "done"}));
  run();
  CHECK(log.lines == std::vector<std::string>{"verdict 3 ok", "no record"});
  stop(gate, tracker, to);
}

TEST_CASE_FIXTURE(
    actor_fixture,
    "one-way and request replies to one caller keep the order of its events") {
  outcome_log outcomes;
  auto [gate, rec] = spawn_recorded(*this, limited(10, 10), &outcomes);
  answer_log log;
  auto to = sys.spawn(answer_recorder, &log, tracker_actor{}, peer_id{});
  caf::anon_send(gate, one_way(1, to, pending(1)));
  caf::anon_send(gate, one_way(2, to, dial_failure{99})); // no outcome, held behind 1
  caf::anon_send(gate, one_way(3, to, pending(3)));
  run();
  CHECK(log.lines ==
        std::vector<std::string>{"verdict 1 allow", "verdict 2 ok", "verdict 3 allow"});
  CHECK(outcomes.lines == std::vector<std::string>{"batch 2",
                                                   "admitted 1 pending inbound",
                                                   "admitted 3 pending inbound"});
  stop(gate, rec, to);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a one-way event whose sender is gone, or names none, is decided") {
  outcome_log outcomes;
  auto [gate, rec] = spawn_recorded(*this, node_config{}, &outcomes);
  answer_log log;
  auto gone = sys.spawn(answer_recorder, &log, tracker_actor{}, peer_id{});
  verdict_listener gone_handle = gone;
  stop(gone);
  caf::anon_send(gate, one_way(1, gone_handle, pending(1)));
  caf::anon_send(gate, one_way(2, verdict_listener{}, pending(2)));
  run();
  CHECK(log.answers.empty());
  CHECK(outcomes.lines == std::vector<std::string>{"batch 2",
                                                   "admitted 1 pending inbound",
                                                   "admitted 2 pending inbound"});
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 2);
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "the rate limiter answers a one-way message as it answers a request") {
  rate_limits_config cfg;
  protocol_rate_config rule;
  rule.protocol = "/echo/1";
  rule.per_peer = bucket_config{10, 1};
  cfg.protocols.push_back(rule);
  auto msg = [] { return protocol_message{4, "a", "/echo/1", 1}; };
  auto asked = spawn_rate_limiter(sys, cfg);
  CHECK(verdict_of(asked, msg()).allowed());
  auto deny = verdict_of(asked, msg());
  REQUIRE(deny.kind == verdict_kind::deny);
  auto rl = spawn_rate_limiter(sys, cfg);
  answer_log log;
  auto to = sys.spawn(answer_recorder, &log, tracker_actor{}, peer_id{});
  caf::anon_send(rl, one_way(11, to, msg()));
  caf::anon_send(rl, one_way(12, to, msg()));
  caf::anon_send(rl, one_way(13, verdict_listener{}, msg())); // nobody to answer
  run();
  REQUIRE(log.answers.size() == 2);
  CHECK(log.answers[0].id == 11);
  CHECK(log.answers[0].result.allowed());
  CHECK(log.answers[1].id == 12);
  const auto& v = log.answers[1].result;
  REQUIRE(v.kind == verdict_kind::deny);
  CHECK(v.why == deny.why);
  CHECK(v.why->code == denial_code::rate_limit);
  CHECK(v.why->scope == rate_scope::per_peer);
  CHECK(v.why->protocol == "/echo/1");
  CHECK(v.why->peer == "a");
  CHECK(v.why->retry_after_ms == 100);
  stop(asked, rl, to);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "the one-way forms cross a node boundary: bytes and back") {
  answer_log log;
  auto to = sys.spawn(answer_recorder, &log, tracker_actor{}, peer_id{});
  std::vector<char> wire;
  {
    caf::binary_serializer sink{sys, wire};
    REQUIRE_FALSE(sink(one_way(42, to, established(3, "QmPeer"))));
  }
  oneway<established_inbound> ev;
  {
    caf::binary_deserializer source{sys, wire};
    REQUIRE_FALSE(source(ev));
  }
  CHECK(ev.id == 42);
  CHECK(caf::actor_cast<caf::actor_addr>(ev.reply_to) ==
        caf::actor_cast<caf::actor_addr>(to));
  CHECK(ev.event.conn == 3);
  CHECK(ev.event.peer == "QmPeer");
  CHECK(ev.event.local == "/ip4/10.0.0.1/tcp/4001");
  CHECK(ev.event.remote == "/ip4/10.1.0.3/tcp/40000");
  CHECK(ev.event.usefd);
  auto deny = verdict::deny(
      connection_limit_denial(limit_kind::established_inbound, 2, 2, 3, "QmPeer"));
  wire.clear();
  {
    caf::binary_serializer sink{sys, wire};
    REQUIRE_FALSE(sink(event_verdict{42, deny}));
  }
  event_verdict answer;
  {
    caf::binary_deserializer source{sys, wire};
    REQUIRE_FALSE(source(answer));
  }
  CHECK(answer.id == 42);
  CHECK(answer.result.kind == verdict_kind::deny);
  CHECK(answer.result.why == deny.why);
  // Announced to the middleman under their own names.
  caf::actor_system_config announced;
  add_message_types(announced);
  auto name_of = [&](const std::type_info& t) {
    return announced.type_names_by_rtti.at(std::type_index(t));
  };
  CHECK(name_of(typeid(oneway<pending_inbound>)) == "rcmgr.oneway_pending_inbound");
  CHECK(name_of(typeid(oneway<connection_closed>)) == "rcmgr.oneway_connection_closed");
  CHECK(name_of(typeid(oneway<protocol_message>)) == "rcmgr.oneway_protocol_message");
  CHECK(name_of(typeid(event_verdict)) == "rcmgr.event_verdict");
  CHECK(name_of(typeid(verdict_listener)) == "rcmgr.verdict_listener");
  CHECK(name_of(typeid(oneway_batch)) == "rcmgr.oneway_batch");
  CHECK(name_of(typeid(batch_verdicts)) == "rcmgr.batch_verdicts");
  CHECK(name_of(typeid(batch_verdict_listener)) == "rcmgr.batch_verdict_listener");
  stop(to);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a one-way batch gets its id back with the request form's verdicts, "
                  "after the answers held before it") {
  auto events = std::vector<lifecycle_event>{
      to_lifecycle_event(pending(2)), to_lifecycle_event(connection_closed{1, "", "x"}),
      to_lifecycle_event(pending(3))};
  // The request form, on a gate of its own.
  auto asked = spawn_gate(sys, limited(1, 10));
  REQUIRE(verdict_of(asked, pending(1)).kind == verdict_kind::allow);
  auto expected = ask<std::vector<verdict>>(asked, batch_of(events));
  REQUIRE(expected.size() == 3);
  // The one-way form, with a subscriber (so the single event's answer is held).
  outcome_log outcomes;
  auto gate = spawn_gate(sys, limited(1, 10));
  auto rec = sys.spawn(recorder, &outcomes);
  caf::anon_send(gate, subscribe_atom::value, rec);
  std::vector<std::string> lines;
  auto to = sys.spawn(both_forms_recorder, &lines);
  caf::anon_send(gate, one_way(5, caf::actor_cast<verdict_listener>(to), pending(1)));
  caf::anon_send(gate, oneway_batch{6, caf::actor_cast<batch_verdict_listener>(to),
                                    batch_of(events)});
  // No reply-to: decided, nobody answered.
  caf::anon_send(gate, oneway_batch{7, batch_verdict_listener{},
                                    batch_of({to_lifecycle_event(pending(4))})});
  run();
  CHECK(lines == std::vector<std::string>{"verdict 5 allow", "batch 6 deny(2) ok allow"});
  CHECK(to_string(expected[0].kind) == "deny");
  CHECK(to_string(expected[1].kind) == "ok");
  CHECK(to_string(expected[2].kind) == "allow");
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 1); // conn 3 (conn 4 was denied: limit 1)
  CHECK(outcomes.lines ==
        std::vector<std::string>{"admitted 1 pending inbound", "batch 3",
                                 "denied 2 pending_inbound connection_limit",
                                 "released 1 connection_closed",
                                 "admitted 3 pending inbound", "batch 1",
                                 "denied 4 pending_inbound connection_limit"});
  stop(asked, gate, rec, to);
}
