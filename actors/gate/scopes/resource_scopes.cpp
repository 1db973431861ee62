#include "actors/gate/scopes/resource_scopes.hpp"

#include "actors/gate/scopes/scopes_json.hpp"

#include <algorithm>
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
    auto& protocol = protocols_.value(s.protocol);
    p.add(&protocol.peers.at(s.peer), scope_class::protocol_peer);
    if (s.has_service)
      p.add(&services_.value(s.service).peers.at(s.peer), scope_class::service_peer);
    p.add(&protocol.node, scope_class::protocol);
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

namespace {

/// A reservation as the core makes it: refused ones are forced through in a
/// dry run (and still report what refused them).
reserve_outcome attempt(const std::array<scope_node*, 7>& nodes, std::size_t size,
                        const scope_request& request, bool dry_run) {
  auto r = reserve(nodes.data(), size, request, false);
  if (r.refusal && dry_run)
    r = reserve(nodes.data(), size, request, true);
  return r;
}

} // namespace

// -- connections ---------------------------------------------------------------

scope_result resource_scopes::open_conn(connection_id conn, direction dir, bool usefd,
                                        time_ns now, bool allowlisted, bool bypassed) {
  if (conns_.count(conn) > 0)
    return error(anomaly::duplicate_connection,
                 "duplicate connection id " + std::to_string(conn));
  conn_entry c;
  c.opened_at = now;
  c.dir = dir;
  c.usefd = usefd;
  c.charged = !bypassed;
  if (bypassed) {
    conn_nodes_.insert(conns_, conn, c);
    return allow();
  }
  auto request = scope_request::conn(dir, usefd);
  subject who;
  who.conn = conn;
  who.dir = dir;
  // The connection's own scope starts empty: it is checked like any other.
  scope_node self{{}, &cfg_.conn};
  auto p = conn_path(c, &self);
  auto r = reserve(p.nodes.data(), p.size, request, false);
  if (r.refusal && allowlisted) {
    // As go: the allowlisted scopes take it when the normal ones refuse, and
    // when they refuse too, theirs is the refusal reported.
    conn_entry a = c;
    a.allowlisted = true;
    scope_node other_self{{}, &cfg_.conn};
    auto q = conn_path(a, &other_self);
    auto ra = reserve(q.nodes.data(), q.size, request, false);
    if (!ra.refusal) {
      conn_nodes_.insert(conns_, conn, a);
      return allow();
    }
    if (dry_run_) {
      auto forced = reserve(p.nodes.data(), p.size, request, true);
      ra.applied = forced.applied;
    }
    if (ra.applied)
      conn_nodes_.insert(conns_, conn, c);
    return refused(ra, q, who, std::nullopt);
  }
  if (r.refusal && dry_run_)
    r = reserve(p.nodes.data(), p.size, request, true);
  if (!r.refusal || r.applied)
    conn_nodes_.insert(conns_, conn, c);
  if (r.refusal)
    return refused(r, p, who, std::nullopt);
  return allow();
}

