// The fault monitor: watches every resource actor and names those that stop
// abnormally (see fault_log.hpp).
#pragma once

#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

/// Told once per actor that stopped abnormally: its name in the dump and
/// CAF's exit reason. Runs on a CAF worker thread: it must not block.
using fault_hook =
    std::function<void(const std::string& part, const std::string& reason)>;

fault_monitor_actor spawn_fault_monitor(caf::actor_system& sys, fault_hook hook);

} // namespace rcmgr
