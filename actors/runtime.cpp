#include "actors/runtime.hpp"

#include <iostream>

#include <caf/all.hpp>
#include <caf/policy/profiled.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/profiled_coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/control/control_actor.hpp"
#include "actors/dump/state_dump_actor.hpp"
#include "actors/faults/fault_monitor_actor.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/rate/rate_limiter_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"
#include "actors/watcher/socket_watcher_actor.hpp"
#include "scheduler/patient_stealing.hpp"

namespace rcmgr {

void print_fault(const std::string& part, const std::string& reason) {
  std::cerr << "rcmgr: the " << part << " actor stopped: " << reason << '\n';
}

namespace {

/// The scheduler the system's final configuration asks for: patient_stealing
/// for `scheduler.policy=stealing` (CAF's default), CAF's own work stealing
/// for `eager`, CAF's scheduler for the other policies (the deterministic
/// one of the tests among them). An unknown policy is CAF's warning and
/// `stealing`.
caf::actor_system::module* make_node_scheduler(caf::actor_system& sys) {
  using namespace caf::scheduler;
  using caf::policy::profiled;
  using caf::policy::work_sharing;
  using caf::policy::work_stealing;
  namespace defaults = caf::defaults::scheduler;
  const auto& cfg = sys.config();
  auto policy = caf::get_or(cfg, "scheduler.policy", defaults::policy);
  auto with_profiling = caf::get_or(cfg, "scheduler.enable-profiling", false);
  if (policy == caf::atom("testing"))
    return new test_coordinator(sys);
  if (policy == caf::atom("sharing")) {
    if (with_profiling)
      return new profiled_coordinator<profiled<work_sharing>>(sys);
    return new coordinator<work_sharing>(sys);
  }
  // Profiling counts what CAF's own policy does.
  if (with_profiling)
    return new profiled_coordinator<profiled<work_stealing>>(sys);
  if (policy == caf::atom("eager"))
    return new coordinator<work_stealing>(sys);
  if (policy != caf::atom("stealing"))
    std::cerr << "[WARNING] " << caf::to_string(policy)
              << " is an unrecognized scheduler policy, falling back to 'stealing'\n";
  return new coordinator<patient_stealing>(sys);
}

} // namespace

void use_node_scheduler(caf::actor_system_config& cfg) {
  // CAF's default polling keeps every worker busy for some 25 ms after each
  // job, so that a node woken by its own timers a few times a second polls
  // most of the time. A parked worker is woken by a message from outside CAF
  // (an io thread's); a message between actors stays on its worker until
  // another takes it, which patient_stealing allows once that worker's queue
  // has not been empty for a relaxed sleep.
  cfg.set("work-stealing.aggressive-poll-attempts", std::size_t{1});
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{1});
  cfg.set("work-stealing.relaxed-sleep-duration",
          caf::timespan{std::chrono::milliseconds{1}});
  cfg.module_factories.push_back(make_node_scheduler);
}

runtime::runtime(caf::actor_system& sys, const node_config& cfg, runtime_options opts) {
  auto& h = handles_;
  h.faults = spawn_fault_monitor(sys, std::move(opts.on_fault));
  trace_hook trace;
  if (!opts.trace_file.empty()) {
    trace_options topts;
    topts.file = opts.trace_file;
    topts.buffer_bytes = opts.trace_buffer_bytes;
    trace = start_trace(sys, std::move(topts));
    h.trace = trace.actor;
  }
  gate_options gopts;
  gopts.scope_readings = opts.scope_readings;
  gopts.dump_list_cap = opts.dump_list_cap;
  gopts.trace = trace;
  h.gate = spawn_gate(sys, cfg, std::move(gopts));
  h.tracker = spawn_tracker(sys, tracker_options{opts.dump_list_cap});
  h.sampler = spawn_memory_sampler(sys, cfg.memory, opts.memory);
  h.rate_limiter = spawn_rate_limiter(sys, cfg.rate_limits, trace);
  h.watcher = spawn_socket_watcher(sys, cfg.watcher, h.gate);
  h.control = spawn_control(
      sys, cfg, control_targets{h.gate, h.sampler, h.rate_limiter, h.watcher});
  std::vector<dump_source> sources{{"gate", h.gate},
                                   {"tracker", h.tracker},
                                   {"memory_sampler", h.sampler},
                                   {"rate_limiter", h.rate_limiter},
                                   {"socket_watcher", h.watcher},
                                   {"faults", h.faults}};
  if (h.trace)
    sources.push_back({"trace", h.trace});
  h.dump = spawn_state_dump(sys, std::move(sources),
                            state_dump_options{opts.dump_part_timeout});
  auto watch = [&](const char* part, const auto& handle) {
    caf::anon_send(h.faults, monitor_atom::value, std::string{part},
                   caf::actor_cast<caf::actor>(handle));
  };
  watch("gate", h.gate);
  watch("tracker", h.tracker);
  watch("memory_sampler", h.sampler);
  watch("rate_limiter", h.rate_limiter);
  watch("socket_watcher", h.watcher);
  watch("control", h.control);
  watch("state_dump", h.dump);
  if (h.trace) {
    // The trace stops once its sources are gone, their last lines written.
    watch("trace", h.trace);
    caf::anon_send(h.trace, monitor_atom::value, caf::actor_cast<caf::actor>(h.gate));
    caf::anon_send(h.trace, monitor_atom::value,
                   caf::actor_cast<caf::actor>(h.rate_limiter));
  }
  caf::anon_send(h.gate, subscribe_atom::value, lifecycle_listener{h.tracker});
  caf::anon_send(h.sampler, subscribe_atom::value, memory_listener{h.gate});
}

runtime::~runtime() {
  shutdown();
}

void runtime::subscribe(const lifecycle_listener& listener) {
  caf::anon_send(handles_.gate, subscribe_atom::value, listener);
}

void runtime::shutdown() {
  if (down_)
    return;
  down_ = true;
  auto& h = handles_;
  auto reason = caf::exit_reason::user_shutdown;
  caf::anon_send_exit(h.faults, reason);
  caf::anon_send_exit(h.control, reason);
  caf::anon_send_exit(h.dump, reason);
  caf::anon_send_exit(h.rate_limiter, reason);
  caf::anon_send_exit(h.watcher, reason);
  caf::anon_send_exit(h.sampler, reason);
  caf::anon_send_exit(h.tracker, reason);
  caf::anon_send_exit(h.gate, reason);
  if (h.trace)
    caf::anon_send_exit(h.trace, reason);
}

} // namespace rcmgr
