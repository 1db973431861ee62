// The lifecycle events of DESIGN §4 and the other inputs a node sends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/anomaly.hpp"
#include "messages/ids.hpp"

namespace rcmgr {

struct pending_inbound {
  connection_id conn = 0;
  std::string local;
  std::string remote;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_inbound& x) {
  return f(caf::meta::type_name("pending_inbound"), x.conn, x.local, x.remote);
}

struct pending_outbound {
  connection_id conn = 0;
  peer_id peer; // empty when the dial goes to an address only
  std::vector<std::string> addresses;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_outbound& x) {
  return f(caf::meta::type_name("pending_outbound"), x.conn, x.peer, x.addresses);
}

struct established_inbound {
  connection_id conn = 0;
  peer_id peer;
  std::string local;
  std::string remote;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, established_inbound& x) {
  return f(caf::meta::type_name("established_inbound"), x.conn, x.peer, x.local,
           x.remote);
}

struct established_outbound {
  connection_id conn = 0;
  peer_id peer;
  std::string address;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, established_outbound& x) {
  return f(caf::meta::type_name("established_outbound"), x.conn, x.peer, x.address);
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
  peer_id peer; // optional: empty if the node does not know it
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_closed& x) {
  return f(caf::meta::type_name("connection_closed"), x.conn, x.peer, x.reason);
}

/// One lifecycle event of any kind, flat (a `batch_writer` takes these): `kind` says
/// which fields apply (those of the event struct of the same name; `remote` holds the
/// remote address, the dial addresses or the established address).
struct lifecycle_event {
  event_kind kind = event_kind::pending_inbound;
  connection_id conn = 0;
  peer_id peer;
  std::string local;
  std::vector<std::string> remote;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lifecycle_event& x) {
  return f(caf::meta::type_name("lifecycle_event"), x.kind, x.conn, x.peer, x.local,
           x.remote, x.reason);
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
  peer_id peer;
  protocol_id protocol;
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
