// The scope graph of resource_scopes: its limits, the references that keep
// dynamic scopes alive, the paths of connections and streams, and the form of
// a refusal. Reservations: scope_reservations.cpp; queries and the audit:
// scope_queries.cpp; the dump: scope_dump.cpp.
#include "actors/gate/scopes/resource_scopes.hpp"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace rcmgr {

bool operator==(const scope_denial& a, const scope_denial& b) {
  return std::tie(a.scope, a.scope_kind, a.resource, a.dir, a.limit, a.current,
                  a.attempted, a.priority, a.conn, a.stream, a.peer, a.protocol,
                  a.service) == std::tie(b.scope, b.scope_kind, b.resource, b.dir,
                                         b.limit, b.current, b.attempted, b.priority,
                                         b.conn, b.stream, b.peer, b.protocol, b.service);
}

denial to_denial(const scope_denial& x) {
  denial d;
  d.code = denial_code::scope_limit;
  d.scope_name = x.scope;
  d.scope_kind = x.scope_kind;
  d.resource = x.resource;
  d.limit = x.limit;
  d.current = x.current;
  d.attempted = x.attempted;
  d.has_dir = x.dir.has_value();
  d.dir = x.dir.value_or(direction::inbound);
  d.has_priority = x.priority.has_value();
  d.priority = x.priority.value_or(0);
  d.has_conn = x.conn.has_value();
  d.conn = x.conn.value_or(0);
  d.has_stream = x.stream.has_value();
  d.stream = x.stream.value_or(0);
  d.peer = x.peer;
  d.protocol = x.protocol;
  d.service = x.service;
  return d;
}

// -- construction and limits ---------------------------------------------------

resource_scopes::resource_scopes(scope_limit_config limits, scope_scale_info scale) {
  set_limits(std::move(limits), std::move(scale));
}

void resource_scopes::set_limits(scope_limit_config limits, scope_scale_info scale) {
  cfg_ = std::move(limits);
  scale_ = std::move(scale);
  point_limits();
}

void resource_scopes::point_limits() {
  system_.limits = &cfg_.system;
  transient_.limits = &cfg_.transient;
  allowlisted_system_.limits = &cfg_.allowlisted_system;
  allowlisted_transient_.limits = &cfg_.allowlisted_transient;
  // Live scopes take their new limits; scopes the config no longer names
  // lose the reference their name held.
  std::vector<peer_handle> unnamed_peers;
  peers_.for_each([&](peer_handle h) {
    auto& p = peers_.value(h);
    p.node.limits = &cfg_.peer_limits(peers_.text(h));
    if (p.named && cfg_.peer.count(peers_.text(h)) == 0)
      unnamed_peers.push_back(h);
  });
  for (auto h : unnamed_peers) {
    peers_.value(h).named = false;
    release_peer(h);
  }
  for (auto& [id, limits] : cfg_.peer) {
    peer_handle h;
    if (peers_.find(id, h) && peers_.value(h).named)
      continue;
    peers_.value(acquire_peer(id)).named = true;
  }
  auto regroup = [this](group_pool& pool, bool is_service,
                        const std::map<std::string, scope_limits, std::less<>>& named) {
    std::vector<group_handle> unnamed;
    pool.for_each([&](group_handle h) {
      auto& g = pool.value(h);
      auto& name = pool.text(h);
      g.node.limits =
          is_service ? &cfg_.service_limits(name) : &cfg_.protocol_limits(name);
      auto* peer_limits =
          is_service ? &cfg_.service_peer_limits(name) : &cfg_.protocol_peer_limits(name);
      for (auto& [peer, node] : g.peers)
        node.limits = peer_limits;
      if (g.named && named.count(name) == 0)
        unnamed.push_back(h);
    });
    for (auto h : unnamed) {
      pool.value(h).named = false;
      release_group(pool, h);
    }
    for (auto& [name, limits] : named) {
      group_handle h;
      if (pool.find(name, h) && pool.value(h).named)
        continue;
      pool.value(acquire_group(pool, name, is_service)).named = true;
    }
  };
  regroup(protocols_, false, cfg_.protocol);
  regroup(services_, true, cfg_.service);
}

// -- scope references ----------------------------------------------------------

resource_scopes::peer_handle resource_scopes::acquire_peer(std::string_view id) {
  auto h = peers_.acquire(id);
  auto& p = peers_.value(h);
  if (p.node.limits == nullptr)
    p.node.limits = &cfg_.peer_limits(id);
  return h;
}

void resource_scopes::release_peer(peer_handle h) {
  peers_.release(h);
}

resource_scopes::group_handle
resource_scopes::acquire_group(group_pool& pool, std::string_view name, bool is_service) {
  auto h = pool.acquire(name);
  auto& g = pool.value(h);
  if (g.node.limits == nullptr)
    g.node.limits = is_service ? &cfg_.service_limits(name) : &cfg_.protocol_limits(name);
  return h;
}

