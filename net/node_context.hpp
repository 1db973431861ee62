// What a node's user sets (node_options, the handlers) and what every
// connection of a node shares (node_context).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>

#include "messages/interfaces.hpp"
#include "net/actor_bridge.hpp"
#include "net/frame_codec.hpp"
#include "net/gate_channel.hpp"
#include "net/log.hpp"

namespace rcmgr::net {

/// What a connection does when the gate or the rate limiter gives no
/// verdict (the actor is gone, or the verdict timed out): refuse
/// (`fail_closed`: the connection is closed, the message dropped) or go on
/// as if allowed (`fail_open`: uncounted, since no actor counted it).
/// Either way the event is counted (`gate_unreachable`,
/// `rate_limiter_unreachable`) and logged. docs/faults.md.
enum class unreachable_policy : std::uint8_t { fail_closed, fail_open };

struct node_options {
  /// This node's peer id, sent in every HELLO: 1..max_peer_id (128) bytes.
  peer_id peer = "node";
  /// A client must send HELLO within this time after its connection is admitted.
  std::chrono::milliseconds handshake_timeout{5000};
  /// The largest length a frame may announce (type byte + payload).
  std::size_t max_frame_size = default_max_frame_size;
  /// How long the node waits for a verdict from an actor.
  std::chrono::milliseconds verdict_timeout{5000};
  /// When no verdict comes (see unreachable_policy).
  unreachable_policy when_unreachable = unreachable_policy::fail_closed;
  /// TCP connect attempts per dial, and the pause before the second one
  /// (doubled before each further attempt).
  int dial_attempts = 3;
  std::chrono::milliseconds dial_backoff{100};
  /// A connection stops reading (and handing on frames) while more than
  /// this many bytes wait to be written, and starts again once the queue is
  /// back at or under it: a peer that does not read its answers cannot grow
  /// our memory beyond the mark plus the answer to one frame.
  std::size_t write_high_water = 4 * default_max_frame_size;
  /// The first connection id this node hands out. Ids must be unique per
  /// gate: give nodes that share one runtime disjoint ranges.
  connection_id first_connection_id = 1;
  /// How often traffic is reported to the watcher (at most every 100 ms).
  std::chrono::milliseconds traffic_interval{100};
  /// get_or_connect() keeps at most this many outbound connections (live or
  /// being dialled) per address; give it the config's
  /// `max_established_per_peer`.
  std::size_t max_connections_per_peer = 8;
  /// Where the node's log lines go. Called on the io thread, so it must not
  /// block (async_log is such a hook). Unset: the node's own async_log,
  /// writing to stderr.
  log_hook log;
};

/// The resource actors a node talks to. `watcher` may be left unset.
struct node_actors {
  gate_actor gate;
  rate_limiter_actor rate_limiter;
  socket_watcher_actor watcher;
};

/// Serves one protocol on inbound connections: the body of each admitted
/// DATA frame; a returned body is sent back as DATA on the same protocol.
/// Runs on the io thread: it must not block.
using protocol_handler = std::function<std::optional<std::string>(
    const peer_id& from, const std::string& body)>;

/// DATA received on an outbound connection (the answers to what we sent).
using response_handler =
    std::function<void(connection_id conn, const peer_id& from,
                       const protocol_id& protocol, const std::string& body)>;

/// A REJECT frame the protocol expects, received on an open connection: on
/// an outbound connection, the refusal of a DATA frame this node sent; on
/// an inbound one, the client's refusal of the connection (its first frame
/// after HELLO; the node then closes the connection).
using reject_handler =
    std::function<void(connection_id conn, const peer_id& from, const denial& why)>;

/// The outcome of a dial.
struct dial_result {
  connection_id conn = 0;
  bool ok = false;
  peer_id peer;                  // the remote's id when ok
  std::optional<denial> refused; // our gate's or the remote's refusal
  bool refused_by_remote = false;
  std::string error; // why it failed, as text
};

using dial_callback = std::function<void(const dial_result&)>;

/// What every connection of a node shares. Immutable once the node serves.
struct node_context {
  node_options opts;
  node_actors actors;
  caf::actor bridge;
  /// Every lifecycle event for the gate goes through this, in order.
  std::shared_ptr<gate_channel> to_gate;
  std::shared_ptr<loop_handle> loop;
  std::map<protocol_id, protocol_handler> handlers;
  response_handler on_response;
  reject_handler on_reject;
  /// The log (opts.log, or the node's own); never empty.
  log_hook log;
  /// Called on the io thread when it is established / gone.
  std::function<void(connection_id, direction, const peer_id&,
                     const std::string& address)>
      established;
  /// Gone: `last` holds the bytes since the last traffic collection; when
  /// `watched`, the node must report them, then unwatch the connection.
  std::function<void(connection_id, direction, const traffic_sample& last, bool watched)>
      removed;
};

} // namespace rcmgr::net