scope_result resource_scopes::establish_conn(connection_id conn, std::string_view peer,
                                             direction dir, bool usefd, time_ns now,
                                             bool peer_allowlisted, bool bypassed) {
  if (peer.empty())
    return error(anomaly::missing_peer,
                 "connection " + std::to_string(conn) + " established without a peer");
  auto i = conns_.find(conn);
  if (i != conns_.end() && i->second.established)
    return error(anomaly::duplicate_connection,
                 "connection " + std::to_string(conn) + " is already established");
  subject who;
  who.conn = conn;
  who.peer = peer;
  if (i != conns_.end() && i->second.charged) {
    auto& c = i->second;
    who.dir = c.dir;
    if (bypassed) {
      drop(c);
      c.charged = false;
      c.established = true;
      c.memory = 0;
      return allow();
    }
    // Everything it holds moves into the peer's scope.
    auto held = conn_usage(c.dir, c.usefd, c.memory);
    auto h = acquire_peer(peer);
    path p;
    bool to_standard = c.allowlisted && !peer_allowlisted;
    if (to_standard) {
      // Admitted through the allowlist, but this peer is not allowed from
      // that address: it must fit the normal scopes (go's order).
      p.add(&system_, scope_class::system);
      p.add(&transient_, scope_class::transient);
    }
    p.add(&peers_.value(h).node, scope_class::peer);
    auto r = attempt(p.nodes, p.size, scope_request::move(held), dry_run_);
    if (!r.applied) {
      release_peer(h);
      drop(c);
      conn_nodes_.erase(conns_, i);
      return refused(r, p, who, priority_always);
    }
    if (to_standard) {
      // It entered system and transient above; it leaves the allowlisted ones.
      scope_node* old_scopes[] = {&allowlisted_transient_, &allowlisted_system_};
      rcmgr::release(old_scopes, 2, held);
      c.allowlisted = false;
    }
    scope_node* transient[] = {&conn_transient(c)};
    rcmgr::release(transient, 1, held);
    c.established = true;
    c.peer = h;
    if (r.refusal)
      return refused(r, p, who, priority_always);
    return allow();
  }
  // Not opened before (or opened by a bypassed peer): opened and established
  // at once, in the peer's scope.
  conn_entry c;
  c.opened_at = i != conns_.end() ? i->second.opened_at : now;
  c.dir = i != conns_.end() ? i->second.dir : dir;
  c.usefd = i != conns_.end() ? i->second.usefd : usefd;
  c.established = true;
  c.charged = !bypassed;
  who.dir = c.dir;
  if (bypassed) {
    conns_[conn] = c;
    return allow();
  }
  auto h = acquire_peer(peer);
  c.peer = h;
  scope_node self{{}, &cfg_.conn};
  auto p = conn_path(c, &self);
  auto r = attempt(p.nodes, p.size, scope_request::conn(c.dir, c.usefd), dry_run_);
  if (!r.applied) {
    release_peer(h);
    if (i != conns_.end())
      conn_nodes_.erase(conns_, i);
    return refused(r, p, who, std::nullopt);
  }
  conns_[conn] = c;
  if (r.refusal)
    return refused(r, p, who, std::nullopt);
  return allow();
}

scope_result resource_scopes::close_conn(connection_id conn) {
  auto i = conns_.find(conn);
  if (i == conns_.end())
    return error(anomaly::unknown_connection,
                 "unknown connection id " + std::to_string(conn));
  drop(i->second);
  conn_nodes_.erase(conns_, i);
  return ok();
}

void resource_scopes::drop(conn_entry& c) {
  if (!c.charged)
    return;
  auto self = self_node(c);
  auto p = conn_path(c, &self);
  rcmgr::release(p.nodes.data() + 1, p.size - 1, self.use);
  if (c.established)
    release_peer(c.peer);
}

// -- streams -------------------------------------------------------------------

scope_result resource_scopes::open_stream(stream_id stream, std::string_view peer,
                                          direction dir, time_ns now,
                                          std::optional<connection_id> conn,
                                          bool bypassed) {
  if (streams_.count(stream) > 0)
    return error(anomaly::duplicate_stream,
                 "duplicate stream id " + std::to_string(stream));
  if (peer.empty())
    return error(anomaly::missing_peer,
                 "stream " + std::to_string(stream) + " has no peer");
  stream_entry s;
  s.opened_at = now;
  s.dir = dir;
  s.has_conn = conn.has_value();
  s.conn = conn.value_or(0);
  s.charged = !bypassed;
  if (bypassed) {
    stream_nodes_.insert(streams_, stream, s);
    return allow();
  }
  s.peer = acquire_peer(peer);
  scope_node self{{}, &cfg_.stream};
  auto p = stream_path(s, &self);
  auto r = attempt(p.nodes, p.size, scope_request::stream(dir), dry_run_);
  subject who;
  who.stream = stream;
  who.conn = conn;
  who.peer = peer;
  who.dir = dir;
  if (!r.applied) {
    release_peer(s.peer);
    return refused(r, p, who, std::nullopt);
  }
  stream_nodes_.insert(streams_, stream, s);
  if (r.refusal)
    return refused(r, p, who, std::nullopt);
  return allow();
}

