// Identifiers shared by every part: connections, peers, protocols, directions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rcmgr {

/// A connection id is chosen by the node and unique among live connections.
using connection_id = std::uint64_t;

/// A peer id is opaque text (a libp2p peer id, a key hash, ...). Empty means
/// "not known yet", e.g. for a dial to an address only.
using peer_id = std::string;

/// A protocol name such as "/echo/1".
using protocol_id = std::string;

/// A stream id is chosen by the node, unique among live streams; streams
/// have their own id space (DESIGN §6.1).
using stream_id = std::uint64_t;

/// Virtual or real time in nanoseconds; cores take it as a parameter.
using time_ns = std::int64_t;

enum class direction : std::uint8_t { inbound, outbound };
enum class conn_state : std::uint8_t { pending, established };

/// Which lifecycle event a denial, an outcome or a batch entry is. The
/// stream and memory events (DESIGN §6.1) come after the connection events.
enum class event_kind : std::uint8_t {
  pending_inbound,
  pending_outbound,
  established_inbound,
  established_outbound,
  dial_failure,
  listen_failure,
  connection_closed,
  stream_opened,
  stream_protocol,
  stream_service,
  stream_closed,
  reserve_memory,
  release_memory,
};
std::string to_string(event_kind x);
/// The same without a string made ("unknown" for a value outside the enum).
std::string_view event_kind_name(event_kind x);

/// Whether `x` is one of the kinds above (a batch from a remote sender may
/// hold any byte).
inline bool is_known(event_kind x) {
  return x <= event_kind::release_memory;
}

/// Whether `x` is a stream or memory event (decided by the scopes alone).
inline bool is_scope_event(event_kind x) {
  return x >= event_kind::stream_opened && x <= event_kind::release_memory;
}

std::string to_string(direction x);
std::string to_string(conn_state x);

} // namespace rcmgr
