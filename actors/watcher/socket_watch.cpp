#include "actors/watcher/socket_watch.hpp"

#include <algorithm>

#include "messages/time.hpp"

namespace rcmgr {

void watcher_actions::merge(watcher_actions other) {
  auto append = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()),
              std::make_move_iterator(from.end()));
  };
  append(close, other.close);
  append(pause, other.pause);
  append(resume, other.resume);
  append(block, other.block);
  append(throttle, other.throttle);
}

socket_watch::peer_entry& socket_watch::peer_of(const peer_id& peer, time_ns now) {
  auto i = peers_.find(peer);
  if (i != peers_.end()) {
    touch(i->first, i->second, now);
    return i->second;
  }
  bound_peer_records(peer.size());
  i = peers_.emplace(peer, peer_entry{}).first;
  i->second.last_seen = now;
  add_idle(now, peer); // no connection yet
  return i->second;
}

void socket_watch::touch(const peer_id& id, peer_entry& p, time_ns now) {
  if (p.conns.empty()) {
    idle_peers_.erase({p.last_seen, id});
    idle_peers_.emplace(now, id);
  }
  p.last_seen = now;
}

void socket_watch::add_idle(time_ns at, const peer_id& id) {
  if (idle_peers_.emplace(at, id).second)
    idle_peer_id_bytes_ += id.size();
}

void socket_watch::remove_idle(time_ns at, const peer_id& id) {
  if (idle_peers_.erase({at, id}) > 0)
    idle_peer_id_bytes_ -= id.size();
}

void socket_watch::bound_peer_records(std::size_t id_bytes) {
  // Drop the least recently active peers that have no live connection.
  while (!idle_peers_.empty() &&
         (idle_peers_.size() >= max_idle_peer_records ||
          idle_peer_id_bytes_ + id_bytes > max_idle_peer_id_bytes)) {
    auto victim = idle_peers_.begin();
    idle_peer_id_bytes_ -= victim->second.size();
    peers_.erase(victim->second);
    idle_peers_.erase(victim);
  }
}

void socket_watch::reshare(peer_entry& p, watcher_actions& out) {
  auto budget = cfg_.peer_bandwidth_bytes_per_s;
  std::uint64_t share = 0;
  if (budget > 0 && !p.conns.empty())
    share = std::max<std::uint64_t>(1, budget / p.conns.size());
  for (auto c : p.conns) {
    auto i = conns_.find(c);
    if (i == conns_.end() || i->second.read_limit == share)
      continue;
    i->second.read_limit = share;
    out.throttle.emplace_back(c, share);
  }
}

watcher_actions socket_watch::reconfigure(const watcher_config& cfg, time_ns now) {
  cfg_ = cfg;
  watcher_actions out;
  for (auto& [id, p] : peers_)
    reshare(p, out);
  out.merge(throttle(now));
  return out;
}

bool socket_watch::watch(connection_id conn, const peer_id& peer, int fd, time_ns now,
                         watcher_actions& out) {
  if (conns_.count(conn) > 0) {
    anomalies_.add(anomaly::watch_duplicate);
    return false;
  }
  auto& e = conns_[conn];
  e.peer = peer;
  e.fd = fd;
  e.opened_at = now;
  e.last_activity = now;
  auto& p = peer_of(peer, now);
  if (p.conns.empty())
    remove_idle(p.last_seen, peer);
  p.conns.push_back(conn);
  reshare(p, out);
  // A connection of a paused peer starts paused as well.
  e.paused = p.paused;
  if (e.paused)
    out.pause.push_back(conn);
  return true;
}

bool socket_watch::unwatch(connection_id conn, watcher_actions& out) {
  auto i = conns_.find(conn);
  if (i == conns_.end()) {
    anomalies_.add(anomaly::watch_unknown_unwatch);
    return false;
  }
  auto p = peers_.find(i->second.peer);
  if (p != peers_.end()) {
    auto& v = p->second.conns;
    v.erase(std::remove(v.begin(), v.end(), conn), v.end());
    if (v.empty()) {
      p->second.paused = false;
      bound_peer_records(p->first.size());
      add_idle(p->second.last_seen, p->first);
    }
  }
  conns_.erase(i);
  if (p != peers_.end())
    reshare(p->second, out); // the others' shares grow
  return true;
}

void socket_watch::order_close(connection_id conn, conn_entry& e, std::string reason,
                               watcher_actions& out) {
  if (!e.closing.empty())
    return; // ordered already; the net layer unwatches it when it is gone
  e.closing = reason;
  ++closed_by_reason_[reason];
  out.close.emplace_back(conn, std::move(reason));
}

void socket_watch::misbehaved(const peer_id& peer, peer_entry& p, time_ns now,
                              watcher_actions& out) {
  ++p.score;
  if (cfg_.misbehaviour_threshold == 0 || p.score <= cfg_.misbehaviour_threshold)
    return;
  p.score = 0;
  p.blocked_until = add_saturating(now, ms_to_ns(cfg_.cooldown_ms));
  ++blocks_;
  out.block.push_back(peer_blocked{peer, p.blocked_until});
}

