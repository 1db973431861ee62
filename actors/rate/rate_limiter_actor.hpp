// The per-protocol rate limiter: token buckets per protocol (total) and per
// (protocol, peer), DESIGN §5.
#pragma once

#include <caf/fwd.hpp>

#include "actors/trace/trace_actor.hpp"
#include "messages/interfaces.hpp"

namespace rcmgr {

/// `trace`: where each protocol message goes with its verdict
/// (docs/trace.md); none: nothing is traced.
rate_limiter_actor spawn_rate_limiter(caf::actor_system& sys,
                                      const rate_limits_config& cfg,
                                      trace_hook trace = {});

} // namespace rcmgr