scope_result resource_scopes::set_stream_protocol(stream_id stream,
                                                  std::string_view protocol) {
  auto i = streams_.find(stream);
  if (i == streams_.end())
    return error(anomaly::unknown_stream, "unknown stream id " + std::to_string(stream));
  auto& s = i->second;
  if (protocol.empty())
    return error(anomaly::missing_protocol,
                 "stream " + std::to_string(stream) + ": the protocol is empty");
  if (s.has_protocol)
    return error(anomaly::stream_protocol_twice,
                 "stream " + std::to_string(stream) + " already has a protocol");
  if (!s.charged) {
    s.has_protocol = true;
    return allow();
  }
  return join_group(stream, s, protocols_, protocol, false);
}

scope_result resource_scopes::set_stream_service(stream_id stream,
                                                 std::string_view service) {
  auto i = streams_.find(stream);
  if (i == streams_.end())
    return error(anomaly::unknown_stream, "unknown stream id " + std::to_string(stream));
  auto& s = i->second;
  if (service.empty())
    return error(anomaly::missing_service,
                 "stream " + std::to_string(stream) + ": the service is empty");
  if (!s.has_protocol)
    return error(anomaly::service_before_protocol,
                 "stream " + std::to_string(stream) +
                     " has no protocol yet: a service needs the protocol first");
  if (s.has_service)
    return error(anomaly::stream_service_twice,
                 "stream " + std::to_string(stream) + " already has a service");
  if (!s.charged) {
    s.has_service = true;
    return allow();
  }
  return join_group(stream, s, services_, service, true);
}

scope_result resource_scopes::join_group(stream_id stream, stream_entry& s,
                                         group_pool& pool, std::string_view name,
                                         bool is_service) {
  auto held = stream_usage(s.dir, s.memory);
  auto g = acquire_group(pool, name, is_service);
  auto& gp = acquire_group_peer(pool, g, s.peer, is_service);
  path p;
  p.add(&pool.value(g).node, is_service ? scope_class::service : scope_class::protocol);
  p.add(&gp, is_service ? scope_class::service_peer : scope_class::protocol_peer);
  auto r = attempt(p.nodes, p.size, scope_request::move(held), dry_run_);
  subject who;
  who.stream = stream;
  if (s.has_conn)
    who.conn = s.conn;
  who.peer = peers_.text(s.peer);
  if (is_service) {
    who.protocol = protocols_.text(s.protocol);
    who.service = name;
  } else {
    who.protocol = name;
  }
  who.dir = s.dir;
  if (!r.applied) {
    // As go: the stream stays where it was.
    release_group_peer(pool, g, s.peer);
    release_group(pool, g);
    return refused(r, p, who, priority_always);
  }
  if (is_service) {
    s.service = g;
    s.has_service = true;
  } else {
    // A stream with a protocol leaves transient.
    scope_node* transient[] = {&transient_};
    rcmgr::release(transient, 1, held);
    s.protocol = g;
    s.has_protocol = true;
  }
  if (r.refusal)
    return refused(r, p, who, priority_always);
  return allow();
}

scope_result resource_scopes::close_stream(stream_id stream) {
  auto i = streams_.find(stream);
  if (i == streams_.end())
    return error(anomaly::unknown_stream, "unknown stream id " + std::to_string(stream));
  drop(i->second);
  stream_nodes_.erase(streams_, i);
  return ok();
}

void resource_scopes::drop(stream_entry& s) {
  if (!s.charged)
    return;
  auto self = self_node(s);
  auto p = stream_path(s, &self);
  rcmgr::release(p.nodes.data() + 1, p.size - 1, self.use);
  // Per-peer scopes first: they are found through their protocol or service.
  if (s.has_service) {
    release_group_peer(services_, s.service, s.peer);
    release_group(services_, s.service);
  }
  if (s.has_protocol) {
    release_group_peer(protocols_, s.protocol, s.peer);
    release_group(protocols_, s.protocol);
  }
  release_peer(s.peer);
}

