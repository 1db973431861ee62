// go-libp2p's default scope limits and how they scale (DESIGN §6.1): plain
// C++, no CAF, no system reads (the readings are parameters).
//
// Every scope class has a base (what a node with at most 128 MiB for libp2p
// and 256 file descriptors gets) and an increase per GiB of memory above
// that, plus a fraction of the file descriptors. scale() computes what go's
// ScalingLimitConfig.Scale(memory, fds) computes, with the same integer
// arithmetic, except that a result too large for go's int64 saturates at
// "unlimited" instead of wrapping. The defaults are go's DefaultLimits
// without the limits go adds for its bundled protocols (identify, ping,
// autonat, relay).
#pragma once

#include <cstdint>

#include "messages/scope_config.hpp"

namespace rcmgr {

/// go's BaseLimitIncrease: added per GiB of memory; `fd_fraction` of the
/// file descriptors (when > 0) replaces the base FD limit if it is larger.
struct scope_limit_increase {
  std::uint64_t streams = 0;
  std::uint64_t streams_inbound = 0;
  std::uint64_t streams_outbound = 0;
  std::uint64_t conns = 0;
  std::uint64_t conns_inbound = 0;
  std::uint64_t conns_outbound = 0;
  std::uint64_t memory = 0;
  double fd_fraction = 0;
};

/// One class's base and increase.
struct scaling_limits {
  scope_limits base;
  scope_limit_increase increase;
};

/// go's ScalingLimitConfig without its per-name maps (the defaults have
/// none once the bundled protocols' limits are left out).
struct scaling_limit_config {
  scaling_limits system;
  scaling_limits transient;
  scaling_limits allowlisted_system;
  scaling_limits allowlisted_transient;
  scaling_limits service;
  scaling_limits service_peer;
  scaling_limits protocol;
  scaling_limits protocol_peer;
  scaling_limits peer;
  scaling_limits conn;
  scaling_limits stream;
};

/// go's DefaultLimits.
const scaling_limit_config& default_scaling_limits();

/// One class scaled (go's scale()): with more than 128 MiB, each count gets
/// base + increase * MiB / 1024 (integer arithmetic, as go); the FD limit is
/// the larger of the base and fd_fraction x fds when both are above 0.
scope_limits scale(const scaling_limits& limits, std::uint64_t memory_bytes,
                   std::uint64_t fds);

/// Every class scaled (go's ScalingLimitConfig.Scale). As in go, the stream
/// class scales with the connection class's increase (both are 0 in the
/// defaults).
scope_limit_config scale(const scaling_limit_config& cfg, std::uint64_t memory_bytes,
                         std::uint64_t fds);

/// What "scopes_scale": "auto" gives: 1/8 of the effective memory (the
/// smaller of physical RAM and the cgroup v2 memory.max; 0 = no cgroup
/// limit) and 1/2 of the RLIMIT_NOFILE soft limit.
struct scale_inputs {
  std::uint64_t memory_bytes = 0;
  std::uint64_t fds = 0;
};
scale_inputs auto_scale(std::uint64_t physical_memory, std::uint64_t cgroup_memory_max,
                        std::uint64_t nofile_soft_limit);

/// What "scopes_scale": "auto" reads: physical RAM, the cgroup v2
/// memory.max (0: none) and the RLIMIT_NOFILE soft limit. The gate's shell
/// reads them from the system, or takes them injected (tests, replay).
struct scale_readings {
  std::uint64_t physical_memory = 0;
  std::uint64_t cgroup_memory_max = 0;
  std::uint64_t nofile_soft_limit = 0;
};

/// The scale a "scopes_scale" value asks for, given the readings "auto" uses.
scale_inputs scale_for(const scopes_scale_config& cfg, std::uint64_t physical_memory,
                       std::uint64_t cgroup_memory_max, std::uint64_t nofile_soft_limit);

/// A limit document resolved against defaults (go's PartialLimitConfig.Build):
/// a "default" or unset field takes the default; an entry of Service,
/// ServicePeer, Protocol, ProtocolPeer or Peer takes, for its unset fields,
/// the defaults' entry of the same name when there is one, else its class's
/// default as the document resolves it.
scope_limit_config build(const scope_limit_document& doc,
                         const scope_limit_config& defaults);

/// Resolved limits written back as a document with every field explicit
/// (go's ToPartialLimitConfig): 0 is blockAll, the largest value unlimited.
scope_limit_document to_document(const scope_limit_config& limits);

/// go's defaults scaled, then the document resolved against them: the limits
/// a node runs with for {"scopes": doc, "scopes_scale": ...}.
scope_limit_config resolve_scope_limits(const scope_limit_document& doc,
                                        scale_inputs scale_by);

} // namespace rcmgr
