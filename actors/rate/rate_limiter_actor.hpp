// The per-protocol rate limiter: token buckets per protocol (total) and per
// (protocol, peer), DESIGN §5.
#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

rate_limiter_actor spawn_rate_limiter(caf::actor_system& sys, const rate_limits_config& cfg);

} // namespace rcmgr
