// A source bounds what it has sent the trace actor and not seen taken
// (actors/trace/trace_backlog.hpp): with a trace actor that takes nothing,
// the gate drops its lines past the bound, counted, and reports the count
// once the trace takes what came before.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include <string>
#include <vector>

#include "actors/trace/trace_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

/// What the stand-in trace actor was sent.
struct trace_log {
  std::vector<std::uint64_t> blocks;  // the line count of each block
  std::vector<std::size_t> requests;  // which blocks (1: the first) came as requests
  std::vector<std::uint64_t> dropped; // each `trace, dropped, n`
  std::vector<caf::response_promise> held;
  bool hold = true; // leave the requests unanswered
};

/// A trace actor that takes nothing while `hold`: its requests stay
/// unanswered until a `tick` answers them all.
trace_actor::behavior_type stalled_trace(trace_actor::pointer self, trace_log* log) {
  return {
      [](trace_atom, time_ns, std::string&) {},
      [self, log](trace_atom, time_ns, std::string&,
                  std::uint64_t lines) -> caf::result<void> {
        log->blocks.push_back(lines);
        if (!self->current_mailbox_element()->mid.is_request())
          return {};
        log->requests.push_back(log->blocks.size());
        if (!log->hold)
          return {};
        auto rp = self->make_response_promise();
        log->held.push_back(rp);
        return rp;
      },
      [log](trace_atom, dropped_atom, std::uint64_t n) -> caf::result<void> {
        log->dropped.push_back(n);
        return {};
      },
      [log](tick_atom) {
        log->hold = false;
        for (auto& rp : log->held)
          rp.deliver(caf::unit);
        log->held.clear();
      },
      [](monitor_atom, const caf::actor&) {},
      [](dump_part_atom) { return std::string{"{}"}; },
  };
}

/// Records the ids of the one-way verdicts it gets.
verdict_listener::behavior_type id_recorder(verdict_listener::pointer,
                                            std::vector<correlation_id>* ids) {
  return {[ids](const event_verdict& v) { ids->push_back(v.id); }};
}

} // namespace

TEST_CASE_FIXTURE(
    actor_fixture,
    "a gate drops its trace lines past its backlog bound and reports them") {
  trace_log log;
  auto trace = sys.spawn(stalled_trace, &log);
  gate_options opts;
  opts.trace.actor = trace;
  opts.trace.max_backlog_bytes = 1000; // a confirmation every 500 bytes
  auto gate = spawn_gate(sys, node_config{}, opts);
  run();
  REQUIRE(log.blocks.empty()); // the config line goes as a line of its own
  std::uint64_t allowed = 0;
  for (connection_id c = 1; c <= 12; ++c)
    allowed += verdict_of(gate, pending_inbound{c, "/ip4/10.0.0.1/tcp/4001",
                                                "/ip4/10.1.0.1/tcp/40000"})
                   .allowed();
  CHECK(allowed == 12); // tracing never refuses a decision
  // Each line is 140 bytes: the fourth (560 bytes sent) goes as a request,
  // the seventh is the last that fits in 1000 bytes, the other 5 are dropped:
  // the first drop is reported at once, the others once that report is
  // answered (one report on its way at a time).
  CHECK(log.blocks.size() == 7);
  CHECK(log.requests == std::vector<std::size_t>{4});
  CHECK(log.dropped == std::vector<std::uint64_t>{1, 1, 1, 1, 1});
  // The trace takes everything: the next line goes, as a request (560 bytes
  // since the last).
  caf::anon_send(trace, tick_atom::value);
  run();
  CHECK(verdict_of(gate, pending_inbound{13, "/ip4/10.0.0.1/tcp/4001",
                                         "/ip4/10.1.0.1/tcp/40000"})
            .allowed());
  CHECK(log.dropped.size() == 5);
  CHECK(log.blocks.size() == 8);
  CHECK(log.requests == std::vector<std::size_t>{4, 8});
  stop(gate, trace);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a held verdict goes out when the trace's answer is the last message "
                  "the gate reads") {
  trace_log log;
  log.hold = false; // the stand-in answers at once
  auto trace = sys.spawn(stalled_trace, &log);
  gate_options opts;
  opts.trace.actor = trace;
  opts.trace.max_backlog_bytes = 200; // each 140-byte line is a confirmation
  auto gate = spawn_gate(sys, node_config{}, opts);
  outcome_log outcomes;
  auto rec = sys.spawn(recorder, &outcomes);
  caf::anon_send(gate, subscribe_atom::value, rec); // single outcomes are held
  std::vector<correlation_id> ids;
  auto to = sys.spawn(id_recorder, &ids);
  run();
  auto event = [](connection_id c) {
    return oneway<pending_inbound>{
        c, verdict_listener{}, {c, "/ip4/10.0.0.1/tcp/4001", "/ip4/10.1.0.1/tcp/40000"}};
  };
  auto first = event(1);
  first.reply_to = to;
  caf::anon_send(gate, first);
  sched.run_once(); // the gate alone: its line goes as a request, its verdict out
  auto second = event(2);
  second.reply_to = to;
  caf::anon_send(gate, second);
  // The trace runs first (it was scheduled first): its answer reaches the gate
  // behind the second event, so the gate reads the event (its verdict held,
  // the mailbox not empty), then the answer, last.
  run();
  CHECK(ids == std::vector<correlation_id>{1, 2});
  CHECK(log.requests == std::vector<std::size_t>{1});
  CHECK(log.dropped == std::vector<std::uint64_t>{1}); // the second line: no room
  CHECK(outcomes.lines == std::vector<std::string>{"admitted 1 pending inbound",
                                                   "admitted 2 pending inbound"});
  stop(gate, trace, rec, to);
}