watcher_actions socket_watch::on_traffic(const std::vector<traffic_sample>& samples,
                                         time_ns now) {
  for (auto& s : samples) {
    auto i = conns_.find(s.conn);
    if (i == conns_.end()) {
      anomalies_.add(anomaly::watch_unknown_traffic);
      continue;
    }
    auto& e = i->second;
    e.bytes_in += s.bytes_in;
    e.bytes_out += s.bytes_out;
    if (s.bytes_in + s.bytes_out > 0)
      e.last_activity = now;
    e.in_rate.add(s.bytes_in, now);
    auto p = peers_.find(e.peer);
    if (p != peers_.end()) {
      p->second.in_rate.add(s.bytes_in, now);
      p->second.last_seen = now;
    }
  }
  return throttle(now);
}

watcher_actions socket_watch::on_violation(const peer_id& peer, const std::string& kind,
                                           time_ns now) {
  watcher_actions out;
  auto& p = peer_of(peer, now);
  if (kind == "rate_limited")
    ++p.rate_limit_denials;
  else
    ++p.violations;
  misbehaved(peer, p, now, out);
  return out;
}

watcher_actions socket_watch::throttle(time_ns now) {
  watcher_actions out;
  if (cfg_.peer_bandwidth_bytes_per_s == 0) {
    // No budget (any more): nobody stays paused.
    for (auto& [id, p] : peers_) {
      if (!p.paused)
        continue;
      p.paused = false;
      for (auto c : p.conns)
        if (auto i = conns_.find(c); i != conns_.end() && i->second.paused) {
          i->second.paused = false;
          out.resume.push_back(c);
        }
    }
    return out;
  }
  // The window is one second, so its sum is the rate in bytes per second.
  // Pause above budget + budget/10 (what the throttles allow at most, their
  // bursts included); resume below the budget.
  auto budget = cfg_.peer_bandwidth_bytes_per_s;
  auto pause_above = budget + budget / 10;
  for (auto& [id, p] : peers_) {
    if (p.conns.empty())
      continue;
    auto rate = p.in_rate.sum(now);
    bool over = p.paused ? rate >= budget : rate > pause_above;
    if (over == p.paused)
      continue;
    p.paused = over;
    if (over)
      ++pauses_;
    for (auto c : p.conns) {
      auto i = conns_.find(c);
      if (i == conns_.end() || i->second.paused == over)
        continue;
      i->second.paused = over;
      (over ? out.pause : out.resume).push_back(c);
    }
  }
  return out;
}

bool socket_watch::throttling() const {
  for (auto& [id, p] : peers_)
    if (p.paused)
      return true;
  return false;
}

watcher_actions socket_watch::refresh(time_ns now, const probe_fn& probe) {
  watcher_actions out;
  auto since = last_refresh_;
  last_refresh_ = now;
  for (auto& [conn, e] : conns_) {
    if (!e.closing.empty())
      continue;
    if (cfg_.max_lifetime_ms > 0 && now - e.opened_at > ms_to_ns(cfg_.max_lifetime_ms)) {
      order_close(conn, e, "lifetime", out);
    } else if (cfg_.idle_timeout_ms > 0 &&
               now - e.last_activity > ms_to_ns(cfg_.idle_timeout_ms)) {
      order_close(conn, e, "idle", out);
    } else if (e.last_activity <= since && e.fd >= 0 && probe && probe(e.fd)) {
      // Idle since the last refresh and the kernel says the peer is gone.
      ++pruned_;
      order_close(conn, e, "hung_up", out);
      auto p = peers_.find(e.peer);
      if (p != peers_.end()) {
        ++p->second.pruned;
        misbehaved(e.peer, p->second, now, out);
      }
    }
  }
  out.merge(throttle(now));
  return out;
}

std::uint64_t socket_watch::bytes_per_s(const peer_id& peer, time_ns now) {
  auto i = peers_.find(peer);
  return i == peers_.end() ? 0 : i->second.in_rate.sum(now);
}

bool socket_watch::paused(connection_id conn) const {
  auto i = conns_.find(conn);
  return i != conns_.end() && i->second.paused;
}

std::uint64_t socket_watch::read_limit(connection_id conn) const {
  auto i = conns_.find(conn);
  return i == conns_.end() ? 0 : i->second.read_limit;
}

socket_watch_stats socket_watch::stats_at(time_ns now) {
  socket_watch_stats out;
  out.watched = conns_.size();
  out.pruned = pruned_;
  out.pauses = pauses_;
  out.blocks = blocks_;
  out.closed_by_reason = closed_by_reason_;
  out.config = cfg_;
  out.peers.reserve(peers_.size());
  for (auto& [id, p] : peers_) {
    watched_peer_stats ps;
    ps.peer = id;
    ps.connections.reserve(p.conns.size());
    for (auto c : p.conns) {
      auto& e = conns_.at(c);
      if (e.paused)
        ++out.paused;
      ps.connections.push_back({c, e.closing.empty() ? std::string{"ok"} : e.closing,
                                e.bytes_in, e.bytes_out, e.in_rate.sum(now),
                                (now - e.last_activity) / 1'000'000,
                                (now - e.opened_at) / 1'000'000, e.paused, e.read_limit});
    }
    std::sort(ps.connections.begin(), ps.connections.end(),
              [](const auto& a, const auto& b) { return a.conn < b.conn; });
    ps.bytes_in_per_s = p.in_rate.sum(now);
    ps.paused = p.paused;
    ps.violations = p.violations;
    ps.rate_limit_denials = p.rate_limit_denials;
    ps.pruned = p.pruned;
    ps.blocked = p.blocked_until > now;
    out.peers.push_back(std::move(ps));
  }
  std::sort(out.peers.begin(), out.peers.end(),
            [](const auto& a, const auto& b) { return a.peer < b.peer; });
  return out;
}

} // namespace rcmgr
