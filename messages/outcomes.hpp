// What the gate publishes to subscribers, and the tracker's records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/ids.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// A connection entered `state` (pending, or established: a reservation that
/// counts at once).
struct admitted {
  connection_id conn = 0;
  conn_state state = conn_state::pending;
  direction dir = direction::inbound;
  peer_id peer;
  std::string local;
  std::vector<std::string> remote; // the remote address, or the dial addresses
  bool bypassed = false;
  time_ns at = 0;
  /// Dry run: what a rule would have denied (at most one; a list, so that
  /// the common case holds and sends nothing).
  std::vector<denial> would_deny;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admitted& x) {
  return f(caf::meta::type_name("admitted"), x.conn, x.state, x.dir, x.peer, x.local,
           x.remote, x.bypassed, x.at, x.would_deny);
}

struct denied {
  connection_id conn = 0;
  event_kind event = event_kind::pending_inbound;
  denial why;
  time_ns at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, denied& x) {
  return f(caf::meta::type_name("denied"), x.conn, x.event, x.why, x.at);
}

/// A connection left every set: closed, or its dial/listen failed.
struct released {
  connection_id conn = 0;
  event_kind cause = event_kind::connection_closed;
  peer_id peer;
  std::string reason;
  time_ns at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, released& x) {
  return f(caf::meta::type_name("released"), x.conn, x.cause, x.peer, x.reason, x.at);
}

/// The tracker's record of one live connection. `established_at` is -1
/// while pending; `pending_at` is -1 if it was never pending.
struct connection_record {
  connection_id conn = 0;
  conn_state state = conn_state::pending;
  direction dir = direction::inbound;
  peer_id peer;
  std::string local;
  std::vector<std::string> remote;
  bool bypassed = false;
  time_ns pending_at = -1;
  time_ns established_at = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_record& x) {
  return f(caf::meta::type_name("connection_record"), x.conn, x.state, x.dir, x.peer,
           x.local, x.remote, x.bypassed, x.pending_at, x.established_at);
}

/// The gate's admission counts (counted connections only; bypassed ones are
/// listed apart).
struct admission_counts {
  std::uint64_t pending_inbound = 0;
  std::uint64_t pending_outbound = 0;
  std::uint64_t established_inbound = 0;
  std::uint64_t established_outbound = 0;
  std::uint64_t bypassed = 0;
  friend bool operator==(const admission_counts& a, const admission_counts& b) {
    return a.pending_inbound == b.pending_inbound &&
           a.pending_outbound == b.pending_outbound &&
           a.established_inbound == b.established_inbound &&
           a.established_outbound == b.established_outbound && a.bypassed == b.bypassed;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admission_counts& x) {
  return f(caf::meta::type_name("admission_counts"), x.pending_inbound,
           x.pending_outbound, x.established_inbound, x.established_outbound, x.bypassed);
}

} // namespace rcmgr