// -- memory --------------------------------------------------------------------

scope_result resource_scopes::reserve_memory(holder_ref holder, std::uint64_t bytes,
                                             std::uint8_t priority) {
  auto request = scope_request::memory(bytes, priority);
  subject who;
  if (holder.kind == holder_ref::kind_t::conn) {
    auto i = conns_.find(holder.id);
    if (i == conns_.end())
      return error(anomaly::unknown_scope, "unknown scope " + holder_name(holder));
    auto& c = i->second;
    if (!c.charged)
      return allow();
    auto self = self_node(c);
    auto p = conn_path(c, &self);
    auto r = attempt(p.nodes, p.size, request, dry_run_);
    if (r.applied)
      c.memory += bytes;
    if (!r.refusal)
      return allow();
    who.conn = holder.id;
    if (c.established)
      who.peer = peers_.text(c.peer);
    return refused(r, p, who, priority);
  }
  auto i = streams_.find(holder.id);
  if (i == streams_.end())
    return error(anomaly::unknown_scope, "unknown scope " + holder_name(holder));
  auto& s = i->second;
  if (!s.charged)
    return allow();
  auto self = self_node(s);
  auto p = stream_path(s, &self);
  auto r = attempt(p.nodes, p.size, request, dry_run_);
  if (r.applied)
    s.memory += bytes;
  if (!r.refusal)
    return allow();
  who.stream = holder.id;
  if (s.has_conn)
    who.conn = s.conn;
  who.peer = peers_.text(s.peer);
  if (s.has_protocol)
    who.protocol = protocols_.text(s.protocol);
  if (s.has_service)
    who.service = services_.text(s.service);
  return refused(r, p, who, priority);
}

scope_result resource_scopes::release_memory(holder_ref holder, std::uint64_t bytes) {
  auto give_back = [&](std::uint64_t& held, path& p) {
    auto amount = std::min(bytes, held);
    if (bytes > held)
      anomalies_.add(anomaly::over_release);
    scope_usage delta;
    delta.memory = amount;
    rcmgr::release(p.nodes.data() + 1, p.size - 1, delta);
    held -= amount;
    return ok();
  };
  if (holder.kind == holder_ref::kind_t::conn) {
    auto i = conns_.find(holder.id);
    if (i == conns_.end())
      return error(anomaly::unknown_scope, "unknown scope " + holder_name(holder));
    auto& c = i->second;
    if (!c.charged)
      return ok();
    auto self = self_node(c);
    auto p = conn_path(c, &self);
    return give_back(c.memory, p);
  }
  auto i = streams_.find(holder.id);
  if (i == streams_.end())
    return error(anomaly::unknown_scope, "unknown scope " + holder_name(holder));
  auto& s = i->second;
  if (!s.charged)
    return ok();
  auto self = self_node(s);
  auto p = stream_path(s, &self);
  return give_back(s.memory, p);
}

// -- queries -------------------------------------------------------------------

std::optional<scope_usage> resource_scopes::peer(std::string_view id) const {
  peer_handle h;
  if (id.empty() || !peers_.find(id, h))
    return std::nullopt;
  return peers_.value(h).node.use;
}

std::optional<scope_usage> resource_scopes::protocol(std::string_view id) const {
  group_handle h;
  if (id.empty() || !protocols_.find(id, h))
    return std::nullopt;
  return protocols_.value(h).node.use;
}

std::optional<scope_usage> resource_scopes::service(std::string_view name) const {
  group_handle h;
  if (name.empty() || !services_.find(name, h))
    return std::nullopt;
  return services_.value(h).node.use;
}

namespace {

template <class GroupPool, class PeerPool>
std::optional<scope_usage> group_peer(const GroupPool& groups, const PeerPool& peers,
                                      std::string_view name, std::string_view peer) {
  typename GroupPool::handle g;
  typename PeerPool::handle p;
  if (name.empty() || peer.empty() || !groups.find(name, g) || !peers.find(peer, p))
    return std::nullopt;
  auto& sub = groups.value(g).peers;
  auto i = sub.find(p);
  if (i == sub.end())
    return std::nullopt;
  return i->second.use;
}

} // namespace

