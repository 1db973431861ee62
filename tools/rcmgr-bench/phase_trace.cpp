// The decision trace's cost (the target: with tracing on, the batched
// lifecycle rate stays >= 0.8 of the rate without it): the batched cycle
// against the gate, tracker and subscriber, without and with a trace, A/B
// alternated in the same run.
#include <algorithm>
#include <array>
#include <fstream>
#include <string>

#include <unistd.h>

#include "actors/trace/trace_actor.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

/// The lines of a trace file after its first (the config).
std::uint64_t event_lines(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t lines = 0;
  std::array<char, 1 << 16> buf{};
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    lines += static_cast<std::uint64_t>(
        std::count(buf.data(), buf.data() + in.gcount(), '\n'));
  }
  return lines == 0 ? 0 : lines - 1;
}

} // namespace

void bench_trace(caf::scoped_actor& self, const sizes& z, const workload& w, results& r) {
  auto& sys = self->system();
  // The trace goes to a file of its own; a line that does not fit the
  // buffer is dropped and counted (the gate never waits for the file).
  auto file = "/tmp/rcmgr-bench-trace-" + std::to_string(::getpid()) + ".ndjson";
  constexpr int rounds = 3;
  double off = 0;
  double on = 0;
  // Every traced event must reach the file: a trace that keeps up only by
  // dropping lines would flatter the ratio.
  std::uint64_t traced_events = 0;
  std::uint64_t written_lines = 0;
  for (int round = 0; round < rounds; ++round) {
    for (bool traced : {false, true}) {
      progress(std::string{"trace: batched cycles, "} + (traced ? "traced" : "untraced") +
               ", round " + std::to_string(round + 1) + " of " + std::to_string(rounds));
      gate_options opts;
      if (traced) {
        trace_options t;
        t.file = file;
        opts.trace = start_trace(sys, t);
      }
      auto trace = opts.trace.actor;
      {
        rig g{sys, node_config{}, opts};
        if (trace)
          caf::anon_send(trace, monitor_atom::value, caf::actor_cast<caf::actor>(g.gate));
        auto warm = drive(self, g, drive_kind::batched_cycle, 1ULL << 40,
                          z.lifecycle_cycles / 10, w, z.window);
        auto res = drive(self, g, drive_kind::batched_cycle, 0, z.lifecycle_cycles * 2, w,
                         z.window);
        (traced ? on : off) += static_cast<double>(res.events) / res.seconds;
        if (traced)
          traced_events += warm.events + res.events;
      }
      if (trace) {
        caf::anon_send_exit(trace, caf::exit_reason::user_shutdown);
        self->wait_for(trace);
        written_lines += event_lines(file);
      }
    }
  }
  ::unlink(file.c_str());
  r.set("lifecycle_batched_untraced_events_per_s", off / rounds);
  r.set("lifecycle_batched_traced_events_per_s", on / rounds);
  r.set("trace_batched_ratio", on / off);
  r.set("trace_written_fraction",
        traced_events == 0
            ? 0.0
            : static_cast<double>(written_lines) / static_cast<double>(traced_events));
}

} // namespace rcmgr::bench