void resource_scopes::release_group(group_pool& pool, group_handle h) {
  pool.release(h);
}

scope_node& resource_scopes::acquire_group_peer(group_pool& pool, group_handle g,
                                                peer_handle p, bool is_service) {
  auto [i, fresh] = pool.value(g).peers.try_emplace(p);
  if (fresh) {
    auto& name = pool.text(g);
    i->second.limits =
        is_service ? &cfg_.service_peer_limits(name) : &cfg_.protocol_peer_limits(name);
  }
  return i->second;
}

void resource_scopes::release_group_peer(group_pool& pool, group_handle g,
                                         peer_handle p) {
  auto& peers = pool.value(g).peers;
  auto i = peers.find(p);
  if (i != peers.end() && i->second.use.holders() == 0)
    peers.erase(i);
}

// -- paths ---------------------------------------------------------------------

scope_node resource_scopes::self_node(const conn_entry& c) const {
  return scope_node{conn_usage(c.dir, c.usefd, c.memory), &cfg_.conn};
}

scope_node resource_scopes::self_node(const stream_entry& s) const {
  return scope_node{stream_usage(s.dir, s.memory), &cfg_.stream};
}

resource_scopes::path resource_scopes::conn_path(conn_entry& c, scope_node* self) {
  path p;
  p.add(self, scope_class::conn);
  if (c.established)
    p.add(&peers_.value(c.peer).node, scope_class::peer);
  else
    p.add(&conn_transient(c),
          c.allowlisted ? scope_class::allowlisted_transient : scope_class::transient);
  p.add(&conn_system(c),
        c.allowlisted ? scope_class::allowlisted_system : scope_class::system);
  return p;
}

resource_scopes::path resource_scopes::stream_path(stream_entry& s, scope_node* self) {
  path p;
  p.add(self, scope_class::stream);
  p.add(&peers_.value(s.peer).node, scope_class::peer);
  if (s.has_protocol) {
    p.add(s.protocol_peer, scope_class::protocol_peer);
    if (s.has_service)
      p.add(s.service_peer, scope_class::service_peer);
    p.add(&protocols_.value(s.protocol).node, scope_class::protocol);
    if (s.has_service)
      p.add(&services_.value(s.service).node, scope_class::service);
  } else {
    p.add(&transient_, scope_class::transient);
  }
  p.add(&system_, scope_class::system);
  return p;
}

// -- results -------------------------------------------------------------------

scope_result resource_scopes::error(anomaly kind, std::string text) {
  anomalies_.add(kind);
  return scope_result{verdict_kind::error, {}, std::move(text)};
}

scope_denial resource_scopes::make_denial(scope_class kind, const scope_refusal& why,
                                          const subject& s,
                                          std::optional<std::uint8_t> priority) const {
  scope_denial d;
  switch (kind) {
  case scope_class::conn:
    d.scope = "conn-" + std::to_string(s.conn.value_or(0));
    break;
  case scope_class::stream:
    d.scope = "stream-" + std::to_string(s.stream.value_or(0));
    break;
  case scope_class::peer:
    d.scope = "peer:" + std::string{s.peer};
    break;
  case scope_class::protocol:
    d.scope = "protocol:" + std::string{s.protocol};
    break;
  case scope_class::protocol_peer:
    d.scope = "protocol:" + std::string{s.protocol} + ".peer:" + std::string{s.peer};
    break;
  case scope_class::service:
    d.scope = "service:" + std::string{s.service};
    break;
  case scope_class::service_peer:
    d.scope = "service:" + std::string{s.service} + ".peer:" + std::string{s.peer};
    break;
  default:
    d.scope = to_string(kind);
    break;
  }
  d.scope_kind = kind;
  d.resource = why.resource;
  if (why.resource == scope_resource::memory)
    d.priority = priority;
  else
    d.dir = s.dir;
  d.limit = why.limit;
  d.current = why.current;
  d.attempted = why.attempted;
  d.conn = s.conn;
  d.stream = s.stream;
  d.peer = std::string{s.peer};
  d.protocol = std::string{s.protocol};
  d.service = std::string{s.service};
  return d;
}

scope_result resource_scopes::refused(const reserve_outcome& r, const path& p,
                                      const subject& s,
                                      std::optional<std::uint8_t> priority) {
  auto& at = *r.refusal;
  auto kind = p.kinds[at.index];
  auto d = make_denial(kind, at.why, s, priority);
  std::size_t dir = d.dir ? static_cast<std::size_t>(*d.dir) : 2;
  auto& counts = r.applied ? would_block_ : blocked_;
  ++counts[static_cast<std::size_t>(kind)][static_cast<std::size_t>(d.resource)][dir];
  return scope_result{
      r.applied ? verdict_kind::allow : verdict_kind::deny, std::move(d), {}};
}
} // namespace rcmgr
