// The decision trace's actor (DESIGN §6.3, docs/trace.md): takes the lines
// the gate and the rate limiter send, buffers them (trace_buffer) and writes
// them to its file at least every second and when it stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/time.hpp"

namespace rcmgr {

using trace_atom = caf::atom_constant<caf::atom("trace")>;

/// `trace`: one line and its time (ns since the trace began, for ordering).
/// With a count: a gate batch's lines (that many, each ending in '\n'),
/// decided at `t`.
/// `monitor`: a source of lines; the trace stops only once every source it
/// monitors is gone, so that their last lines are written. `dump_part`:
/// `{"trace": {file, written_lines, dropped_lines, ...}}`.
using trace_actor =
    caf::typed_actor<caf::reacts_to<trace_atom, time_ns, std::string>,
                     caf::reacts_to<trace_atom, time_ns, std::string, std::uint64_t>,
                     caf::reacts_to<tick_atom>, caf::reacts_to<monitor_atom, caf::actor>,
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
  explicit operator bool() const { return static_cast<bool>(actor); }
};

/// Spawns the trace actor, which opens (truncates) `opts.file`, with the
/// clock's reading now as its origin. The gate sends the first line, the
/// config in force, at time 0. A file that cannot be opened is not fatal:
/// every flush then counts a write error.
trace_hook start_trace(caf::actor_system& sys, trace_options opts);

/// The actor clock's reading now, in ns (the `origin` of a trace).
time_ns trace_clock_now(caf::actor_system& sys);

} // namespace rcmgr
