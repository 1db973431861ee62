// The socket watcher's core: peer -> {connection -> socket health, bytes,
// last activity, opened at}. Plain C++, no CAF, time as a parameter; the
// hang-up probe is passed in so tests can fake it.
//
// Decisions come back as actions for the net layer (close, pause, resume,
// throttle) and for the gate (block a peer).
//
// Bandwidth (`peer_bandwidth_bytes_per_s` = B): each connection of a peer
// with n live connections is throttled to read at most B / n bytes/s (the
// net layer enforces it with a token bucket, which is what holds a greedy
// peer near B; one report every 100 ms is far too coarse to pace a loopback
// socket that moves 100 MB/s). The one-second window is the backstop: a peer
// whose window goes above B + B/10 (more than a throttled peer can move, its
// bucket's burst included), e.g. before its throttle took effect, is paused
// until the window is back below B.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/watcher/rate_window.hpp"
#include "messages/anomaly.hpp"
#include "messages/config.hpp"
#include "messages/events.hpp"

namespace rcmgr {

struct watcher_actions {
  std::vector<std::pair<connection_id, std::string>> close; // (conn, reason)
  std::vector<connection_id> pause;
  std::vector<connection_id> resume;
  std::vector<peer_blocked> block;
  /// (conn, the most bytes/s it may read; 0 lifts the throttle)
  std::vector<std::pair<connection_id, std::uint64_t>> throttle;
  bool empty() const {
    return close.empty() && pause.empty() && resume.empty() && block.empty() &&
           throttle.empty();
  }
  /// Appends `other`'s actions to these.
  void merge(watcher_actions other);
};

/// One watched connection, as the dump shows it.
struct watched_conn_stats {
  connection_id conn = 0;
  std::string health; // "ok", or the reason its close was ordered
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in_per_s = 0;
  std::int64_t last_activity_ms_ago = 0;
  std::int64_t age_ms = 0;
  bool paused = false;
  std::uint64_t read_limit_bytes_per_s = 0;
};

/// One peer's health record, its live connections in id order.
struct watched_peer_stats {
  peer_id peer;
  std::vector<watched_conn_stats> connections;
  std::uint64_t bytes_in_per_s = 0;
  bool paused = false;
  std::uint64_t violations = 0;
  std::uint64_t rate_limit_denials = 0;
  std::uint64_t pruned = 0;
  bool blocked = false;
};

/// What the watcher's core reports at a moment; rendered by watcher_json.
struct socket_watch_stats {
  std::uint64_t watched = 0;
  std::uint64_t pruned = 0;
  std::uint64_t paused = 0; // connections paused now
  std::uint64_t pauses = 0;
  std::uint64_t blocks = 0;
  std::map<std::string, std::uint64_t> closed_by_reason;
  std::vector<watched_peer_stats> peers; // in peer id order
  watcher_config config;
};

class socket_watch {
public:
  using probe_fn = std::function<bool(int fd)>; // true: the peer hung up

  /// Health records of peers without live connections are kept up to this
  /// many, and while their peer ids take at most this many bytes together;
  /// the least recently active is dropped first. (A record of a peer with a
  /// live connection stays: those are bounded by the connections the gate
  /// admits, and their ids by the wire's cap on a peer id.) So the dump's
  /// `watcher` part lists at most 10,000 idle peers and 1 MiB of their ids.
  static constexpr std::size_t max_idle_peer_records = 10000;
  static constexpr std::size_t max_idle_peer_id_bytes = 1024 * 1024;

  void configure(const watcher_config& cfg) { cfg_ = cfg; }
  const watcher_config& config() const { return cfg_; }
  /// A config update: the new throttles (a changed budget re-shares every
  /// peer's), then pauses and resumes by the new budget.
  watcher_actions reconfigure(const watcher_config& cfg, time_ns now);