std::optional<scope_usage> resource_scopes::protocol_peer(std::string_view id,
                                                          std::string_view peer) const {
  return group_peer(protocols_, peers_, id, peer);
}

std::optional<scope_usage> resource_scopes::service_peer(std::string_view name,
                                                         std::string_view peer) const {
  return group_peer(services_, peers_, name, peer);
}

std::optional<scope_usage> resource_scopes::holder(holder_ref h) const {
  if (h.kind == holder_ref::kind_t::conn) {
    auto i = conns_.find(h.id);
    if (i == conns_.end())
      return std::nullopt;
    auto& c = i->second;
    return c.charged ? self_node(c).use : scope_usage{};
  }
  auto i = streams_.find(h.id);
  if (i == streams_.end())
    return std::nullopt;
  auto& s = i->second;
  return s.charged ? self_node(s).use : scope_usage{};
}

std::size_t resource_scopes::dynamic_scope_count() const {
  std::size_t n = peers_.size() + protocols_.size() + services_.size();
  protocols_.for_each([&](group_handle h) { n += protocols_.value(h).peers.size(); });
  services_.for_each([&](group_handle h) { n += services_.value(h).peers.size(); });
  return n;
}

std::uint64_t resource_scopes::blocked(scope_class c, scope_resource r,
                                       std::optional<direction> d) const {
  std::size_t dir = d ? static_cast<std::size_t>(*d) : 2;
  return blocked_[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)][dir];
}

std::string resource_scopes::audit() const {
  // What each scope should hold, from the connections and streams alone.
  scope_usage system, transient, allowlisted_system, allowlisted_transient;
  std::map<peer_handle, scope_usage> peer_use;
  std::map<peer_handle, std::uint32_t> peer_refs;
  std::map<group_handle, scope_usage> protocol_use, service_use;
  std::map<group_handle, std::uint32_t> protocol_refs, service_refs;
  std::map<std::pair<group_handle, peer_handle>, scope_usage> protocol_peer_use,
      service_peer_use;
  for (auto& [id, c] : conns_) {
    if (!c.charged)
      continue;
    auto u = self_node(c).use;
    (c.allowlisted ? allowlisted_system : system) += u;
    if (c.established) {
      peer_use[c.peer] += u;
      ++peer_refs[c.peer];
    } else {
      (c.allowlisted ? allowlisted_transient : transient) += u;
    }
  }
  for (auto& [id, s] : streams_) {
    if (!s.charged)
      continue;
    auto u = self_node(s).use;
    system += u;
    peer_use[s.peer] += u;
    ++peer_refs[s.peer];
    if (!s.has_protocol) {
      transient += u;
      continue;
    }
    protocol_use[s.protocol] += u;
    ++protocol_refs[s.protocol];
    protocol_peer_use[{s.protocol, s.peer}] += u;
    if (s.has_service) {
      service_use[s.service] += u;
      ++service_refs[s.service];
      service_peer_use[{s.service, s.peer}] += u;
    }
  }
  auto differs = [](const char* what, const std::string& name, const scope_usage& have,
                    const scope_usage& want) {
    if (have == want)
      return std::string{};
    return std::string{what} + " " + name + ": holds " + usage_json(have).dump() +
           ", its holders add up to " + usage_json(want).dump();
  };
  for (auto& text : {differs("scope", "system", system_.use, system),
                     differs("scope", "transient", transient_.use, transient),
                     differs("scope", "allowlisted_system", allowlisted_system_.use,
                             allowlisted_system),
                     differs("scope", "allowlisted_transient", allowlisted_transient_.use,
                             allowlisted_transient)})
    if (!text.empty())
      return text;
  std::string found;
  peers_.for_each([&](peer_handle h) {
    if (!found.empty())
      return;
    auto& p = peers_.value(h);
    auto& name = peers_.text(h);
    found = differs("peer", name, p.node.use, peer_use[h]);
    auto want_refs = peer_refs[h] + (p.named ? 1u : 0u);
    if (found.empty() && peers_.references(h) != want_refs)
      found = "peer " + name + ": " + std::to_string(peers_.references(h)) +
              " references, " + std::to_string(want_refs) + " expected";
  });
  if (!found.empty())
    return found;
  for (auto& [h, refs] : peer_refs)
    if (refs > 0 && peers_.references(h) == 0)
      return "a connection or stream is on a peer scope that is gone";
  auto check_groups = [&](const group_pool& pool, const char* what,
                          std::map<group_handle, scope_usage>& use,
                          std::map<group_handle, std::uint32_t>& refs,
                          std::map<std::pair<group_handle, peer_handle>, scope_usage>&
                              sub_use) {
    std::string out;
    pool.for_each([&](group_handle h) {
      if (!out.empty())
        return;
      auto& g = pool.value(h);
      auto& name = pool.text(h);
      out = differs(what, name, g.node.use, use[h]);
      auto want_refs = refs[h] + (g.named ? 1u : 0u);
      if (out.empty() && pool.references(h) != want_refs)
        out = std::string{what} + " " + name + ": " + std::to_string(pool.references(h)) +
              " references, " + std::to_string(want_refs) + " expected";
      for (auto& [p, node] : g.peers) {
        if (!out.empty())
          return;
        out = differs(what, name + ".peer:" + peers_.text(p), node.use, sub_use[{h, p}]);
        if (out.empty() && node.use.holders() == 0)
          out = std::string{what} + " " + name + ".peer:" + peers_.text(p) +
                " is empty but still exists";
      }
    });
    for (auto& [h, n] : refs)
      if (out.empty() && n > 0 && pool.references(h) == 0)
        out = std::string{"a stream is on a "} + what + " scope that is gone";
    return out;
  };
  found = check_groups(protocols_, "protocol", protocol_use, protocol_refs,
                       protocol_peer_use);
  if (!found.empty())
    return found;
  return check_groups(services_, "service", service_use, service_refs, service_peer_use);
}

