#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include "actors/control/control_actor.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/rate/rate_limiter_actor.hpp"
#include "actors/watcher/socket_watcher_actor.hpp"
#include "actors/dump/state_dump_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

namespace rcmgr {

runtime::runtime(caf::actor_system& sys, const node_config& cfg, runtime_options opts) {
  auto& h = handles_;
  h.gate = spawn_gate(sys, cfg);
  h.tracker = spawn_tracker(sys, tracker_options{opts.dump_list_cap});
  h.sampler = spawn_memory_sampler(sys, cfg.memory, opts.memory);
  h.rate_limiter = spawn_rate_limiter(sys, cfg.rate_limits);
  h.watcher = spawn_socket_watcher(sys, cfg.watcher, h.gate);
  h.control = spawn_control(
      sys, cfg, control_targets{h.gate, h.sampler, h.rate_limiter, h.watcher});
  std::vector<dump_source> sources{{"gate", h.gate},
                                   {"tracker", h.tracker},
                                   {"memory_sampler", h.sampler},
                                   {"rate_limiter", h.rate_limiter},
                                   {"socket_watcher", h.watcher}};
  h.dump = spawn_state_dump(sys, std::move(sources),
                            state_dump_options{opts.dump_part_timeout});
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
  caf::anon_send_exit(h.control, reason);
  caf::anon_send_exit(h.dump, reason);
  caf::anon_send_exit(h.rate_limiter, reason);
  caf::anon_send_exit(h.watcher, reason);
  caf::anon_send_exit(h.sampler, reason);
  caf::anon_send_exit(h.tracker, reason);
  caf::anon_send_exit(h.gate, reason);
}

} // namespace rcmgr
