// The connection-limits core (DESIGN §4): plain C++, no CAF, no clock.
//
// Every live connection has one entry; the counts are the sizes of the sets
// the entries are filed in, so they cannot drift from the entries. An entry
// names its peer by a handle into a pool of peer ids: 8 bytes per entry, and
// each peer id's text kept once however many connections it has.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/support/string_pool.hpp"
#include "messages/anomaly.hpp"
#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/outcomes.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// What one event did to the core.
struct admission {
  verdict result;
  bool changed = false; // the connection entered, moved or left a set
  /// The connection's peer as the core knows it, when that is not the peer
  /// the event named (a close without its peer or with another one, a
  /// failure); nothing when the event's own peer is the connection's, so the
  /// common case copies no peer id.
  std::optional<peer_id> peer;
  bool bypassed = false;
};

class connection_limits {
public:
  explicit connection_limits(connection_limits_config cfg = {});

  // -- lifecycle (DESIGN §4) ---------------------------------------------------

  admission on_pending_inbound(connection_id conn);
  admission on_pending_outbound(connection_id conn, std::string_view peer);
  admission on_established(connection_id conn, std::string_view peer, direction dir);
  /// Frees a pending slot: `dir` is outbound for a dial failure, inbound for
  /// a listen failure.
  admission on_failure(connection_id conn, direction dir);
  admission on_closed(connection_id conn, std::string_view peer);
  /// Takes a pending connection out of pending (another rule denied its
  /// establishment); no-op for anything else.
  void leave_pending(connection_id conn);
  bool is_pending(connection_id conn) const;

  // -- bypass set --------------------------------------------------------------

  verdict add_bypass(const peer_id& peer);
  verdict remove_bypass(const peer_id& peer);
  /// Replaces the whole bypass set (a config update). Connections admitted as
  /// bypassed stay uncounted for their lifetime.
  void set_bypass_peers(const std::vector<peer_id>& peers);
  bool is_bypassed(std::string_view peer) const {
    return !bypass_.empty() && bypass_.find(peer) != bypass_.end();
  }
  std::vector<peer_id> bypass_peers() const; // sorted

  // -- limits ------------------------------------------------------------------

  /// Replaces the limits. Lowering one closes nothing: new connections are
  /// denied until the count is below it.
  void set_limits(const connection_limits_config& cfg) { cfg_ = cfg; }
  /// Dry run (DESIGN §6.3): a connection over a limit is admitted anyway,
  /// counted like any other, its verdict `allow` with the would-denial.
  void set_dry_run(bool on) { dry_run_ = on; }
  bool dry_run() const { return dry_run_; }
  const connection_limits_config& limits() const { return cfg_; }

  // -- queries -----------------------------------------------------------------

  bool contains(connection_id conn) const { return entries_.count(conn) > 0; }
  admission_counts counts() const;
  std::size_t established_of(std::string_view peer) const;
  std::size_t size() const { return entries_.size(); }
  /// Distinct peer ids held by entries (each text once); 0 when none is left.
  std::size_t interned_peers() const { return peers_.size(); }

  /// unknown_connection, duplicate_connection, failure_wrong_state,
  /// peer_mismatch, bad_input: bad input that changed nothing (or, for a
  /// mismatched peer on close, closed the connection anyway).
  const anomaly_counts& anomalies() const { return anomalies_; }

private:
  /// Where an entry is filed. Bypassed connections have sets of their own:
  /// tracked, never counted against a limit.
  enum set_index : std::uint8_t {
    pending_in,
    pending_out,
    established_in,
    established_out,
    bypassed_pending,
    bypassed_established,
    set_count
  };

  struct entry {
    set_index set;
    string_pool::handle peer;
  };

  static set_index pending_set(direction d) {
    return d == direction::inbound ? pending_in : pending_out;
  }
  static set_index established_set(direction d) {
    return d == direction::inbound ? established_in : established_out;
  }
  static bool is_pending_set(set_index s) {
    return s == pending_in || s == pending_out || s == bypassed_pending;
  }
  static bool is_counted_established(set_index s) {
    return s == established_in || s == established_out;
  }

  void file(connection_id conn, set_index set, std::string_view peer);
  /// The same with the peer's handle; the entry takes over one reference
  /// the caller holds on it.
  void file_ref(connection_id conn, set_index set, string_pool::handle peer);
  void unfile(connection_id conn);
  void unfile_entry(const entry& e);
  admission error(anomaly kind, std::string text);

  connection_limits_config cfg_;
  std::unordered_map<connection_id, entry> entries_;
  /// How many entries are in each set.
  std::array<std::uint64_t, set_count> set_sizes_{};
  /// The peer ids of the entries, each with its counted established
  /// connections (both directions).
  basic_string_pool<std::uint64_t> peers_;
  /// Ordered with a transparent comparison: a peer is looked up as the view
  /// an event carries, with no string made for it.
  std::set<peer_id, std::less<>> bypass_;
  anomaly_counts anomalies_;
  bool dry_run_ = false;
};

} // namespace rcmgr
