// The gate's rules (DESIGN §4): plain C++, no CAF, time as a parameter.
//
// One object owns everything the gate decides with: the connection limits
// and the bypass set, the memory rule, the peers the watcher blocked, and
// the counters of denials and anomalies. `decide` takes one lifecycle event
// at a given time, applies the checks in their order, and reports what
// happened to a sink; the gate actor only chooses the sink (an outcome batch
// being written, or nothing when nobody listens).
//
// Order of checks:
// - pending_inbound: the memory rule (a duplicate id is left to the limits,
//   so bad input is never counted as a memory denial), then the limit;
// - pending_outbound: a blocked peer; a bypassed peer skips the memory rule;
//   the memory rule; then the limits (where a bypassed peer is admitted);
// - established_*: a blocked peer; then the limits (bypass, the direction's
//   limit, per-peer, total);
// - dial_failure, listen_failure, connection_closed: the limits release.
// A blocked peer is refused with `blocked` until the watcher's cooldown
// ends; a bypassed peer is never blocked.
//
// With "scopes" in the config (DESIGN §6.1) the policy also owns the
// resource scopes, and a connection's admission is one decision across both:
// the rules above first, then the scopes. A scope refusal undoes what the
// rules above admitted, so a denial charges nothing; a refused established_*
// releases the connection entirely (as every other established_* denial
// does); a failure or a close releases everything. Connections of bypassed
// peers are tracked by the scopes and charged to none. Stream and memory
// events go to the scopes alone (decide_scope); without "scopes" they decide
// nothing (ok).
//
// Per-IP limits, attempt rates and the allowlist (DESIGN §6.2) come between
// the rules above and the scopes, for pending_* only: a connection the rules
// above admitted takes a token from its attempt buckets, then counts against
// its IP (a refusal gives back what the rules above admitted; a token taken
// stays taken, as go's). Its IP is the remote address's (inbound) or the
// first dial address with one (outbound); a connection without an IP, a
// bypassed peer's, and one from an allowlisted address skip both. An
// allowlisted address's connection is charged to the allowlisted scopes when
// the normal ones refuse it; at established_* one whose (peer, address) the
// allowlist does not allow must fit the normal scopes. The per-IP count ends
// when the connection leaves the limits (failure, close, refused
// establishment).
//
// Dry run (DESIGN §6.3): a rule of a family in "dry_run" that would deny
// lets the event through as if it had allowed, charging what an allow
// charges; the first such would-denial in check order rides on the `allow`
// verdict and is counted in would_denials(). An enforced denial later in
// the order still denies (and the would-denial is not counted).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/gate/connection_limits.hpp"
#include "actors/gate/denial_counters.hpp"
#include "actors/gate/ip/attempt_rates.hpp"
#include "actors/gate/ip/ip_allowlist.hpp"
#include "actors/gate/ip/ip_conn_limits.hpp"
#include "actors/gate/memory_policy.hpp"
#include "actors/gate/peer_blocklist.hpp"
#include "actors/gate/scopes/resource_scopes.hpp"
#include "actors/gate/scopes/scope_defaults.hpp"
#include "messages/anomaly.hpp"
#include "messages/batches.hpp"
#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/verdict.hpp"
#include "messages/verdict_list.hpp"

namespace rcmgr {

// -- sinks: where an event's outcome goes ----------------------------------------
//
// A sink has `peer()` (the peer the event names; a view valid until the
// sink's first report) and one report per outcome kind:
//   admitted(conn_state, direction, std::optional<peer_id> known, bool bypassed, time_ns)
//   denied(denial, time_ns)
//   released(std::optional<peer_id> known, std::string_view fixed_reason, time_ns)
// `known` is the connection's peer when it is not the one the event named.
// A sink may also have would_deny(const denial&), called right after
// admitted() for a dry run's admission (sinks without it do not hear it).

/// One event of an outcome batch: its outcome is written into the batch.
class batch_sink {
public:
  batch_sink(outcome_writer& out, const batch_event& e) : out_(out), e_(e) {}

