// The connection tracker: a record per live connection, fed by the gate's
// outcomes; answers queries by peer and by state; owns the `connections`
// part of the dump.
#pragma once

#include <cstddef>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

struct tracker_options {
  /// At most this many connections are listed in the dump (`truncated` says
  /// when there were more); counts always cover all of them.
  std::size_t dump_list_cap = 1000;
};

tracker_actor spawn_tracker(caf::actor_system& sys, tracker_options opts);

} // namespace rcmgr