  /// Returns false (and changes nothing) for a connection already watched.
  /// `out` gets the throttles of the peer's connections (its share changed)
  /// and a pause when the peer is paused.
  bool watch(connection_id conn, const peer_id& peer, int fd, time_ns now,
             watcher_actions& out);
  bool watch(connection_id conn, const peer_id& peer, int fd, time_ns now) {
    watcher_actions ignore;
    return watch(conn, peer, fd, now, ignore);
  }
  /// Returns false for a connection not watched. `out` gets the new
  /// throttles of the peer's remaining connections.
  bool unwatch(connection_id conn, watcher_actions& out);
  bool unwatch(connection_id conn) {
    watcher_actions ignore;
    return unwatch(conn, ignore);
  }

  /// Counts bytes (unknown connections are counted in `unknown_traffic`) and
  /// pauses peers over their bandwidth budget.
  watcher_actions on_traffic(const std::vector<traffic_sample>& samples, time_ns now);

  /// A protocol violation or rate-limit denial; may block the peer.
  watcher_actions on_violation(const peer_id& peer, const std::string& kind, time_ns now);

  /// Every refresh interval: closes connections past their lifetime or idle
  /// timeout, probes the ones idle since the last refresh for a hang-up and
  /// closes those (pruned), and re-checks bandwidth.
  watcher_actions refresh(time_ns now, const probe_fn& probe);

  /// Pauses peers over budget, resumes paused peers back under it.
  watcher_actions throttle(time_ns now);

  /// True while some peer is paused: the actor then checks every 100 ms.
  bool throttling() const;

  std::size_t watched() const { return conns_.size(); }
  /// Health records of peers without live connections, and their ids' bytes.
  std::size_t idle_peer_records() const { return idle_peers_.size(); }
  std::size_t idle_peer_id_bytes() const { return idle_peer_id_bytes_; }
  std::uint64_t bytes_per_s(const peer_id& peer, time_ns now);
  bool paused(connection_id conn) const;
  /// The bytes/s a connection was last throttled to (0: not throttled).
  std::uint64_t read_limit(connection_id conn) const;

  socket_watch_stats stats_at(time_ns now);
  /// Bad input from the net layer, for the dump's `anomalies`.
  const anomaly_counts& anomalies() const { return anomalies_; }

private:
  struct conn_entry {
    peer_id peer;
    int fd = -1;
    time_ns opened_at = 0;
    time_ns last_activity = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    rate_window in_rate;
    bool paused = false;
    std::uint64_t read_limit = 0; // the throttle last ordered, 0: none
    std::string closing;          // the reason, once a close was ordered
  };

  struct peer_entry {
    std::vector<connection_id> conns;
    rate_window in_rate;
    bool paused = false;
    std::uint64_t violations = 0;
    std::uint64_t rate_limit_denials = 0;
    std::uint64_t pruned = 0;
    std::uint64_t score = 0; // misbehaviour since the last block
    time_ns blocked_until = 0;
    time_ns last_seen = 0;
  };

  peer_entry& peer_of(const peer_id& peer, time_ns now);
  void touch(const peer_id& id, peer_entry& p, time_ns now);
  void order_close(connection_id conn, conn_entry& e, std::string reason,
                   watcher_actions& out);
  void misbehaved(const peer_id& peer, peer_entry& p, time_ns now, watcher_actions& out);
  /// Makes room for one more idle record whose id has `id_bytes`.
  void bound_peer_records(std::size_t id_bytes);
  void add_idle(time_ns at, const peer_id& id);
  void remove_idle(time_ns at, const peer_id& id);
  /// Orders each of the peer's connections to its share of the budget.
  void reshare(peer_entry& p, watcher_actions& out);

  watcher_config cfg_;
  std::unordered_map<connection_id, conn_entry> conns_;
  std::unordered_map<peer_id, peer_entry> peers_;
  /// Peers without live connections, least recently active first: the
  /// eviction order, O(log n) per change instead of a scan per new peer.
  std::set<std::pair<time_ns, peer_id>> idle_peers_;
  std::size_t idle_peer_id_bytes_ = 0; // of the ids in idle_peers_
  // No refresh yet: nothing counts as idle since the previous one.
  time_ns last_refresh_ = std::numeric_limits<time_ns>::min();
  std::map<std::string, std::uint64_t> closed_by_reason_;
  std::uint64_t pruned_ = 0;
  std::uint64_t pauses_ = 0;
  std::uint64_t blocks_ = 0;
  anomaly_counts anomalies_;
};

} // namespace rcmgr
