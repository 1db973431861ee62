// The scopes' state at one time, as data: what the dump part `scopes`
// (DESIGN §6.1) shows, rendered by scopes_json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/gate/scopes/scope_accounting.hpp"
#include "actors/gate/scopes/usage_histogram.hpp"
#include "messages/ids.hpp"
#include "messages/scope_config.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// What the dump reports under `scale`.
struct scope_scale_info {
  std::uint64_t memory_bytes = 0;
  std::uint64_t fds = 0;
  std::string source; // "auto" or "config"
};

/// One scope: what it holds and what it may hold.
struct scope_stat {
  scope_usage usage;
  scope_limits limits;
};

/// A peer, protocol or service scope under its name; a protocol's or a
/// service's per-peer scopes in `peers`.
struct named_scope_stat {
  std::string name;
  scope_stat scope;
  std::vector<named_scope_stat> peers;
};

/// A connection or a stream held in a transient scope.
struct transient_holder_stat {
  bool is_stream = false;
  std::uint64_t id = 0; // the connection or the stream
  direction dir = direction::inbound;
  std::uint64_t age_ms = 0;
  std::uint64_t memory = 0;
  bool allowlisted = false;          // in allowlisted_transient
  std::string peer;                  // a stream's peer
  std::optional<connection_id> conn; // a stream's connection
};

/// How many reservations one scope class refused, by resource and direction.
struct blocked_stat {
  scope_class scope = scope_class::system;
  scope_resource resource = scope_resource::conns;
  std::optional<direction> dir;
  std::uint64_t count = 0;
};

struct scopes_stats {
  scope_scale_info scale;
  scope_stat system;
  scope_stat transient;
  scope_stat allowlisted_system;
  scope_stat allowlisted_transient;
  bool dry_run = false;
  /// The busiest first, at most the list cap each.
  std::vector<named_scope_stat> peers;
  std::vector<named_scope_stat> protocols;
  std::vector<named_scope_stat> services;
  /// Oldest first, at most the list cap.
  std::vector<transient_holder_stat> transient_holders;
  std::vector<blocked_stat> blocked;
  std::vector<blocked_stat> would_block;
  /// The limits of the scope classes whose scopes come and go (go's
  /// PeerDefault, ProtocolDefault, ..., Conn, Stream), by class name.
  std::vector<std::pair<std::string, scope_limits>> class_limits;
  /// Every peer's and every charged connection's usage, bucketed.
  usage_histograms histograms;
  // Whole counts, not cut.
  std::size_t conns = 0;
  std::size_t streams = 0;
  std::size_t uncharged = 0;
  std::size_t peer_count = 0;
  std::size_t protocol_count = 0;
  std::size_t service_count = 0;
  std::size_t transient_holder_count = 0;
  /// Some list was cut.
  bool truncated = false;
};

} // namespace rcmgr
