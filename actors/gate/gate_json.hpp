// The gate's part of the state dump (DESIGN §5): `limits`, `memory` and
// `anomalies`, rendered from what the policy holds.
#pragma once

#include <cstddef>
#include <string>

#include "actors/gate/gate_policy.hpp"

namespace rcmgr {

/// The gate's dump part as JSON text, at `now`; `subscribers` is the number
/// of listeners the gate publishes to.
std::string gate_dump_part(gate_policy& policy, time_ns now, std::size_t subscribers);

} // namespace rcmgr
