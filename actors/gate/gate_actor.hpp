// The limit checker (the gate): owns the connection-limits core, the memory
// rule and the bypass set; answers every lifecycle event with a verdict and
// publishes admitted/denied/released to its subscribers.
#pragma once

#include <cstddef>
#include <optional>

#include <caf/fwd.hpp>

#include "actors/gate/scopes/scope_defaults.hpp"
#include "actors/trace/trace_actor.hpp"
#include "messages/interfaces.hpp"

namespace rcmgr {

struct gate_options {
  /// What "scopes_scale": "auto" scales by. Absent: read from the system
  /// (/proc/meminfo, the cgroup v2 memory.max, RLIMIT_NOFILE) at start and
  /// at each config update; given: these (tests, rcmgr-replay).
  std::optional<scale_readings> scope_readings;
  /// The most entries of each list in the dump part `scopes`.
  std::size_t dump_list_cap = 1000;
  /// Where each decided input goes with its verdict (docs/trace.md); none:
  /// nothing is traced.
  trace_hook trace;
};

/// The system's readings for "scopes_scale": "auto"; a figure that cannot be
/// read is 0 (no cgroup limit; RAM or RLIMIT_NOFILE unknown scale go's base
/// limits).
scale_readings read_scale_readings();

gate_actor spawn_gate(caf::actor_system& sys, const node_config& cfg,
                      gate_options opts = {});

} // namespace rcmgr
