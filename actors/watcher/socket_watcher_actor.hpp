// The socket watcher: keeps the socket_watch core up to date from the net
// layer's watch/unwatch/traffic messages, refreshes it on its own timer,
// sends pause/resume/close to the net layer and peer blocks to the gate.
#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

socket_watcher_actor spawn_socket_watcher(caf::actor_system& sys,
                                          const watcher_config& cfg, gate_actor gate);

} // namespace rcmgr
