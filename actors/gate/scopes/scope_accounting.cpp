#include "actors/gate/scopes/scope_accounting.hpp"

namespace rcmgr {

namespace {

std::uint64_t minus_clamped(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

} // namespace

scope_usage& scope_usage::operator+=(const scope_usage& x) {
  conns_inbound += x.conns_inbound;
  conns_outbound += x.conns_outbound;
  streams_inbound += x.streams_inbound;
  streams_outbound += x.streams_outbound;
  fd += x.fd;
  memory += x.memory;
  return *this;
}

scope_usage& scope_usage::operator-=(const scope_usage& x) {
  conns_inbound = minus_clamped(conns_inbound, x.conns_inbound);
  conns_outbound = minus_clamped(conns_outbound, x.conns_outbound);
  streams_inbound = minus_clamped(streams_inbound, x.streams_inbound);
  streams_outbound = minus_clamped(streams_outbound, x.streams_outbound);
  fd = minus_clamped(fd, x.fd);
  memory = minus_clamped(memory, x.memory);
  return *this;
}

bool operator==(const scope_usage& a, const scope_usage& b) {
  return a.conns_inbound == b.conns_inbound && a.conns_outbound == b.conns_outbound &&
         a.streams_inbound == b.streams_inbound &&
         a.streams_outbound == b.streams_outbound && a.fd == b.fd && a.memory == b.memory;
}

scope_usage conn_usage(direction dir, bool usefd, std::uint64_t memory) {
  scope_usage u;
  (dir == direction::inbound ? u.conns_inbound : u.conns_outbound) = 1;
  u.fd = usefd ? 1 : 0;
  u.memory = memory;
  return u;
}

scope_usage stream_usage(direction dir, std::uint64_t memory) {
  scope_usage u;
  (dir == direction::inbound ? u.streams_inbound : u.streams_outbound) = 1;
  u.memory = memory;
  return u;
}

scope_request scope_request::conn(direction dir, bool usefd) {
  scope_request r;
  r.delta = conn_usage(dir, usefd, 0);
  r.check_conns = true;
  return r;
}

scope_request scope_request::stream(direction dir) {
  scope_request r;
  r.delta = stream_usage(dir, 0);
  r.check_streams = true;
  return r;
}

scope_request scope_request::memory(std::uint64_t bytes, std::uint8_t priority) {
  scope_request r;
  r.delta.memory = bytes;
  r.priority = priority;
  r.check_memory = true;
  return r;
}

scope_request scope_request::move(const scope_usage& held) {
  scope_request r;
  r.delta = held;
  r.priority = priority_always;
  r.check_memory = true;
  r.check_streams = true;
  r.check_conns = true;
  return r;
}

std::uint64_t memory_threshold(std::uint64_t limit, std::uint8_t priority) {
  // limit = 256 q + r: limit * p / 256 = q * p + r * p / 256, with q * p an
  // integer, so the floor is exact and nothing overflows for p <= 256.
  std::uint64_t p = static_cast<std::uint64_t>(priority) + 1;
  return (limit >> 8) * p + (((limit & 0xff) * p) >> 8);
}

bool memory_allowed(std::uint64_t current, std::uint64_t size, std::uint64_t limit,
                    std::uint8_t priority) {
  // go keeps memory in an int64: a sum past its largest value is refused.
  if (size > scope_unlimited || current > scope_unlimited - size)
    return false;
  if (limit >= scope_unlimited)
    return true;
  return current + size <= memory_threshold(limit, priority);
}

namespace {

/// current + attempted > limit, for counts far below 2^64.
bool over(std::uint64_t current, std::uint64_t attempted, std::uint64_t limit) {
  return current + attempted > limit;
}

} // namespace

std::optional<scope_refusal> check(const scope_usage& use, const scope_limits& limits,
                                   const scope_request& request) {
  auto& d = request.delta;
  if (request.check_memory &&
      !memory_allowed(use.memory, d.memory, limits.memory, request.priority))
    return scope_refusal{scope_resource::memory, limits.memory, use.memory, d.memory};
  if (request.check_streams) {
    if (d.streams_inbound > 0 &&
        over(use.streams_inbound, d.streams_inbound, limits.streams_inbound))
      return scope_refusal{scope_resource::streams_inbound, limits.streams_inbound,
                           use.streams_inbound, d.streams_inbound};
    if (d.streams_outbound > 0 &&
        over(use.streams_outbound, d.streams_outbound, limits.streams_outbound))
      return scope_refusal{scope_resource::streams_outbound, limits.streams_outbound,
                           use.streams_outbound, d.streams_outbound};
    auto current = use.streams_inbound + use.streams_outbound;
    auto attempted = d.streams_inbound + d.streams_outbound;
    if (over(current, attempted, limits.streams))
      return scope_refusal{scope_resource::streams, limits.streams, current, attempted};
  }
  if (request.check_conns) {
    if (d.conns_inbound > 0 &&
        over(use.conns_inbound, d.conns_inbound, limits.conns_inbound))
      return scope_refusal{scope_resource::conns_inbound, limits.conns_inbound,
                           use.conns_inbound, d.conns_inbound};
    if (d.conns_outbound > 0 &&
        over(use.conns_outbound, d.conns_outbound, limits.conns_outbound))
      return scope_refusal{scope_resource::conns_outbound, limits.conns_outbound,
                           use.conns_outbound, d.conns_outbound};
    auto current = use.conns_inbound + use.conns_outbound;
    auto attempted = d.conns_inbound + d.conns_outbound;
    if (over(current, attempted, limits.conns))
      return scope_refusal{scope_resource::conns, limits.conns, current, attempted};
    if (d.fd > 0 && over(use.fd, d.fd, limits.fd))
      return scope_refusal{scope_resource::fd, limits.fd, use.fd, d.fd};
  }
  return std::nullopt;
}

reserve_outcome reserve(scope_node* const* path, std::size_t size,
                        const scope_request& request, bool force) {
  reserve_outcome out;
  for (std::size_t i = 0; i < size; ++i) {
    auto& node = *path[i];
    if (auto why = check(node.use, *node.limits, request)) {
      out.refusal = path_refusal{i, *why};
      break;
    }
  }
  if (out.refusal && !force)
    return out;
  if (out.refusal) {
    // Even in a dry run a sum must fit go's int64 everywhere.
    for (std::size_t i = 0; i < size; ++i)
      if (!memory_allowed(path[i]->use.memory, request.delta.memory, scope_unlimited,
                          priority_always))
        return out;
  }
  for (std::size_t i = 0; i < size; ++i)
    path[i]->use += request.delta;
  out.applied = true;
  return out;
}

void release(scope_node* const* path, std::size_t size, const scope_usage& delta) {
  for (std::size_t i = 0; i < size; ++i)
    path[i]->use -= delta;
}

} // namespace rcmgr
