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
  std::vector<std::uint64_t> wants;   // each request's `want`
  std::vector<const char*> data;      // where each block's characters lie
  std::vector<std::string> hand_back; // the answer to the next request
  std::vector<caf::typed_response_promise<std::vector<std::string>>> held;
  bool hold = true; // leave the requests unanswered
};

/// A trace actor that takes nothing while `hold`: its requests stay
/// unanswered until a `tick` answers them all.
trace_actor::behavior_type stalled_trace(trace_actor::pointer self, trace_log* log) {
  return {
      [](trace_atom, time_ns, std::string&) {},
      [log](trace_atom, time_ns, std::string& block, std::uint64_t lines) {
        log->blocks.push_back(lines);
        log->data.push_back(block.data());
      },
      [self, log](trace_atom, confirm_atom, time_ns, std::string& block,
                  std::uint64_t lines,
                  std::uint64_t want) -> caf::result<std::vector<std::string>> {
        log->blocks.push_back(lines);
        log->data.push_back(block.data());
        log->requests.push_back(log->blocks.size());
        log->wants.push_back(want);
        if (!log->hold)
          return std::move(log->hand_back);
        auto rp = self->make_response_promise<std::vector<std::string>>();
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
          rp.deliver(std::vector<std::string>{});
        log->held.clear();
      },
      [](monitor_atom, const caf::actor&) {},
      [](dump_part_atom) { return std::string{"{}"}; },
  };
}

/// A gate tracing to `trace`, at most `max_backlog` bytes sent and not
/// taken (a confirmation every half of it).
auto traced_gate(caf::actor_system& sys, const trace_actor& trace,
                 std::size_t max_backlog) {
  gate_options opts;
  opts.trace.actor = trace;
  opts.trace.max_backlog_bytes = max_backlog;
  return spawn_gate(sys, node_config{}, opts);
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
  auto gate = traced_gate(sys, trace, 1000); // a confirmation every 500 bytes
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
  auto gate = traced_gate(sys, trace, 200); // each 140-byte line is a confirmation
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

TEST_CASE_FIXTURE(actor_fixture, "a gate fills again the blocks the trace hands back") {
  trace_log log;
  log.hold = false;
  std::vector<const char*> handed;
  for (int k = 0; k < 2; ++k) {
    auto& b = log.hand_back.emplace_back();
    b.reserve(8192);
    handed.push_back(b.data());
  }
  auto trace = sys.spawn(stalled_trace, &log);
  auto gate = traced_gate(sys, trace, 1000); // a confirmation every 500 bytes
  run();
  auto batch = [](connection_id first) {
    lifecycle_batch b;
    batch_writer w{b};
    std::string remote = "/ip4/10.0.0.3/tcp/1";
    for (connection_id c = first; c < first + 6; ++c) // about 660 bytes of lines
      w.add(event_kind::pending_inbound, c, "", "", text_list{&remote, 1}, "");
    return b;
  };
  CHECK(ask<std::vector<verdict>>(gate, batch(1)).size() == 6);
  CHECK(ask<std::vector<verdict>>(gate, batch(7)).size() == 6);
  CHECK(ask<std::vector<verdict>>(gate, batch(13)).size() == 6);
  CHECK(log.requests == std::vector<std::size_t>{1, 2, 3});
  REQUIRE(log.data.size() == 3);
  // The first block was new; the next two are the ones handed back, the last
  // kept first.
  CHECK(log.data[1] == handed[1]);
  CHECK(log.data[2] == handed[0]);
  // Each request asks for what the gate's pool lacks.
  CHECK(log.wants == std::vector<std::uint64_t>{block_pool::default_max_count,
                                                block_pool::default_max_count - 1,
                                                block_pool::default_max_count});
  stop(gate, trace);
}
