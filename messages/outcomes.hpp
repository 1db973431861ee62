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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admitted& x) {
  return f(caf::meta::type_name("admitted"), x.conn, x.state, x.dir, x.peer, x.local,
           x.remote, x.bypassed, x.at);
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

/// The outcomes of one `lifecycle_batch`, published to each subscriber as
/// one message instead of one message per outcome. `order` lists them in
/// event order: 0 = the next of `admits`, 1 = of `denials`, 2 = of
/// `releases`. Use `for_each_outcome` to replay them.
struct outcome_batch {
  std::vector<std::uint8_t> order;
  std::vector<admitted> admits;
  std::vector<denied> denials;
  std::vector<released> releases;

  void add(admitted x) {
    order.push_back(0);
    admits.push_back(std::move(x));
  }
  void add(denied x) {
    order.push_back(1);
    denials.push_back(std::move(x));
  }
  void add(released x) {
    order.push_back(2);
    releases.push_back(std::move(x));
  }
  bool empty() const { return order.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome_batch& x) {
  return f(caf::meta::type_name("outcome_batch"), x.order, x.admits, x.denials,
           x.releases);
}

/// Calls `on_admitted`, `on_denied` or `on_released` for each outcome, in
/// event order. A malformed batch (from a remote sender: `order` names
/// outcomes the lists do not hold, or leaves some out) is refused whole:
/// nothing is called and the result is false.
template <class A, class D, class R>
bool for_each_outcome(const outcome_batch& b, A&& on_admitted, D&& on_denied,
                      R&& on_released) {
  std::size_t n[3] = {0, 0, 0};
  for (auto k : b.order) {
    if (k > 2)
      return false;
    ++n[k];
  }
  if (n[0] != b.admits.size() || n[1] != b.denials.size() || n[2] != b.releases.size())
    return false;
  std::size_t a = 0, d = 0, r = 0;
  for (auto k : b.order) {
    if (k == 0)
      on_admitted(b.admits[a++]);
    else if (k == 1)
      on_denied(b.denials[d++]);
    else
      on_released(b.releases[r++]);
  }
  return true;
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
