// The limit checker (the gate): owns the connection-limits core, the memory
// rule and the bypass set; answers every lifecycle event with a verdict and
// publishes admitted/denied/released to its subscribers.
#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

gate_actor spawn_gate(caf::actor_system& sys, const node_config& cfg);

} // namespace rcmgr
