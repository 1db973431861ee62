// The lifecycle events of DESIGN §4 and the other inputs a node sends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/anomaly.hpp"
#include "messages/ids.hpp"
#include "messages/inline_text.hpp"

namespace rcmgr {

// The texts of the events a node sends one at a time are `inline_text`: a
// peer id or an address up to 63 bytes travels inside the message (a dial's
// addresses in one vector).
//
// `usefd` (DESIGN §6.1): whether the connection holds a file descriptor,
// charged to the FD limit of its scopes. It only matters with "scopes".

struct pending_inbound {
  connection_id conn = 0;
  inline_text local;
  inline_text remote;
  bool usefd = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_inbound& x) {
  return f(caf::meta::type_name("pending_inbound"), x.conn, x.local, x.remote, x.usefd);
}

struct pending_outbound {
  connection_id conn = 0;
  inline_text peer; // empty when the dial goes to an address only
  std::vector<inline_text> addresses;
  bool usefd = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_outbound& x) {
  return f(caf::meta::type_name("pending_outbound"), x.conn, x.peer, x.addresses,
           x.usefd);
}

struct established_inbound {
  connection_id conn = 0;
  inline_text peer;
  inline_text local;
  inline_text remote;
  bool usefd = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, established_inbound& x) {
  return f(caf::meta::type_name("established_inbound"), x.conn, x.peer, x.local, x.remote,
           x.usefd);
}

struct established_outbound {
  connection_id conn = 0;
  inline_text peer;
  inline_text address;
  bool usefd = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, established_outbound& x) {
  return f(caf::meta::type_name("established_outbound"), x.conn, x.peer, x.address,
           x.usefd);
}

struct dial_failure {
  connection_id conn = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dial_failure& x) {
  return f(caf::meta::type_name("dial_failure"), x.conn);
}

struct listen_failure {
  connection_id conn = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listen_failure& x) {
  return f(caf::meta::type_name("listen_failure"), x.conn);
}

struct connection_closed {
  connection_id conn = 0;
  inline_text peer; // optional: empty if the node does not know it
  inline_text reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_closed& x) {
  return f(caf::meta::type_name("connection_closed"), x.conn, x.peer, x.reason);
}

// -- streams and memory reservations (DESIGN §6.1) --------------------------------
//
// Decided by the gate's resource scopes; with no "scopes" in the config they
// decide nothing (verdict ok). Their outcomes are the verdicts alone: the
// gate publishes nothing to subscribers for them.

/// A new stream under its peer, in the transient scope (`stream-<n>`).
/// `conn` (when has_conn) is the connection it runs on, only reported.
struct stream_opened {
  stream_id stream = 0;
  inline_text peer;
  direction dir = direction::inbound;
  bool has_conn = false;
  connection_id conn = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_opened& x) {
  return f(caf::meta::type_name("stream_opened"), x.stream, x.peer, x.dir, x.has_conn,
           x.conn);
}

/// The stream's protocol: it moves into the protocol and protocol-peer
/// scopes, out of transient. A refusal leaves it where it was.
struct stream_protocol {
  stream_id stream = 0;
  inline_text protocol;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_protocol& x) {
  return f(caf::meta::type_name("stream_protocol"), x.stream, x.protocol);
}

/// The stream's service (after its protocol): into the service and
/// service-peer scopes. A refusal leaves it where it was.
struct stream_service {
  stream_id stream = 0;
  inline_text service;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_service& x) {
  return f(caf::meta::type_name("stream_service"), x.stream, x.service);
}

/// Releases everything the stream holds.
struct stream_closed {
  stream_id stream = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_closed& x) {
  return f(caf::meta::type_name("stream_closed"), x.stream);
}

/// A connection's or stream's own scope, as reserve_memory names it.
struct holder_ref {
  enum class kind_t : std::uint8_t { conn, stream };
  kind_t kind = kind_t::conn;
  std::uint64_t id = 0;
  friend bool operator==(const holder_ref& a, const holder_ref& b) {
    return a.kind == b.kind && a.id == b.id;
  }
};
/// "conn-<n>" or "stream-<n>" (n a decimal without sign or leading zeros);
/// nothing for any other text.
std::optional<holder_ref> parse_holder_name(std::string_view name);
std::string holder_name(holder_ref h);

/// Reserves memory for a connection or a stream: `scope` is "conn-<n>" or
/// "stream-<n>"; `priority` 0..255 (go's Low 101, Medium 152, High 203,
/// Always 255).
struct reserve_memory {
  inline_text scope;
  std::uint64_t bytes = 0;
  std::uint8_t priority = 255;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_memory& x) {
  return f(caf::meta::type_name("reserve_memory"), x.scope, x.bytes, x.priority);
}

/// Gives memory back; more than is held releases what is held and counts
/// `over_release`.
struct release_memory {
  inline_text scope;
  std::uint64_t bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_memory& x) {
  return f(caf::meta::type_name("release_memory"), x.scope, x.bytes);
}

/// One lifecycle event of any kind, flat (a `batch_writer` takes these): `kind` says
/// which fields apply (those of the event struct of the same name; `remote` holds the
/// remote address, the dial addresses or the established address). Stream and
/// memory events use `stream`, `peer`, `dir`, `has_conn` and `conn`
/// (stream_opened), `name` (the protocol, the service, or the scope of a
/// memory event), `bytes` and `priority`.
struct lifecycle_event {
  event_kind kind = event_kind::pending_inbound;
  connection_id conn = 0;
  peer_id peer;
  std::string local;
  std::vector<std::string> remote;
  std::string reason;
  bool usefd = true;
  stream_id stream = 0;
  std::string name;
  std::uint64_t bytes = 0;
  direction dir = direction::inbound;
  std::uint8_t priority = 255;
  bool has_conn = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lifecycle_event& x) {
  return f(caf::meta::type_name("lifecycle_event"), x.kind, x.conn, x.peer, x.local,
           x.remote, x.reason, x.usefd, x.stream, x.name, x.bytes, x.dir, x.priority,
           x.has_conn);
}

/// Adds a peer to the bypass set (its connections are tracked, not counted).
struct bypass_peer {
  peer_id peer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bypass_peer& x) {
  return f(caf::meta::type_name("bypass_peer"), x.peer);
}

struct remove_bypass {
  peer_id peer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remove_bypass& x) {
  return f(caf::meta::type_name("remove_bypass"), x.peer);
}

/// A protocol message (or stream open) that the rate limiter must admit.
struct protocol_message {
  connection_id conn = 0;
  inline_text peer;
  inline_text protocol;
  std::uint64_t cost = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, protocol_message& x) {
  return f(caf::meta::type_name("protocol_message"), x.conn, x.peer, x.protocol, x.cost);
}

/// Many protocol messages in one actor message; answered in the same order.
struct protocol_batch {
  std::vector<protocol_message> messages;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, protocol_batch& x) {
  return f(caf::meta::type_name("protocol_batch"), x.messages);
}

/// One memory reading. `cgroup_limit` is 0 when the process has none.
struct memory_sample {
  std::uint64_t rss = 0;
  std::uint64_t total = 0;
  std::uint64_t cgroup_limit = 0;
  std::uint64_t cgroup_usage = 0;
  time_ns at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_sample& x) {
  return f(caf::meta::type_name("memory_sample"), x.rss, x.total, x.cgroup_limit,
           x.cgroup_usage, x.at);
}

/// Bad input seen outside the actors (a wire frame, a replay line, a CLI
/// flag), reported so the dump counts it under `anomalies`.
struct anomaly_report {
  anomaly kind = anomaly::unknown_anomaly;
};

/// The kind crosses the middleman by its name: a name the receiver does not
/// know is counted as `unknown_anomaly`.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, anomaly_report& x) {
  std::string name{name_of(x.kind)};
  return f(caf::meta::type_name("anomaly_report"), name,
           caf::meta::load_callback([&]() -> caf::error {
             x.kind = anomaly_from_name(name);
             return caf::none;
           }));
}