  std::string_view peer() const { return out_.text_of(e_.peer); }
  void admitted(conn_state state, direction dir, const std::optional<peer_id>& known,
                bool bypassed, time_ns at) {
    out_.admitted(e_, state, dir, known, bypassed, at);
  }
  void denied(denial why, time_ns at) { out_.denied(e_, std::move(why), at); }
  /// After admitted(): the admission a rule in dry run would have denied.
  void would_deny(const denial& why) { out_.would_deny(why); }
  void released(const std::optional<peer_id>& known, std::string_view fixed_reason,
                time_ns at) {
    out_.released(e_, known, fixed_reason, at);
  }

private:
  outcome_writer& out_;
  const batch_event& e_;
};

/// An event whose outcome nobody hears: the decision alone.
class no_sink {
public:
  explicit no_sink(std::string_view peer) : peer_(peer) {}

  std::string_view peer() const { return peer_; }
  void admitted(conn_state, direction, const std::optional<peer_id>&, bool, time_ns) {}
  void denied(const denial&, time_ns) {}
  void released(const std::optional<peer_id>&, std::string_view, time_ns) {}

private:
  std::string_view peer_;
};

// -- stream and memory events ----------------------------------------------------

/// One stream or memory event (DESIGN §6.1), its texts as views: the fields
/// of the event struct of the same kind. `name` is the protocol, the service
/// or the memory event's scope ("conn-<n>" / "stream-<n>").
struct scope_event {
  event_kind kind = event_kind::stream_opened;
  stream_id stream = 0;
  connection_id conn = 0;
  bool has_conn = false;
  std::string_view peer;
  std::string_view name;
  direction dir = direction::inbound;
  std::uint64_t bytes = 0;
  std::uint8_t priority = 255;
  /// A memory event's scope when given as a holder; else `name` is parsed.
  std::optional<holder_ref> holder;
};

/// A typed message as a scope_event.
scope_event scope_event_of(const stream_opened& x);
scope_event scope_event_of(const stream_protocol& x);
scope_event scope_event_of(const stream_service& x);
scope_event scope_event_of(const stream_closed& x);
scope_event scope_event_of(const reserve_memory& x);
scope_event scope_event_of(const release_memory& x);

// -- the policy -------------------------------------------------------------------

/// The gate's state at one time: its part of the dump, as data.
struct gate_stats {
  connection_limits_config config;
  std::vector<peer_id> bypass_peers; // sorted
  admission_counts counts;
  denial_counts denials;
  denial_counts would_deny;
  std::size_t blocked_peers = 0;
  memory_stats memory;
  anomaly_counts anomalies; // the resource scopes' included
};

class gate_policy {
public:
  explicit gate_policy(const node_config& cfg = {}, scale_readings readings = {}) {
    readings_ = readings;
    configure(cfg);
  }

  /// A config update: the connection limits, the bypass set, the memory
  /// rule and the scope limits are replaced; connections, streams, their
  /// usage, counters and blocks stay. A config without "scopes" drops the
  /// scopes and what they held.
  void configure(const node_config& cfg);
  /// What "scopes_scale": "auto" scales by, from the next configure() on.
  void set_scale_readings(scale_readings r) { readings_ = r; }

  /// Decides one lifecycle event at `now`, reporting its outcome (if any) to
  /// `sink`. `usefd`: the connection holds a file descriptor (scopes only).
  /// `remote`: the event's remote address, dial addresses or established
  /// address (DESIGN §6.2 reads the IP there). An event kind outside the
  /// connection events is a bad batch entry.
  template <class Sink>
  verdict decide(event_kind kind, connection_id conn, Sink& sink, time_ns now,
                 bool usefd = true, const text_list& remote = {});

  /// Decides one stream or memory event at `now` (no outcome is published
  /// for these). A kind that is not one is a bad batch entry.
  verdict decide_scope(const scope_event& e, time_ns now);

  /// A batch event whose references fall outside its batch: counted,
  /// nothing decided.
  verdict refuse_bad_entry();

  /// Decides a batch's events in order at `now` (one instant for all): a
  /// connection event by `decide`, its outcome written into `out`; a stream
  /// or memory event by `decide_scope`; an event whose references fall
  /// outside the batch refused. The batch's texts and lists move into `out`,
  /// so that its outcomes refer to them without a copy. Returns one verdict
  /// per event.
  verdict_list decide_batch(lifecycle_batch& batch, outcome_batch& out, time_ns now);

