// The tracker's core: one record per live connection, fed by the gate's
// outcomes. Plain C++, no CAF.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/support/node_recycler.hpp"
#include "actors/support/packed_strings.hpp"
#include "actors/support/string_pool.hpp"
#include "messages/batches.hpp"
#include "messages/outcomes.hpp"

namespace rcmgr {

/// One connection's record read in place: views into the registry.
struct connection_view {
  connection_id conn = 0;
  conn_state state = conn_state::pending;
  direction dir = direction::inbound;
  std::string_view peer;
  std::string_view local;
  const packed_strings* remote = nullptr;
  bool bypassed = false;
  time_ns pending_at = -1;
  time_ns established_at = -1;
};

/// A peer's connections by state.
struct peer_connection_counts {
  std::string_view peer;
  std::uint64_t pending = 0;
  std::uint64_t established = 0;
};

/// The registry's state for the dump's `connections` part. The views are
/// into the registry: valid until it changes.
struct registry_stats {
  admission_counts counts;
  std::size_t total = 0;
  std::vector<peer_connection_counts> per_peer; // by peer id
  std::vector<connection_view> list;            // lowest ids first, up to the cap
  bool truncated = false;                       // more records than listed
  std::uint64_t inconsistencies = 0;
};

class connection_registry {
public:
  void on_admitted(const admitted& x);
  void on_denied(const denied& x);
  void on_released(const released& x);
  /// The same, read in place from an outcome batch.
  void on_admitted(const admitted_view& x);
  void on_released(const released_view& x);

  std::vector<connection_record> of_peer(const peer_id& peer) const;
  std::vector<connection_record> in_state(conn_state state) const;
  /// The same counts as the gate's (bypassed connections apart), derived
  /// from the records.
  admission_counts counts() const { return counts_; }
  std::size_t size() const { return records_.size(); }
  /// Distinct peer ids and local addresses held (each text once, however many
  /// records name it); 0 when no record is left.
  std::size_t interned_texts() const { return peers_.size() + locals_.size(); }
  /// The record of `conn`, or nothing.
  std::optional<connection_record> find(connection_id conn) const;

  /// Counts by state and direction, per-peer counts, and the records
  /// themselves (lowest ids first) up to `list_cap`.
  registry_stats stats(std::size_t list_cap) const;

  /// Outcomes that did not fit the records (e.g. established for a
  /// connection the tracker never saw pending is fine; released for an
  /// unknown one is not).
  std::uint64_t inconsistencies() const { return inconsistencies_; }
  /// A feed the registry could not use at all (e.g. a malformed batch).
  void count_inconsistency() { ++inconsistencies_; }

private:
  /// A record as kept: peer and local address as handles into pools (shared
  /// by many connections), the remote addresses packed in one block. 40
  /// bytes, where a connection_record is 136 plus its strings' heap blocks.
  struct stored {
    time_ns pending_at = -1;
    time_ns established_at = -1;
    packed_strings remote;
    string_pool::handle peer = string_pool::empty;
    string_pool::handle local = string_pool::empty;
    conn_state state = conn_state::pending;
    direction dir = direction::inbound;
    bool bypassed = false;
  };
  using record_map = std::unordered_map<connection_id, stored>;

  connection_record expand(const record_map::value_type& entry) const;
  /// The records `keep` says yes to, expanded, lowest ids first.
  template <class Pred> std::vector<connection_record> select(Pred keep) const;
  /// Drops a record, its counts and its references.
  void erase(record_map::iterator i);

  /// The listed records: the lowest ids up to the cap.
  std::vector<const record_map::value_type*> listed(std::size_t list_cap) const;

  struct peer_counts {
    std::uint64_t pending = 0;
    std::uint64_t established = 0;
  };

  // Counts kept as records come and go, so a dump or a counts query costs
  // the number of peers, not the number of connections.
  void remember(const stored& r);
  void forget(const stored& r);

  record_map records_;
  /// Every connection is a record for its lifetime: with a steady churn a
  /// closed one's node serves the next one opened, not a heap block each.
  node_recycler<record_map> nodes_;
  admission_counts counts_;
  /// Peer ids, each with its records' counts: every live peer id has at
  /// least one record, so the pool is exactly the dump's `per_peer`.
  basic_string_pool<peer_counts> peers_;
  string_pool locals_;
  std::uint64_t inconsistencies_ = 0;
};

} // namespace rcmgr
