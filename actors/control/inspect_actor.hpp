// The inspect endpoint: the state dump alone, read-only, behind its own
// handle, so publishing it hands a remote client nothing that changes state.
#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

/// A state_dump_actor that forwards `dump` to `dump` and understands nothing
/// else: config updates and bypass changes sent to it are refused by CAF as
/// unexpected messages.
state_dump_actor spawn_inspect(caf::actor_system& sys, state_dump_actor dump);

} // namespace rcmgr