  // -- the bypass set -----------------------------------------------------------

  verdict add_bypass(const peer_id& peer) { return limits_.add_bypass(peer); }
  verdict remove_bypass(const peer_id& peer) { return limits_.remove_bypass(peer); }
  std::vector<peer_id> bypass_peers() const { return limits_.bypass_peers(); }

  // -- inputs from the other actors ---------------------------------------------

  void on_memory_sample(const memory_sample& s) { memory_.on_sample(s); }
  /// The watcher's verdict on a peer: refused until `b.until`.
  void on_peer_blocked(const peer_blocked& b, time_ns now) {
    blocked_.block(b.peer, b.until, now);
  }
  /// Bad input seen outside the actors.
  void on_anomaly(anomaly kind) { reported_.add(kind); }

  // -- state ----------------------------------------------------------------------

  admission_counts counts() const { return limits_.counts(); }
  const connection_limits& limits() const { return limits_; }
  const memory_policy& memory() const { return memory_; }
  const denial_counters& denials() const { return denials_; }
  const denial_counters& would_denials() const { return would_deny_; }
  /// Peers refused at `now` (expired blocks are dropped first).
  std::size_t blocked_peers(time_ns now) { return blocked_.size(now); }
  /// Every anomaly counted: the limits' and the reported ones.
  anomaly_counts anomalies() const;
  /// Everything at `now` (expired blocks are dropped first).
  gate_stats stats(time_ns now);

  /// The resource scopes; null when the config has no "scopes".
  const resource_scopes* scopes() const { return scopes_.get(); }
  /// The dump part `scopes` (DESIGN §6.1) at `now`, lists capped at
  /// `list_cap`; null when there are no scopes.
  nlohmann::json scopes_json(time_ns now, std::size_t list_cap) const;

  /// The per-IP state (DESIGN §6.2).
  const ip_conn_limits& ip_limits() const { return ip_limits_; }
  const attempt_rates& attempts() const { return attempts_; }
  const ip_allowlist& allowlist() const { return allowlist_; }
  /// The dump part `ip_limits` (DESIGN §6.2) at `now`, lists capped at
  /// `list_cap`; null when none of "ip_limits", "attempt_rates" and
  /// "allowlist" is in the config.
  nlohmann::json ip_limits_json(time_ns now, std::size_t list_cap);

private:
  // The admission and the would-denial are taken by reference: each is about
  // 100 and 250 bytes, and was moved once more per event.
  template <class Sink>
  verdict conclude(admission&& a, Sink& sink, conn_state state, direction dir,
                   time_ns now, std::optional<denial>&& would);

  // -- dry run (DESIGN §6.3) ---------------------------------------------------------

  bool dry(rule_family f) const { return (dry_run_ & family_bit(f)) != 0; }
  /// Keeps the first would-denial in check order.
  static void note(std::optional<denial>& would, denial d) {
    if (!would)
      would = std::move(d);
  }
  static void note(std::optional<denial>& would, const verdict& v) {
    if (auto w = v.would(); w && !would)
      would = *w;
  }
  template <class Sink>
  verdict release(admission&& a, Sink& sink, std::string_view fixed_reason, time_ns now);
  template <class Sink> verdict deny(Sink& sink, denial d, time_ns now);

  /// The memory rule, for a pending connection whose id is new.
  std::optional<denial> memory_denial(connection_id conn, time_ns now);
  /// A `blocked` denial when `peer` is blocked at `now` and not bypassed;
  /// `opening`: for a pending connection (else for its establishment).
  std::optional<denial> block_denial(connection_id conn, std::string_view peer,
                                     bool opening, time_ns now);

  // -- the per-IP part of a connection's admission (DESIGN §6.2) ------------------