// -- dump ----------------------------------------------------------------------

namespace {

scope_stat stat_of(const scope_node& n) {
  return scope_stat{n.use, *n.limits};
}

/// The busiest first (connections and streams, then memory), then by name:
/// when a list is cut, what is kept is what an operator looks for.
void keep_busiest(std::vector<named_scope_stat>& items, std::size_t cap,
                  bool& truncated) {
  truncated |= items.size() > cap;
  auto busier = [](const named_scope_stat& a, const named_scope_stat& b) {
    auto& ua = a.scope.usage;
    auto& ub = b.scope.usage;
    if (ua.holders() != ub.holders())
      return ua.holders() > ub.holders();
    if (ua.memory != ub.memory)
      return ua.memory > ub.memory;
    return a.name < b.name;
  };
  auto cut = std::min(cap, items.size());
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(cut),
                    items.end(), busier);
  items.resize(cut);
}

void add_blocked(
    const std::array<std::array<std::array<std::uint64_t, 3>, scope_resource_count>,
                     scope_class_count>& counts,
    std::vector<blocked_stat>& out) {
  for (std::size_t c = 0; c < scope_class_count; ++c)
    for (std::size_t r = 0; r < scope_resource_count; ++r)
      for (std::size_t d = 0; d < 3; ++d) {
        auto n = counts[c][r][d];
        if (n == 0)
          continue;
        blocked_stat x;
        x.scope = static_cast<scope_class>(c);
        x.resource = static_cast<scope_resource>(r);
        if (d < 2)
          x.dir = static_cast<direction>(d);
        x.count = n;
        out.push_back(x);
      }
}

} // namespace

