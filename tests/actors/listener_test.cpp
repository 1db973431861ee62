// spawn_listener: three callbacks hear every outcome once, in order, whether
// the gate published it alone or in an outcome batch.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include <memory>
#include <string>
#include <vector>

#include "actors/gate/gate_actor.hpp"
#include "actors/listener_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

struct heard {
  std::vector<std::string> lines;
  int malformed = 0;
};

std::string join(const text_list& xs) {
  std::string s;
  for (std::size_t i = 0; i < xs.size(); ++i)
    s += (i == 0 ? "" : ",") + std::string{xs[i]};
  return s;
}

lifecycle_listener spawn_heard(actor_fixture& fx, std::shared_ptr<heard> h) {
  return spawn_listener(
      fx.sys,
      [h](const admitted_view& x) {
        h->lines.push_back("admitted " + std::to_string(x.conn) + " " +
                           to_string(x.state) + " " + to_string(x.dir) + " " +
                           std::string{x.peer} + " " + std::string{x.local} + " [" +
                           join(x.remote) + "]" + (x.bypassed ? " bypassed" : ""));
      },
      [h](const denied& x) {
        h->lines.push_back("denied " + std::to_string(x.conn) + " " + to_string(x.event) +
                           " " + to_string(x.why.code));
      },
      [h](const released_view& x) {
        h->lines.push_back("released " + std::to_string(x.conn) + " " +
                           to_string(x.cause) + " " + std::string{x.peer} + " " +
                           std::string{x.reason});
      },
      [h] { ++h->malformed; });
}

lifecycle_event event(event_kind kind, connection_id conn, peer_id peer,
                      std::vector<std::string> remote, std::string reason = {}) {
  lifecycle_event e;
  e.kind = kind;
  e.conn = conn;
  e.peer = std::move(peer);
  e.remote = std::move(remote);
  e.reason = std::move(reason);
  return e;
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "a listener hears single outcomes through its callbacks") {
  auto h = std::make_shared<heard>();
  auto gate = spawn_gate(sys, limited(1, 10));
  auto l = spawn_heard(*this, h);
  caf::anon_send(gate, subscribe_atom::value, l);
  run();
  // One at a time: the gate is idle after each, so each goes out alone.
  verdict_of(gate, pending_inbound{1, "/l", "/r1"});
  verdict_of(gate, pending_inbound{2, "/l", "/r2"});
  verdict_of(gate, established_inbound{1, "QmA", "/l", "/r1"});
  verdict_of(gate, pending_outbound{3, "QmB", {"/b1", "/b2"}});
  verdict_of(gate, dial_failure{3});
  verdict_of(gate, connection_closed{1, "", "done"});
  run();
  CHECK(h->lines == std::vector<std::string>{
                        "admitted 1 pending inbound  /l [/r1]",
                        "denied 2 pending_inbound connection_limit",
                        "admitted 1 established inbound QmA /l [/r1]",
                        "admitted 3 pending outbound QmB  [/b1,/b2]",
                        "released 3 dial_failure QmB dial failure",
                        "released 1 connection_closed QmA done",
                    });
  CHECK(h->malformed == 0);
  stop(gate, l);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a listener hears a batch's outcomes and held ones the same way") {
  auto h = std::make_shared<heard>();
  auto gate = spawn_gate(sys, limited(10, 1));
  auto l = spawn_heard(*this, h);
  caf::anon_send(gate, subscribe_atom::value, l);
  run();
  // A lifecycle batch: its outcomes come as one outcome_batch.
  auto verdicts = ask<std::vector<verdict>>(
      gate, batch_of({event(event_kind::established_inbound, 1, "QmA", {"/a"}),
                      event(event_kind::established_inbound, 2, "QmB", {"/b"}),
                      event(event_kind::connection_closed, 1, "", {}, "bye")}));
  REQUIRE(verdicts.size() == 3);
  CHECK(verdicts[1].denied());
  // Single events queued together: held, published as one outcome_batch.
  caf::anon_send(gate, pending_outbound{5, "QmC", {"/c"}});
  caf::anon_send(gate, established_outbound{5, "QmC", "/c"});
  caf::anon_send(gate, connection_closed{5, "QmC", "end"});
  run();
  CHECK(h->lines == std::vector<std::string>{
                        "admitted 1 established inbound QmA  [/a]",
                        "denied 2 established_inbound connection_limit",
                        "released 1 connection_closed QmA bye",
                        "admitted 5 pending outbound QmC  [/c]",
                        "admitted 5 established outbound QmC  [/c]",
                        "released 5 connection_closed QmC end",
                    });
  CHECK(h->malformed == 0);
  stop(gate, l);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a malformed batch is refused whole and reported to on_malformed") {
  auto h = std::make_shared<heard>();
  auto l = spawn_heard(*this, h);
  outcome_batch bad;
  bad.order = {outcome_kind::admitted, outcome_kind::denied};
  bad.admits.resize(1); // the denial is missing
  caf::anon_send(l, bad);
  run();
  CHECK(h->lines.empty());
  CHECK(h->malformed == 1);
  // The default for on_malformed ignores it.
  int calls = 0;
  auto quiet = spawn_listener(
      sys, [&](const admitted_view&) { ++calls; }, [&](const denied&) { ++calls; },
      [&](const released_view&) { ++calls; });
  caf::anon_send(quiet, bad);
  caf::anon_send(quiet, denied{});
  run();
  CHECK(calls == 1);
  stop(l, quiet);
}