  /// The IP of a connection's address(es): the first that has one.
  static std::optional<ip_address> ip_of(const text_list& addresses);
  /// After the rules above admitted a pending connection: the attempt rate,
  /// then the per-IP limit, or the refusal (the pending slot given back).
  /// `allowlisted` is set when the IP is on the allowlist.
  /// A refusal by a rule in dry run is noted in `would` instead.
  std::optional<denial> ip_open(const admission& a, connection_id conn,
                                const text_list& remote, time_ns now, bool& allowlisted,
                                std::optional<denial>& would);
  /// The connection's per-IP count ends when it has left the limits.
  void ip_release(connection_id conn) {
    if (ip_limits_.connections() != 0 && !limits_.contains(conn))
      ip_limits_.remove(conn);
  }
  /// Whether the allowlist allows `peer` from the connection's address.
  bool peer_allowlisted(std::string_view peer, const text_list& remote) const;

  // -- the scopes' part of a connection's admission ---------------------------------

  /// After the rules above admitted a pending connection: its scope, or the
  /// refusal (the pending slot given back).
  std::optional<denial> scope_open(const admission& a, connection_id conn, direction dir,
                                   bool usefd, time_ns now, bool allowlisted,
                                   std::optional<denial>& would);
  /// After the rules above decided an establishment: on allow, the move into
  /// the peer's scope, or the refusal (the connection released); on deny,
  /// the connection leaves its scopes.
  std::optional<denial> scope_establish(const admission& a, connection_id conn,
                                        std::string_view peer, direction dir, bool usefd,
                                        time_ns now, bool peer_allowlisted,
                                        std::optional<denial>& would);
  /// A connection the rules above released leaves its scopes.
  void scope_release(const admission& a, connection_id conn);
  void scope_close(connection_id conn);
  /// What the scopes say to `e` (decide_scope's result before it becomes a
  /// verdict); bad input is an error result, its anomaly counted.
  scope_result scope_decision(const scope_event& e, time_ns now);
  /// The same for an event read through `Entry` (a scope_event, or a batch
  /// entry read in place), each field read by the kinds that use it alone.
  template <class Entry> scope_result scope_decision_of(const Entry& e, time_ns now);
  verdict scope_verdict(scope_result r);

