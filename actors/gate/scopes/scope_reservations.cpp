// The reservations of resource_scopes: connections, streams and memory,
// each all or nothing along its path (scope_accounting.hpp).
#include "actors/gate/scopes/resource_scopes.hpp"

#include <array>
#include <string>

namespace rcmgr {

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
    s.service_peer = &gp;
    s.has_service = true;
  } else {
    // A stream with a protocol leaves transient.
    scope_node* transient[] = {&transient_};
    rcmgr::release(transient, 1, held);
    s.protocol = g;
    s.protocol_peer = &gp;
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

template <class F> scope_result resource_scopes::with_holder(holder_ref h, F&& f) {
  if (h.kind == holder_ref::kind_t::conn) {
    auto i = conns_.find(h.id);
    if (i == conns_.end())
      return error(anomaly::unknown_scope, "unknown scope " + holder_name(h));
    return f(i->second);
  }
  auto i = streams_.find(h.id);
  if (i == streams_.end())
    return error(anomaly::unknown_scope, "unknown scope " + holder_name(h));
  return f(i->second);
}

resource_scopes::subject resource_scopes::holder_subject(const conn_entry& c,
                                                         connection_id id) const {
  subject who;
  who.conn = id;
  if (c.established)
    who.peer = peers_.text(c.peer);
  return who;
}

resource_scopes::subject resource_scopes::holder_subject(const stream_entry& s,
                                                         stream_id id) const {
  subject who;
  who.stream = id;
  if (s.has_conn)
    who.conn = s.conn;
  who.peer = peers_.text(s.peer);
  if (s.has_protocol)
    who.protocol = protocols_.text(s.protocol);
  if (s.has_service)
    who.service = services_.text(s.service);
  return who;
}

scope_result resource_scopes::reserve_memory(holder_ref holder, std::uint64_t bytes,
                                             std::uint8_t priority) {
  auto request = scope_request::memory(bytes, priority);
  return with_holder(holder, [&](auto& e) {
    if (!e.charged)
      return allow();
    auto self = self_node(e);
    auto p = path_of(e, &self);
    auto r = attempt(p.nodes, p.size, request, dry_run_);
    if (r.applied)
      e.memory += bytes;
    if (!r.refusal)
      return allow();
    return refused(r, p, holder_subject(e, holder.id), priority);
  });
}

scope_result resource_scopes::release_memory(holder_ref holder, std::uint64_t bytes) {
  return with_holder(holder, [&](auto& e) {
    if (!e.charged)
      return ok();
    auto self = self_node(e);
    auto p = path_of(e, &self);
    auto amount = std::min(bytes, e.memory);
    if (bytes > e.memory)
      anomalies_.add(anomaly::over_release);
    scope_usage delta;
    delta.memory = amount;
    rcmgr::release(p.nodes.data() + 1, p.size - 1, delta);
    e.memory -= amount;
    return ok();
  });
}

} // namespace rcmgr
