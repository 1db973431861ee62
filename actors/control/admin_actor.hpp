// The admin endpoint: the state dump and operator control behind one typed
// handle, so one published port serves both (rcmgr-inspect, peer-node).
#pragma once

#include <caf/fwd.hpp>

#include "messages/type_registry.hpp"

namespace rcmgr {

admin_actor spawn_admin(caf::actor_system& sys, state_dump_actor dump,
                        control_actor control);

} // namespace rcmgr