  connection_limits limits_;
  memory_policy memory_;
  peer_blocklist blocked_;
  denial_counters denials_;
  /// Would-denials of rules in dry run (verdicts allowed with would_deny).
  denial_counters would_deny_;
  std::uint8_t dry_run_ = 0; // family_bit()s
  anomaly_counts reported_;
  scale_readings readings_;
  std::unique_ptr<resource_scopes> scopes_;
  ip_conn_limits ip_limits_;
  attempt_rates attempts_;
  ip_allowlist allowlist_;
  bool has_ip_limits_ = false;
  bool has_attempt_rates_ = false;
};

template <class Sink>
verdict gate_policy::decide(event_kind kind, connection_id conn, Sink& sink, time_ns now,
                            bool usefd, const text_list& remote) {
  switch (kind) {
  case event_kind::pending_inbound: {
    std::optional<denial> would; // the first rule in dry run that would deny
    if (auto d = memory_denial(conn, now)) {
      if (!dry(rule_family::memory))
        return deny(sink, std::move(*d), now);
      would = std::move(d);
    }
    auto a = limits_.on_pending_inbound(conn);
    note(would, a.result);
    bool allowlisted = false;
    if (auto d = ip_open(a, conn, remote, now, allowlisted, would))
      return deny(sink, std::move(*d), now);
    if (scopes_)
      if (auto d =
              scope_open(a, conn, direction::inbound, usefd, now, allowlisted, would))
        return deny(sink, std::move(*d), now);
    return conclude(std::move(a), sink, conn_state::pending, direction::inbound, now,
                    std::move(would));
  }
  case event_kind::pending_outbound: {
    auto peer = sink.peer();
    std::optional<denial> would;
    if (auto d = block_denial(conn, peer, true, now)) {
      if (!dry(rule_family::blocked))
        return deny(sink, std::move(*d), now);
      would = std::move(d);
    }
    // A known bypassed peer is allowed at once, before the memory check.
    if (peer.empty() || !limits_.is_bypassed(peer))
      if (auto d = memory_denial(conn, now)) {
        if (!dry(rule_family::memory))
          return deny(sink, std::move(*d), now);
        note(would, std::move(*d));
      }
    auto a = limits_.on_pending_outbound(conn, peer);
    note(would, a.result);
    bool allowlisted = false;
    if (auto d = ip_open(a, conn, remote, now, allowlisted, would))
      return deny(sink, std::move(*d), now);
    if (scopes_)
      if (auto d =
              scope_open(a, conn, direction::outbound, usefd, now, allowlisted, would))
        return deny(sink, std::move(*d), now);
    return conclude(std::move(a), sink, conn_state::pending, direction::outbound, now,
                    std::move(would));
  }
  case event_kind::established_inbound:
  case event_kind::established_outbound: {
    auto dir = kind == event_kind::established_inbound ? direction::inbound
                                                       : direction::outbound;
    auto peer = sink.peer();
    std::optional<denial> would;
    if (auto d = block_denial(conn, peer, false, now)) {
      if (dry(rule_family::blocked)) {
        would = std::move(d);
      } else {
        if (scopes_)
          scope_close(conn);
        ip_release(conn);
        return deny(sink, std::move(*d), now);
      }
    }
    auto a = limits_.on_established(conn, peer, dir);
    note(would, a.result);
    if (scopes_) {
      bool allowed_peer = !allowlist_.empty() && peer_allowlisted(peer, remote);
      if (auto d = scope_establish(a, conn, peer, dir, usefd, now, allowed_peer, would)) {
        ip_release(conn);
        return deny(sink, std::move(*d), now);
      }
    }
    ip_release(conn);
    return conclude(std::move(a), sink, conn_state::established, dir, now,
                    std::move(would));
  }
  case event_kind::dial_failure: {
    auto a = limits_.on_failure(conn, direction::outbound);
    if (scopes_)
      scope_release(a, conn);
    ip_release(conn);
    return release(std::move(a), sink, "dial failure", now);
  }
  case event_kind::listen_failure: {
    auto a = limits_.on_failure(conn, direction::inbound);
    if (scopes_)
      scope_release(a, conn);
    ip_release(conn);
    return release(std::move(a), sink, "listen failure", now);
  }
  case event_kind::connection_closed: {
    auto a = limits_.on_closed(conn, sink.peer());
    if (scopes_)
      scope_release(a, conn);
    ip_release(conn);
    return release(std::move(a), sink, {}, now);
  }
  case event_kind::stream_opened:
  case event_kind::stream_protocol:
  case event_kind::stream_service:
  case event_kind::stream_closed:
  case event_kind::reserve_memory:
  case event_kind::release_memory:
    break; // decide_scope's
  }
  reported_.add(anomaly::bad_batch_entry);
  return verdict::fail("unknown event kind in a batch");
}

/// sink.would_deny(why) for the sinks that have it.
template <class Sink>
auto report_would_deny(Sink& sink, const denial& why, int)
    -> decltype(sink.would_deny(why), void()) {
  sink.would_deny(why);
}
template <class Sink> void report_would_deny(Sink&, const denial&, long) {}

template <class Sink>
verdict gate_policy::conclude(admission&& a, Sink& sink, conn_state state, direction dir,
                              time_ns now, std::optional<denial>&& would) {
  if (a.result.allowed()) {
    // The first would-denial in check order is the one reported.
    if (would)
      a.result = verdict::allow_but(std::move(*would));
    sink.admitted(state, dir, a.peer, a.bypassed, now);
    if (auto w = a.result.would()) {
      would_deny_.count(*w);
      report_would_deny(sink, *w, 0);
    }
  } else if (a.result.denied()) {
    denials_.count(a.result.why);
    sink.denied(a.result.why, now);
  }
  return std::move(a.result);
}

template <class Sink>
verdict gate_policy::release(admission&& a, Sink& sink, std::string_view fixed_reason,
                             time_ns now) {
  if (a.changed)
    sink.released(a.peer, fixed_reason, now);
  return std::move(a.result);
}

template <class Sink> verdict gate_policy::deny(Sink& sink, denial d, time_ns now) {
  denials_.count(d);
  sink.denied(d, now);
  return verdict::deny(std::move(d));
}

} // namespace rcmgr
