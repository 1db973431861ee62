// The runtime facade: spawns and wires every resource actor into the
// caller's actor system and hands back their typed handles.
//
//   caf::actor_system sys{cfg};
//   rcmgr::runtime rt{sys, config};          // config: rcmgr::node_config
//   auto& h = rt.handles();                  // h.gate, h.tracker, h.dump, ...
//   ... request(h.gate, ..., rcmgr::pending_inbound{...}) ...
//   rt.shutdown();                           // also done by ~runtime()
//
// use_node_scheduler(cfg) before the actor system is built gives it the
// scheduler settings a node runs with (docs/node.md, "Threads").
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/faults/fault_monitor_actor.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/memory/memory_sampler_actor.hpp"
#include "actors/trace/trace_actor.hpp"
#include "messages/interfaces.hpp"

namespace rcmgr {

/// The default fault hook: "rcmgr: the <part> actor stopped: <reason>" on
/// stderr.
void print_fault(const std::string& part, const std::string& reason);

/// Sets CAF's scheduler as peer-node and rcmgr-bench run it: a worker with
/// nothing to do polls once in each of CAF's aggressive and moderate phases
/// (instead of 100 and 500 times, the latter 50 us apart), then sleeps on its
/// condition variable and looks for work every 1 ms (CAF: 10 ms); and it takes
/// a job from another worker's queue only when that queue has not been empty
/// for 1 ms (patient_stealing, scheduler/patient_stealing.hpp), so that actors
/// answering each other keep their worker. Call it before the command line
/// and the config file are parsed, so that a `--work-stealing.*` flag or an
/// `.ini` entry still wins. `scheduler.policy=eager` is CAF's own work
/// stealing; a policy other than `stealing` or `eager` (the tests' `testing`)
/// gets CAF's scheduler for it.
/// Why and what it trades: docs/node.md, "Threads".
void use_node_scheduler(caf::actor_system_config& cfg);

struct runtime_options {
  memory_sampler_options memory;
  std::chrono::milliseconds dump_part_timeout{1000};
  std::size_t dump_list_cap = 1000;
  /// What "scopes_scale": "auto" scales by: absent, the gate reads the
  /// system; given, these (tests and rcmgr-replay, for the same limits on
  /// every machine).
  std::optional<scale_readings> scope_readings;
  /// Told when a resource actor stops abnormally (docs/faults.md). The
  /// default writes one line to stderr.
  fault_hook on_fault = print_fault;
  /// The decision trace (docs/trace.md): a file path makes the runtime write
  /// every input the gate and the rate limiter decide, with its verdict, as
  /// NDJSON that `rcmgr-replay --expect` replays. Empty: no trace.
  std::string trace_file;
  /// The most bytes of trace lines waiting to be written (a line that does
  /// not fit is dropped and counted in the dump part "trace").
  std::size_t trace_buffer_bytes = trace_options{}.buffer_bytes;
};

struct runtime_handles {
  gate_actor gate;
  tracker_actor tracker;
  memory_sampler_actor sampler;
  rate_limiter_actor rate_limiter;
  socket_watcher_actor watcher;
  state_dump_actor dump;
  control_actor control;
  fault_monitor_actor faults;
  trace_actor trace; // null without runtime_options::trace_file
};

class runtime {
public:
  runtime(caf::actor_system& sys, const node_config& cfg, runtime_options opts = {});
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  const runtime_handles& handles() const { return handles_; }

  /// Subscribes a user actor (e.g. one from spawn_listener) to the gate's outcomes.
  void subscribe(const lifecycle_listener& listener);

  /// Asks every actor to quit (exit reason user_shutdown). Idempotent. The
  /// actor system's destructor then returns once they are gone.
  void shutdown();

private:
  runtime_handles handles_;
  bool down_ = false;
};

} // namespace rcmgr
