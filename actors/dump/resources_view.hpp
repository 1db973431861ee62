// The `resources` view of rcmgr-inspect: each scope's limits beside its
// usage, one row per (scope, limit), as kubo's `ipfs swarm resources` shows
// go-libp2p's. Read from the dump's `scopes` part (DESIGN §6.1), which comes
// from a remote node: anything malformed is an error, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/result.hpp"

namespace rcmgr {

struct resource_row {
  std::string scope;      // "system", "peer:<id>", "protocol:<id>.peer:<id>", ...
  std::string limit_name; // conns, conns_inbound, ..., fd, memory
  std::optional<std::uint64_t> limit; // nothing: unlimited
  std::uint64_t usage = 0;
  /// usage / limit in percent; nothing when unlimited. A limit of 0 (block
  /// all) is at 100 %: whatever comes next is refused.
  std::optional<double> percent;

  friend bool operator==(const resource_row& a, const resource_row& b) {
    return a.scope == b.scope && a.limit_name == b.limit_name && a.limit == b.limit &&
           a.usage == b.usage && a.percent == b.percent;
  }
};

/// The rows of a `scopes` part: system, transient, the allowlisted scopes,
/// then peers, protocols (each followed by its per-peer scopes) and services
/// in the order the dump lists them; in each scope the limits in the order
/// conns, conns_inbound, conns_outbound, streams, streams_inbound,
/// streams_outbound, fd, memory. `conns` and `streams` use the sum of both
/// directions. An error names the JSON Pointer of the bad value.
result<std::vector<resource_row>> resource_rows(const nlohmann::json& scopes);

/// Only the rows at or above `min_percent` (rows without a percent go).
std::vector<resource_row> rows_at_least(std::vector<resource_row> rows,
                                        double min_percent);

/// A table with a header line and aligned columns: scope, limit name, limit
/// ("unlimited" or the number), usage, percent ("-" when unlimited, else one
/// decimal and "%").
std::string render_resources(const std::vector<resource_row>& rows);

} // namespace rcmgr
