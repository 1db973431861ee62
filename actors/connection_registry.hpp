// The tracker's core: one record per live connection, fed by the gate's
// outcomes. Plain C++, no CAF.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/outcomes.hpp"

namespace rcmgr {

class connection_registry {
public:
  void on_admitted(const admitted& x);
  void on_denied(const denied& x);
  void on_released(const released& x);

  std::vector<connection_record> of_peer(const peer_id& peer) const;
  std::vector<connection_record> in_state(conn_state state) const;
  /// The same counts as the gate's (bypassed connections apart), derived
  /// from the records.
  admission_counts counts() const { return counts_; }
  std::size_t size() const { return records_.size(); }
  const connection_record* find(connection_id conn) const;

  /// The dump's `connections` part: counts by state and direction, per-peer
  /// counts, and the connections themselves (lowest ids first) up to
  /// `list_cap`, with `truncated` set when there are more.
  nlohmann::json to_json(std::size_t list_cap) const;
  /// The same document as `dump_text(to_json(list_cap))`, written directly:
  /// the tracker's dump part, without building 10,000s of JSON values first.
  std::string to_json_text(std::size_t list_cap) const;

  /// Outcomes that did not fit the records (e.g. established for a
  /// connection the tracker never saw pending is fine; released for an
  /// unknown one is not).
  std::uint64_t inconsistencies() const { return inconsistencies_; }
  /// A feed the registry could not use at all (e.g. a malformed batch).
  void count_inconsistency() { ++inconsistencies_; }

private:
  /// The listed records: the lowest ids up to the cap.
  std::vector<const connection_record*> listed(std::size_t list_cap) const;

  struct peer_counts {
    std::uint64_t pending = 0;
    std::uint64_t established = 0;
  };

  // Counts kept as records come and go, so a dump or a counts query costs
  // the number of peers, not the number of connections.
  void remember(const connection_record& r);
  void forget(const connection_record& r);

  std::unordered_map<connection_id, connection_record> records_;
  admission_counts counts_;
  std::unordered_map<peer_id, peer_counts> per_peer_;
  std::uint64_t inconsistencies_ = 0;
};

} // namespace rcmgr
