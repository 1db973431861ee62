#include "actors/gate/connection_limits.hpp"

namespace rcmgr {

namespace {

/// Allowed, the event's own peer being the connection's.
admission allowed(bool bypassed) {
  return admission{verdict::allow(), true, std::nullopt, bypassed};
}

/// Admitted by a limit in dry run that would have denied with `d`.
admission would_deny(denial d) {
  return admission{verdict::allow_but(std::move(d)), true, std::nullopt, false};
}

} // namespace

connection_limits::connection_limits(connection_limits_config cfg) : cfg_(cfg) {
  // nop
}

admission connection_limits::error(anomaly kind, std::string text) {
  anomalies_.add(kind);
  return admission{verdict::fail(std::move(text)), false, {}, false};
}

// file() and unfile() are the only places that change `entries_`, the set
// sizes and the per-peer counts, and always all three together: the counts
// are the number of entries in each set, without a set of ids per count.
void connection_limits::file(connection_id conn, set_index set, std::string_view peer) {
  // Acquired before the old entry lets go of its peer, so a connection that
  // keeps its peer never frees and re-adds the text.
  file_ref(conn, set, peers_.acquire(peer));
}

void connection_limits::file_ref(connection_id conn, set_index set,
                                 string_pool::handle h) {
  auto [i, fresh] = entries_.try_emplace(conn);
  if (!fresh)
    unfile_entry(i->second); // re-filed: leaves its old set first
  i->second = entry{set, h};
  ++set_sizes_[set];
  if (is_counted_established(set))
    ++peers_.value(h);
}

void connection_limits::unfile_entry(const entry& e) {
  --set_sizes_[e.set];
  if (is_counted_established(e.set))
    --peers_.value(e.peer);
  peers_.release(e.peer);
}

void connection_limits::unfile(connection_id conn) {
  auto i = entries_.find(conn);
  if (i == entries_.end())
    return;
  unfile_entry(i->second);
  entries_.erase(i);
}

admission connection_limits::on_pending_inbound(connection_id conn) {
  if (contains(conn))
    return error(anomaly::duplicate_connection,
                 "duplicate connection id " + std::to_string(conn));
  auto current = set_sizes_[pending_in];
  if (current >= cfg_.max_pending_inbound) {
    auto d = connection_limit_denial(limit_kind::pending_inbound,
                                     cfg_.max_pending_inbound, current, conn, {});
    if (!dry_run_)
      return admission{verdict::deny(std::move(d)), false, {}, false};
    file(conn, pending_in, {});
    return would_deny(std::move(d));
  }
  file(conn, pending_in, {});
  return allowed(false);
}

admission connection_limits::on_pending_outbound(connection_id conn,
                                                 std::string_view peer) {
  if (contains(conn))
    return error(anomaly::duplicate_connection,
                 "duplicate connection id " + std::to_string(conn));
  if (!peer.empty() && is_bypassed(peer)) {
    file(conn, bypassed_pending, peer);
    return allowed(true);
  }
  auto current = set_sizes_[pending_out];
  if (current >= cfg_.max_pending_outbound) {
    auto d =
        connection_limit_denial(limit_kind::pending_outbound, cfg_.max_pending_outbound,
                                current, conn, peer_id{peer});
    if (!dry_run_)
      return admission{verdict::deny(std::move(d)), false, {}, false};
    file(conn, pending_out, peer);
    return would_deny(std::move(d));
  }
  file(conn, pending_out, peer);
  return allowed(false);
}

admission connection_limits::on_established(connection_id conn, std::string_view peer,
                                            direction dir) {
  auto i = entries_.find(conn);
  bool was_pending = i != entries_.end();
  if (was_pending) {
    if (!is_pending_set(i->second.set))
      return error(anomaly::duplicate_connection,
                   "duplicate connection id " + std::to_string(conn));
    // Leaves pending first: a denial below frees the pending slot as well.
    unfile(conn);
  }
  if (is_bypassed(peer)) {
    file(conn, bypassed_established, peer);
    return allowed(true);
  }
  // The first limit over, in check order; in a dry run the others are
  // still checked (and the connection filed) as if it had passed.
  std::optional<denial> over;
  auto check = [&](limit_kind kind, std::uint64_t limit, std::uint64_t current) {
    if (current >= limit && !over)
      over = connection_limit_denial(kind, limit, current, conn, peer_id{peer});
    return over && !dry_run_;
  };
  auto refused = [&] {
    return admission{verdict::deny(std::move(*over)), was_pending, {}, false};
  };
  auto set = established_set(dir);
  auto limit = dir == direction::inbound ? cfg_.max_established_inbound
                                         : cfg_.max_established_outbound;
  if (check(dir == direction::inbound ? limit_kind::established_inbound
                                      : limit_kind::established_outbound,
            limit, set_sizes_[set]))
    return refused();
  // One lookup of the peer serves the per-peer check and the filing.
  string_pool::handle h = string_pool::empty;
  bool known = peers_.find(peer, h);
  auto of_peer = known ? peers_.value(h) : 0;
  if (check(limit_kind::established_per_peer, cfg_.max_established_per_peer, of_peer))
    return refused();
  if (check(limit_kind::established_total, cfg_.max_established_total,
            set_sizes_[established_in] + set_sizes_[established_out]))
    return refused();
  if (known) {
    peers_.retain(h);
    file_ref(conn, set, h);
  } else {
    file(conn, set, peer);
  }
  return over ? would_deny(std::move(*over)) : allowed(false);
}

admission connection_limits::on_failure(connection_id conn, direction dir) {
  auto i = entries_.find(conn);
  if (i == entries_.end()) {
    anomalies_.add(anomaly::unknown_connection);
    return admission{verdict::ok(), false, {}, false};
  }
  auto set = i->second.set;
  bool matches =
      set == pending_set(dir) || (set == bypassed_pending && dir == direction::outbound);
  if (!matches) {
    // A dial failure for an established connection (or a listen failure for
    // a dial) says nothing true about it: keep it, count the bad input.
    anomalies_.add(anomaly::failure_wrong_state);
    return admission{verdict::ok(), false, peers_.text(i->second.peer), false};
  }
  admission out{verdict::ok(), true, peers_.text(i->second.peer),
                set == bypassed_pending};
  unfile(conn);
  return out;
}

admission connection_limits::on_closed(connection_id conn, std::string_view peer) {
  auto i = entries_.find(conn);
  if (i == entries_.end()) {
    anomalies_.add(anomaly::unknown_connection);
    return admission{verdict::ok(), false, {}, false};
  }
  auto set = i->second.set;
  auto& known = peers_.text(i->second.peer);
  admission out{verdict::ok(), true, std::nullopt,
                set == bypassed_pending || set == bypassed_established};
  if (peer != known) {
    if (!peer.empty() && !known.empty())
      anomalies_.add(anomaly::peer_mismatch);
    out.peer = known; // the peer the connection had is the one reported
  }
  unfile(conn);
  return out;
}

void connection_limits::leave_pending(connection_id conn) {
  if (is_pending(conn))
    unfile(conn);
}

bool connection_limits::is_pending(connection_id conn) const {
  auto i = entries_.find(conn);
  return i != entries_.end() && is_pending_set(i->second.set);
}

verdict connection_limits::add_bypass(const peer_id& peer) {
  if (peer.empty()) {
    anomalies_.add(anomaly::bad_input);
    return verdict::fail("a bypassed peer id must not be empty");
  }
  bypass_.insert(peer);
  return verdict::ok();
}

verdict connection_limits::remove_bypass(const peer_id& peer) {
  // Idempotent: removing a peer that is not bypassed leaves it not bypassed.
  bypass_.erase(peer);
  return verdict::ok();
}

void connection_limits::set_bypass_peers(const std::vector<peer_id>& peers) {
  bypass_.clear();
  for (auto& p : peers)
    bypass_.insert(p);
}

std::vector<peer_id> connection_limits::bypass_peers() const {
  return std::vector<peer_id>(bypass_.begin(), bypass_.end());
}

admission_counts connection_limits::counts() const {
  admission_counts c;
  c.pending_inbound = set_sizes_[pending_in];
  c.pending_outbound = set_sizes_[pending_out];
  c.established_inbound = set_sizes_[established_in];
  c.established_outbound = set_sizes_[established_out];
  c.bypassed = set_sizes_[bypassed_pending] + set_sizes_[bypassed_established];
  return c;
}

std::size_t connection_limits::established_of(std::string_view peer) const {
  string_pool::handle h;
  return peers_.find(peer, h) ? peers_.value(h) : 0;
}

} // namespace rcmgr
