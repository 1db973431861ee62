#include "actors/gate/scopes/scope_defaults.hpp"

#include <algorithm>

namespace rcmgr {

namespace {

constexpr std::uint64_t mib = 1ull << 20;
constexpr std::uint64_t gib = 1ull << 30;

scaling_limit_config make_defaults() {
  // go-libp2p p2p/host/resource-manager/limit_defaults.go, DefaultLimits.
  scaling_limit_config d;
  // system and allowlisted system
  d.system.base = {128 * 16, 64 * 16, 128 * 16, 128, 64, 128, 256, 128 * mib};
  d.system.increase = {128 * 16, 64 * 16, 128 * 16, 128, 64, 128, gib, 1.0};
  d.allowlisted_system = d.system;
  // transient and allowlisted transient
  d.transient.base = {256, 128, 256, 64, 32, 64, 64, 32 * mib};
  d.transient.increase = {256, 128, 256, 32, 16, 32, 128 * mib, 0.25};
  d.allowlisted_transient = d.transient;
  // streams only from here on, except the peer and connection classes
  d.service.base = {4096, 1024, 4096, 0, 0, 0, 0, 64 * mib};
  d.service.increase = {2048, 512, 2048, 0, 0, 0, 128 * mib, 0};
  d.service_peer.base = {256, 128, 256, 0, 0, 0, 0, 16 * mib};
  d.service_peer.increase = {8, 4, 8, 0, 0, 0, 4 * mib, 0};
  d.protocol.base = {2048, 512, 2048, 0, 0, 0, 0, 64 * mib};
  d.protocol.increase = {512, 256, 512, 0, 0, 0, 164 * mib, 0};
  d.protocol_peer.base = {256, 64, 128, 0, 0, 0, 0, 16 * mib};
  // go's protocol-peer memory increase is 4 bytes per GiB (sic).
  d.protocol_peer.increase = {16, 4, 8, 0, 0, 0, 4, 0};
  d.peer.base = {512, 256, 512, 8, 8, 8, 4, 64 * mib};
  d.peer.increase = {256, 128, 256, 0, 0, 0, 128 * mib, 1.0 / 64};
  d.conn.base = {0, 0, 0, 1, 1, 1, 1, 32 * mib};
  d.stream.base = {1, 1, 1, 0, 0, 0, 0, 16 * mib};
  return d;
}

/// base + increase * mebibytes / 1024, saturating at go's largest int.
std::uint64_t grow(std::uint64_t base, std::uint64_t increase, std::uint64_t mebibytes) {
  unsigned __int128 extra = static_cast<unsigned __int128>(increase) * mebibytes;
  extra >>= 10;
  unsigned __int128 sum = static_cast<unsigned __int128>(base) + extra;
  return sum >= scope_unlimited ? scope_unlimited : static_cast<std::uint64_t>(sum);
}

} // namespace

const scaling_limit_config& default_scaling_limits() {
  static const scaling_limit_config defaults = make_defaults();
  return defaults;
}

scope_limits scale(const scaling_limits& limits, std::uint64_t memory_bytes,
                   std::uint64_t fds) {
  // go takes int64 memory and int fds; larger inputs count as go's largest.
  memory_bytes = std::min(memory_bytes, scope_unlimited);
  fds = std::min(fds, scope_unlimited);
  // At most 128 MiB: the base alone.
  std::uint64_t mebibytes = memory_bytes > 128 * mib ? memory_bytes >> 20 : 0;
  auto& b = limits.base;
  auto& i = limits.increase;
  scope_limits out;
  out.streams = grow(b.streams, i.streams, mebibytes);
  out.streams_inbound = grow(b.streams_inbound, i.streams_inbound, mebibytes);
  out.streams_outbound = grow(b.streams_outbound, i.streams_outbound, mebibytes);
  out.conns = grow(b.conns, i.conns, mebibytes);
  out.conns_inbound = grow(b.conns_inbound, i.conns_inbound, mebibytes);
  out.conns_outbound = grow(b.conns_outbound, i.conns_outbound, mebibytes);
  out.memory = grow(b.memory, i.memory, mebibytes);
  out.fd = b.fd;
  if (i.fd_fraction > 0 && fds > 0) {
    // go: int(fraction * float64(fds)), truncated toward zero.
    double share = i.fd_fraction * static_cast<double>(fds);
    std::uint64_t n = share >= static_cast<double>(scope_unlimited)
                          ? scope_unlimited
                          : static_cast<std::uint64_t>(share);
    out.fd = std::max(n, b.fd);
  }
  return out;
}

scope_limit_config scale(const scaling_limit_config& cfg, std::uint64_t memory_bytes,
                         std::uint64_t fds) {
  scope_limit_config out;
  out.system = scale(cfg.system, memory_bytes, fds);
  out.transient = scale(cfg.transient, memory_bytes, fds);
  out.allowlisted_system = scale(cfg.allowlisted_system, memory_bytes, fds);
  out.allowlisted_transient = scale(cfg.allowlisted_transient, memory_bytes, fds);
  out.service_default = scale(cfg.service, memory_bytes, fds);
  out.service_peer_default = scale(cfg.service_peer, memory_bytes, fds);
  out.protocol_default = scale(cfg.protocol, memory_bytes, fds);
  out.protocol_peer_default = scale(cfg.protocol_peer, memory_bytes, fds);
  out.peer_default = scale(cfg.peer, memory_bytes, fds);
  out.conn = scale(cfg.conn, memory_bytes, fds);
  out.stream =
      scale(scaling_limits{cfg.stream.base, cfg.conn.increase}, memory_bytes, fds);
  return out;
}

scale_inputs auto_scale(std::uint64_t physical_memory, std::uint64_t cgroup_memory_max,
                        std::uint64_t nofile_soft_limit) {
  auto effective = physical_memory;
  if (cgroup_memory_max > 0 && cgroup_memory_max < effective)
    effective = cgroup_memory_max;
  return scale_inputs{effective / 8, nofile_soft_limit / 2};
}

scale_inputs scale_for(const scopes_scale_config& cfg, std::uint64_t physical_memory,
                       std::uint64_t cgroup_memory_max, std::uint64_t nofile_soft_limit) {
  if (!cfg.automatic)
    return scale_inputs{cfg.memory_bytes, cfg.fds};
  return auto_scale(physical_memory, cgroup_memory_max, nofile_soft_limit);
}

namespace {

scope_limits build_one(const partial_scope_limits& p, const scope_limits& d) {
  scope_limits out;
  out.streams = p.streams.resolve(d.streams);
  out.streams_inbound = p.streams_inbound.resolve(d.streams_inbound);
  out.streams_outbound = p.streams_outbound.resolve(d.streams_outbound);
  out.conns = p.conns.resolve(d.conns);
  out.conns_inbound = p.conns_inbound.resolve(d.conns_inbound);
  out.conns_outbound = p.conns_outbound.resolve(d.conns_outbound);
  out.fd = p.fd.resolve(d.fd);
  out.memory = p.memory.resolve(d.memory);
  return out;
}

using resolved_map = std::map<std::string, scope_limits, std::less<>>;

resolved_map build_map(const std::map<std::string, partial_scope_limits>& doc,
                       const resolved_map& defaults, const scope_limits& fallback) {
  resolved_map out = defaults;
  for (auto& [key, partial] : doc) {
    auto i = out.find(key);
    auto& base = i == out.end() ? fallback : i->second;
    out[key] = build_one(partial, base);
  }
  return out;
}

} // namespace

scope_limit_config build(const scope_limit_document& doc,
                         const scope_limit_config& defaults) {
  scope_limit_config out;
  out.system = build_one(doc.system, defaults.system);
  out.transient = build_one(doc.transient, defaults.transient);
  out.allowlisted_system = build_one(doc.allowlisted_system, defaults.allowlisted_system);
  out.allowlisted_transient =
      build_one(doc.allowlisted_transient, defaults.allowlisted_transient);
  out.service_default = build_one(doc.service_default, defaults.service_default);
  out.service_peer_default =
      build_one(doc.service_peer_default, defaults.service_peer_default);
  out.protocol_default = build_one(doc.protocol_default, defaults.protocol_default);
  out.protocol_peer_default =
      build_one(doc.protocol_peer_default, defaults.protocol_peer_default);
  out.peer_default = build_one(doc.peer_default, defaults.peer_default);
  out.conn = build_one(doc.conn, defaults.conn);
  out.stream = build_one(doc.stream, defaults.stream);
  // Entries fall back on the classes' defaults as the document resolved them.
  out.service = build_map(doc.service, defaults.service, out.service_default);
  out.service_peer =
      build_map(doc.service_peer, defaults.service_peer, out.service_peer_default);
  out.protocol = build_map(doc.protocol, defaults.protocol, out.protocol_default);
  out.protocol_peer =
      build_map(doc.protocol_peer, defaults.protocol_peer, out.protocol_peer_default);
  out.peer = build_map(doc.peer, defaults.peer, out.peer_default);
  return out;
}

namespace {

partial_scope_limits to_partial(const scope_limits& x) {
  partial_scope_limits out;
  out.streams = limit_value::of(x.streams);
  out.streams_inbound = limit_value::of(x.streams_inbound);
  out.streams_outbound = limit_value::of(x.streams_outbound);
  out.conns = limit_value::of(x.conns);
  out.conns_inbound = limit_value::of(x.conns_inbound);
  out.conns_outbound = limit_value::of(x.conns_outbound);
  out.fd = limit_value::of(x.fd);
  out.memory = limit_value::of(x.memory);
  return out;
}

std::map<std::string, partial_scope_limits> to_partial(const resolved_map& m) {
  std::map<std::string, partial_scope_limits> out;
  for (auto& [key, limits] : m)
    out.emplace(key, to_partial(limits));
  return out;
}

} // namespace

scope_limit_document to_document(const scope_limit_config& x) {
  scope_limit_document out;
  out.system = to_partial(x.system);
  out.transient = to_partial(x.transient);
  out.allowlisted_system = to_partial(x.allowlisted_system);
  out.allowlisted_transient = to_partial(x.allowlisted_transient);
  out.service_default = to_partial(x.service_default);
  out.service_peer_default = to_partial(x.service_peer_default);
  out.protocol_default = to_partial(x.protocol_default);
  out.protocol_peer_default = to_partial(x.protocol_peer_default);
  out.peer_default = to_partial(x.peer_default);
  out.conn = to_partial(x.conn);
  out.stream = to_partial(x.stream);
  out.service = to_partial(x.service);
  out.service_peer = to_partial(x.service_peer);
  out.protocol = to_partial(x.protocol);
  out.protocol_peer = to_partial(x.protocol_peer);
  out.peer = to_partial(x.peer);
  return out;
}

scope_limit_config resolve_scope_limits(const scope_limit_document& doc,
                                        scale_inputs scale_by) {
  return build(doc, scale(default_scaling_limits(), scale_by.memory_bytes, scale_by.fds));
}

} // namespace rcmgr
