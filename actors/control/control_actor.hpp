// Operator control: validates config updates (JSON text or a node_config),
// fans them out to every actor that takes a part, and keeps the config in
// force. A rejected update changes nothing.
#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

struct control_targets {
  gate_actor gate;
  memory_sampler_actor sampler;
  rate_limiter_actor rate_limiter;
  socket_watcher_actor watcher;
};

control_actor spawn_control(caf::actor_system& sys, const node_config& cfg,
                            control_targets targets);

} // namespace rcmgr