// -- the socket watcher's inputs (from the net layer) ---------------------------

/// Starts watching a live connection's socket. `fd` is polled for a hang-up
/// without reading from it; -1 means "do not probe".
struct watch_socket {
  connection_id conn = 0;
  peer_id peer;
  int fd = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_socket& x) {
  return f(caf::meta::type_name("watch_socket"), x.conn, x.peer, x.fd);
}

struct unwatch_socket {
  connection_id conn = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unwatch_socket& x) {
  return f(caf::meta::type_name("unwatch_socket"), x.conn);
}

/// Bytes moved on one connection since its previous sample.
struct traffic_sample {
  connection_id conn = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, traffic_sample& x) {
  return f(caf::meta::type_name("traffic_sample"), x.conn, x.bytes_in, x.bytes_out);
}

/// The net layer batches traffic: at most one report every 100 ms.
struct traffic_report {
  std::vector<traffic_sample> samples;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, traffic_report& x) {
  return f(caf::meta::type_name("traffic_report"), x.samples);
}

/// A peer misbehaved: a protocol violation ("bad_frame", ...) or a
/// rate-limit denial ("rate_limited").
struct peer_violation {
  peer_id peer;
  std::string kind;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_violation& x) {
  return f(caf::meta::type_name("peer_violation"), x.peer, x.kind);
}

/// The watcher's verdict on a peer: the gate refuses its new connections
/// with a `blocked` denial until `until` (the actor clock's nanoseconds).
struct peer_blocked {
  peer_id peer;
  time_ns until = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_blocked& x) {
  return f(caf::meta::type_name("peer_blocked"), x.peer, x.until);
}

} // namespace rcmgr
