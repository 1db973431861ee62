// The decision trace's actor (DESIGN §6.3, docs/trace.md): takes the lines
// the gate and the rate limiter send, buffers them (trace_buffer) and writes
// them to its file at least every second and when it stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "actors/trace/block_pool.hpp"
#include "actors/trace/trace_backlog.hpp"
#include "messages/atoms.hpp"
#include "messages/time.hpp"

namespace rcmgr {

using trace_atom = caf::atom_constant<caf::atom("trace")>;
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;
using confirm_atom = caf::atom_constant<caf::atom("confirm")>;

/// `trace`: one line and its time (ns since the trace began, for ordering).
/// With a count: a block of lines (that many, each ending in '\n'), decided
/// at `t`. `trace, confirm, t, block, lines, want`: the same as a request,
/// whose answer says everything the source sent before was taken
/// (actors/trace/trace_backlog.hpp) and hands it up to `want` written blocks
/// to fill again (actors/trace/block_pool.hpp).
/// `trace, dropped, n`: lines a source dropped instead of sending.
/// `monitor`: a source of lines; the trace stops only once every source it
/// monitors is gone, so that their last lines are written. `dump_part`:
/// `{"trace": {file, written_lines, dropped_lines, ...}}`.
using trace_actor = caf::typed_actor<
    caf::reacts_to<trace_atom, time_ns, std::string>,
    caf::reacts_to<trace_atom, time_ns, std::string, std::uint64_t>,
    caf::replies_to<trace_atom, confirm_atom, time_ns, std::string, std::uint64_t,
                    std::uint64_t>::with<std::vector<std::string>>,
    caf::reacts_to<trace_atom, dropped_atom, std::uint64_t>, caf::reacts_to<tick_atom>,
    caf::reacts_to<monitor_atom, caf::actor>,
    caf::replies_to<dump_part_atom>::with<std::string>>;

struct trace_options {
  std::string file;
  /// The most bytes of lines waiting to be written; a line that does not
  /// fit is dropped and counted.
  std::size_t buffer_bytes = 8 << 20;
  std::chrono::milliseconds flush_interval{1000};
  /// A flush writes the lines at least this old: the gate's and the rate
  /// limiter's lines reach the trace by different roads, and the file is in
  /// time order.
  std::chrono::milliseconds hold_back{250};
  /// Once half the buffer is used, the lines older than the newest by this
  /// much are written at once (a busy gate fills 8 MiB in a few ms); one
  /// from the other road that comes later still is written, counted late.
  std::chrono::milliseconds pressure_hold_back{10};
};

/// What the gate and the rate limiter hold to trace their decisions: no
/// actor, no trace (a null check per decision, nothing more).
struct trace_hook {
  trace_actor actor;
  /// The actor clock's reading (ns) when the trace began: a line's `t` is
  /// the time since.
  time_ns origin = 0;
  /// The most bytes a source may have sent and not seen taken (its
  /// trace_backlog's bound).
  std::size_t max_backlog_bytes = trace_backlog::default_max_bytes;
  explicit operator bool() const { return static_cast<bool>(actor); }
};

/// Spawns the trace actor, which opens (truncates) `opts.file`, with the
/// clock's reading now as its origin. The gate sends the first line, the
/// config in force, at time 0. A file that cannot be opened is not fatal:
/// every flush then counts a write error.
trace_hook start_trace(caf::actor_system& sys, trace_options opts);

/// The actor clock's reading now, in ns (the `origin` of a trace).
time_ns trace_clock_now(caf::actor_system& sys);

/// Runs nothing: for a source that needs no step after an answer.
struct no_step {
  void operator()() const {}
};

/// Reports `n` lines a source dropped, as a request: once it is answered,
/// what was dropped meanwhile goes the same way. `after` runs after each
/// answer (the gate publishes what it holds once its mailbox is empty, and
/// an answer may be the last message it reads).
template <class Self, class After = no_step>
void report_dropped_lines(Self* self, trace_backlog& backlog, trace_actor to,
                          std::uint64_t n, After after = {}) {
  auto* bl = &backlog;
  auto next = [self, bl, to, after] {
    bl->report_taken();
    if (auto more = bl->take_report())
      report_dropped_lines(self, *bl, to, more, after);
    after();
  };
  // A trace actor that is gone answers with an error: reported all the same
  // (nobody counts them any more).
  self->request(to, caf::infinite, trace_atom::value, dropped_atom::value, n)
      .then(next, [next](const caf::error&) { next(); });
}

/// Sends a block of `lines` lines (each ending in '\n') decided at `t` to the
/// trace, within the source's backlog bound: dropped and counted when the
/// trace actor has not taken enough of what came before. `Self` is the
/// sending actor; `backlog` lives in its state; `after` as above. With a
/// `pool`, the blocks the trace hands back refill it.
template <class Self, class After = no_step>
void send_trace_lines(Self* self, trace_backlog& backlog, const trace_hook& tr, time_ns t,
                      std::string block, std::uint64_t lines, After after = {},
                      block_pool* pool = nullptr) {
  auto d = backlog.offer(block.size(), lines);
  if (auto n = backlog.take_report())
    report_dropped_lines(self, backlog, tr.actor, n, after);
  if (!d.send)
    return;
  if (!d.confirm) {
    self->send(tr.actor, trace_atom::value, t, std::move(block), lines);
    return;
  }
  // A trace actor that is gone holds nothing either: the mark counts as taken.
  auto mark = *d.confirm;
  auto* bl = &backlog;
  auto taken = [bl, mark, after] {
    bl->confirmed(mark);
    after();
  };
  std::uint64_t want = pool ? pool->max_count() - pool->size() : 0;
  self->request(tr.actor, caf::infinite, trace_atom::value, confirm_atom::value, t,
                std::move(block), lines, want)
      .then(
          [taken, pool](std::vector<std::string>& blocks) {
            if (pool)
              pool->give_all(std::move(blocks));
            taken();
          },
          [taken](const caf::error&) { taken(); });
}

} // namespace rcmgr