scopes_stats resource_scopes::stats_at(time_ns now, std::size_t list_cap) const {
  scopes_stats out;
  out.scale = scale_;
  out.system = stat_of(system_);
  out.transient = stat_of(transient_);
  out.allowlisted_system = stat_of(allowlisted_system_);
  out.allowlisted_transient = stat_of(allowlisted_transient_);
  out.dry_run = dry_run_;
  // The whole lists are copied before they are cut: the dump is rare, and a
  // name is needed to break ties.
  peers_.for_each([&](peer_handle h) {
    out.peers.push_back({peers_.text(h), stat_of(peers_.value(h).node), {}});
  });
  keep_busiest(out.peers, list_cap, out.truncated);
  auto groups = [&](const group_pool& pool, std::vector<named_scope_stat>& list) {
    pool.for_each([&](group_handle h) {
      auto& g = pool.value(h);
      named_scope_stat x{pool.text(h), stat_of(g.node), {}};
      for (auto& [p, node] : g.peers)
        x.peers.push_back({peers_.text(p), stat_of(node), {}});
      list.push_back(std::move(x));
    });
    keep_busiest(list, list_cap, out.truncated);
    for (auto& x : list)
      keep_busiest(x.peers, list_cap, out.truncated);
  };
  groups(protocols_, out.protocols);
  groups(services_, out.services);
  // Who holds transient: pending connections and streams without a
  // protocol, oldest first.
  struct holder_row {
    time_ns opened_at;
    bool is_stream;
    std::uint64_t id;
  };
  std::vector<holder_row> rows;
  for (auto& [id, c] : conns_) {
    if (!c.charged)
      ++out.uncharged;
    else if (!c.established)
      rows.push_back({c.opened_at, false, id});
  }
  for (auto& [id, s] : streams_) {
    if (!s.charged)
      ++out.uncharged;
    else if (!s.has_protocol)
      rows.push_back({s.opened_at, true, id});
  }
  out.transient_holder_count = rows.size();
  out.truncated |= rows.size() > list_cap;
  auto cut = std::min(list_cap, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut),
                    rows.end(), [](const holder_row& a, const holder_row& b) {
                      return std::tie(a.opened_at, a.is_stream, a.id) <
                             std::tie(b.opened_at, b.is_stream, b.id);
                    });
  rows.resize(cut);
  for (auto& row : rows) {
    transient_holder_stat h;
    h.is_stream = row.is_stream;
    h.id = row.id;
    h.age_ms = now > row.opened_at ? (now - row.opened_at) / 1000000 : 0;
    if (row.is_stream) {
      auto& s = streams_.at(row.id);
      h.dir = s.dir;
      h.memory = s.memory;
      h.peer = peers_.text(s.peer);
      if (s.has_conn)
        h.conn = s.conn;
    } else {
      auto& c = conns_.at(row.id);
      h.dir = c.dir;
      h.memory = c.memory;
      h.allowlisted = c.allowlisted;
    }
    out.transient_holders.push_back(std::move(h));
  }
  add_blocked(blocked_, out.blocked);
  add_blocked(would_block_, out.would_block);
  out.class_limits = {{"peer", cfg_.peer_default},
                      {"protocol", cfg_.protocol_default},
                      {"protocol_peer", cfg_.protocol_peer_default},
                      {"service", cfg_.service_default},
                      {"service_peer", cfg_.service_peer_default},
                      {"conn", cfg_.conn},
                      {"stream", cfg_.stream}};
  auto& hist = out.histograms;
  peers_.for_each([&](peer_handle h) {
    auto& use = peers_.value(h).node.use;
    hist.peer_conns_inbound.observe(use.conns_inbound);
    hist.peer_conns_outbound.observe(use.conns_outbound);
    hist.peer_streams_inbound.observe(use.streams_inbound);
    hist.peer_streams_outbound.observe(use.streams_outbound);
    hist.peer_memory.observe(use.memory);
  });
  for (auto& [id, c] : conns_)
    if (c.charged)
      hist.conn_memory.observe(c.memory);
  out.conns = conns_.size();
  out.streams = streams_.size();
  out.peer_count = peers_.size();
  out.protocol_count = protocols_.size();
  out.service_count = services_.size();
  return out;
}

} // namespace rcmgr
