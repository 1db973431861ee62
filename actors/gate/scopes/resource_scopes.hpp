// The scope graph of DESIGN §6.1 (go-libp2p's resource model): plain C++,
// no CAF, no clock (time is a parameter).
//
// Scopes: system, transient, allowlisted_system, allowlisted_transient,
// peer:<id>, protocol:<id>, service:<name>, protocol:<id>.peer:<id>,
// service:<name>.peer:<id>, conn-<n>, stream-<n>. Each connection and stream
// is its own scope and has a path, the flattened list of the scopes it is
// charged to, in check order:
//   pending connection      conn-N, transient, system
//                           (allowlisted: conn-N, allowlisted_transient,
//                           allowlisted_system)
//   established connection  conn-N, peer, system (or allowlisted_system)
//   stream                  stream-N, peer, transient, system
//   ... with a protocol     stream-N, peer, protocol.peer, protocol, system
//   ... and a service       stream-N, peer, protocol.peer, service.peer,
//                           protocol, service, system
// Moving (a connection's establishment, a stream's protocol or service)
// checks only the scopes it enters, in go's order, with everything the
// connection or stream holds, then leaves the transient scope.
//
// The usage of each scope is the sum of what the connections and streams on
// whose path it lies hold: each change is one holder entering or leaving a
// path, or its memory changing, so the sums cannot drift (audit() recomputes
// them). Peer, protocol and service scopes (and the per-peer scopes under a
// protocol or service) exist while a connection or stream is on them, or
// while the config names them (Peer{id}, Protocol{id}, Service{name}): a
// flood of fresh peer ids leaves nothing behind once its connections and
// streams are gone.
//
// Bad input (a duplicate or unknown id, a protocol set twice, a service
// before a protocol, a bad scope name) is an error result, counted under
// anomalies(), and changes nothing. Releasing more memory than a connection
// or stream holds releases what it holds and counts `over_release`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "actors/gate/scopes/scope_accounting.hpp"
#include "actors/gate/scopes/scopes_stats.hpp"
#include "actors/support/node_recycler.hpp"
#include "actors/support/string_pool.hpp"
#include "messages/anomaly.hpp"
#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "messages/scope_config.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// A `scope_limit` denial (DESIGN §6.1): the first scope in check order that
/// refused. `limit` is that scope's configured limit (for memory too, not
/// the priority's share of it). Empty strings and unset optionals are
/// fields that do not apply.
struct scope_denial {
  std::string scope; // "system", "peer:QmX", "protocol:/x.peer:QmX", "conn-4", ...
  scope_class scope_kind = scope_class::system;
  scope_resource resource = scope_resource::conns;
  std::optional<direction> dir; // not for memory
  std::uint64_t limit = 0;
  std::uint64_t current = 0;
  std::uint64_t attempted = 0;
  std::optional<std::uint8_t> priority; // memory only
  std::optional<connection_id> conn;
  std::optional<stream_id> stream;
  peer_id peer;
  protocol_id protocol;
  std::string service;

  friend bool operator==(const scope_denial& a, const scope_denial& b);
  friend bool operator!=(const scope_denial& a, const scope_denial& b) {
    return !(a == b);
  }
};

/// The same denial in the verdict vocabulary (code scope_limit).
denial to_denial(const scope_denial& x);

/// What one call did: allow or deny (a decision), ok (nothing to decide:
/// a close, a release), error (bad input; nothing changed).
struct scope_result {
  verdict_kind kind = verdict_kind::ok;
  /// With deny: why. With allow in a dry run: what would have refused.
  std::optional<scope_denial> denial;
  std::string error; // with error

  bool allowed() const { return kind == verdict_kind::allow; }
  bool denied() const { return kind == verdict_kind::deny; }
};

class resource_scopes {
public:
  explicit resource_scopes(scope_limit_config limits, scope_scale_info scale = {});
  resource_scopes(const resource_scopes&) = delete;
  resource_scopes& operator=(const resource_scopes&) = delete;

  /// Replaces the limits (a config update). Usage is kept: lowering a limit
  /// closes nothing, it refuses until usage is below it.
  void set_limits(scope_limit_config limits, scope_scale_info scale = {});
  const scope_limit_config& limits() const { return cfg_; }

  /// Dry run: nothing is refused, everything is charged as if allowed, and
  /// an allow carries the denial it would have been.
  void set_dry_run(bool on) { dry_run_ = on; }
  bool dry_run() const { return dry_run_; }

  // -- connections -------------------------------------------------------------

  /// A new connection in the transient scope (pending_*). `allowlisted`: its
  /// address is on the allowlist, so when the normal scopes refuse it, it is
  /// charged to the allowlisted ones instead. `bypassed`: tracked and charged
  /// to no scope for its whole life.
  scope_result open_conn(connection_id conn, direction dir, bool usefd, time_ns now,
                         bool allowlisted = false, bool bypassed = false);

  /// Establishment (established_*): the connection moves into its peer's
  /// scope and leaves the transient scope. A connection admitted through the
  /// allowlist whose (peer, address) is not allowed (`peer_allowlisted`
  /// false) must fit the normal scopes. A connection not opened before is
  /// opened here at once (`dir`, `usefd`). A refusal releases the
  /// connection entirely. `bypassed`: it leaves every scope and stays
  /// uncharged.
  scope_result establish_conn(connection_id conn, std::string_view peer, direction dir,
                              bool usefd, time_ns now, bool peer_allowlisted = false,
                              bool bypassed = false);

  /// A close or a failure: releases everything the connection holds.
  scope_result close_conn(connection_id conn);

  // -- streams -----------------------------------------------------------------

  /// A new stream under its peer, in the transient scope (stream_opened).
  /// `conn` is only reported (denials, dump).
  scope_result open_stream(stream_id stream, std::string_view peer, direction dir,
                           time_ns now, std::optional<connection_id> conn = std::nullopt,
                           bool bypassed = false);
  /// stream_protocol: into the protocol and protocol-peer scopes, out of
  /// transient. A refusal leaves the stream where it was.
  scope_result set_stream_protocol(stream_id stream, std::string_view protocol);
  /// stream_service: into the service and service-peer scopes; the protocol
  /// must be set first. A refusal leaves the stream where it was.
  scope_result set_stream_service(stream_id stream, std::string_view service);
  scope_result close_stream(stream_id stream);

  // -- memory ------------------------------------------------------------------

  scope_result reserve_memory(holder_ref holder, std::uint64_t bytes,
                              std::uint8_t priority = priority_always);
  /// Releasing more than is held releases what is held and counts
  /// `over_release`; the other scopes give back only that much.
  scope_result release_memory(holder_ref holder, std::uint64_t bytes);

  // -- queries -----------------------------------------------------------------

  const scope_usage& system() const { return system_.use; }
  const scope_usage& transient() const { return transient_.use; }
  const scope_usage& allowlisted_system() const { return allowlisted_system_.use; }
  const scope_usage& allowlisted_transient() const { return allowlisted_transient_.use; }
  /// Nothing when the scope does not exist.
  std::optional<scope_usage> peer(std::string_view id) const;
  std::optional<scope_usage> protocol(std::string_view id) const;
  std::optional<scope_usage> protocol_peer(std::string_view id,
                                           std::string_view peer) const;
  std::optional<scope_usage> service(std::string_view name) const;
  std::optional<scope_usage> service_peer(std::string_view name,
                                          std::string_view peer) const;
  std::optional<scope_usage> holder(holder_ref h) const;

  std::size_t conn_count() const { return conns_.size(); }
  std::size_t stream_count() const { return streams_.size(); }
  /// Peer, protocol and service scopes alive, their per-peer scopes included.
  std::size_t dynamic_scope_count() const;

  /// Refusals so far (real ones; would-be ones in a dry run apart), by scope
  /// class, resource and direction (index 2: no direction).
  std::uint64_t blocked(scope_class c, scope_resource r,
                        std::optional<direction> d) const;
  const anomaly_counts& anomalies() const { return anomalies_; }

  /// Recomputes every scope's usage from the connections and streams and
  /// checks each dynamic scope's reason to exist; empty when all agree,
  /// else the first difference.
  std::string audit() const;

  /// What the dump part `scopes` shows (DESIGN §6.1; rendered by
  /// scopes_json). Lists (peers, protocols, services, the peers under each,
  /// transient holders) hold at most `list_cap` entries each, with
  /// `truncated` set when any was cut.
  scopes_stats stats_at(time_ns now, std::size_t list_cap) const;

private:
  struct group_scope; // a protocol or a service, with its per-peer scopes

  /// A peer scope, kept in peers_ under the peer id: a pool reference per
  /// connection or stream on it, and one while the config names it.
  struct peer_scope {
    scope_node node;
    bool named = false;
  };
  using peer_pool = basic_string_pool<peer_scope>;
  using peer_handle = peer_pool::handle;

  struct group_scope {
    scope_node node;
    bool named = false;
    /// Per-peer scopes under this protocol or service, by peer handle.
    std::unordered_map<peer_handle, scope_node> peers;
  };
  using group_pool = basic_string_pool<group_scope>;
  using group_handle = group_pool::handle;

  struct conn_entry {
    time_ns opened_at = 0;
    std::uint64_t memory = 0;
    peer_handle peer = peer_pool::empty; // when established and charged
    direction dir = direction::inbound;
    bool usefd = true;
    bool established = false;
    bool allowlisted = false; // charged to the allowlisted scopes
    bool charged = true;      // false: bypassed
  };

  struct stream_entry {
    time_ns opened_at = 0;
    std::uint64_t memory = 0;
    connection_id conn = 0;
    peer_handle peer = peer_pool::empty;
    group_handle protocol = group_pool::empty;
    group_handle service = group_pool::empty;
    /// Its protocol-peer and service-peer scopes, once it has them: found
    /// once, when the stream joins, not on every reservation and release (a
    /// map node does not move, and lives while this stream holds it).
    scope_node* protocol_peer = nullptr;
    scope_node* service_peer = nullptr;
    direction dir = direction::inbound;
    bool has_conn = false;
    bool has_protocol = false;
    bool has_service = false;
    bool charged = true; // false: bypassed
  };

  /// Scopes in check order, with what each is (to name it in a denial).
  struct path {
    std::array<scope_node*, 7> nodes{};
    std::array<scope_class, 7> kinds{};
    std::size_t size = 0;
    void add(scope_node* n, scope_class k) {
      nodes[size] = n;
      kinds[size] = k;
      ++size;
    }
  };

  /// Who a denial concerns.
  struct subject {
    std::optional<connection_id> conn;
    std::optional<stream_id> stream;
    std::string_view peer;
    std::string_view protocol;
    std::string_view service;
    std::optional<direction> dir;
  };

  scope_result error(anomaly kind, std::string text);
  scope_denial make_denial(scope_class kind, const scope_refusal& why, const subject& s,
                           std::optional<std::uint8_t> priority) const;
  /// Counts the refusal and turns it into the result: deny, or allow with a
  /// would-be denial when the reservation was applied in a dry run.
  scope_result refused(const reserve_outcome& r, const path& p, const subject& s,
                       std::optional<std::uint8_t> priority);
  static scope_result allow() { return scope_result{verdict_kind::allow, {}, {}}; }
  static scope_result ok() { return scope_result{verdict_kind::ok, {}, {}}; }

  scope_node self_node(const conn_entry& c) const;
  scope_node self_node(const stream_entry& s) const;
  path conn_path(conn_entry& c, scope_node* self);
  path stream_path(stream_entry& s, scope_node* self);
  path path_of(conn_entry& c, scope_node* self) { return conn_path(c, self); }
  path path_of(stream_entry& s, scope_node* self) { return stream_path(s, self); }
  /// Who holds memory, as a denial names it.
  subject holder_subject(const conn_entry& c, connection_id id) const;
  subject holder_subject(const stream_entry& s, stream_id id) const;
  /// Calls `f` with the connection or stream entry `h` names; an unknown one
  /// is an `unknown_scope` error.
  template <class F> scope_result with_holder(holder_ref h, F&& f);
  scope_node& conn_system(const conn_entry& c) {
    return c.allowlisted ? allowlisted_system_ : system_;
  }
  scope_node& conn_transient(const conn_entry& c) {
    return c.allowlisted ? allowlisted_transient_ : transient_;
  }

  peer_handle acquire_peer(std::string_view id);
  void release_peer(peer_handle h);
  /// Charges stream `s` to the protocol or service `name` and its per-peer
  /// scope, all or nothing; a protocol also takes it out of transient.
  scope_result join_group(stream_id stream, stream_entry& s, group_pool& pool,
                          std::string_view name, bool is_service);
  group_handle acquire_group(group_pool& pool, std::string_view name, bool is_service);
  void release_group(group_pool& pool, group_handle h);
  scope_node& acquire_group_peer(group_pool& pool, group_handle g, peer_handle p,
                                 bool is_service);
  void release_group_peer(group_pool& pool, group_handle g, peer_handle p);
  /// Releases everything a connection or stream holds and its references.
  void drop(conn_entry& c);
  void drop(stream_entry& s);
  void point_limits();

  scope_limit_config cfg_;
  scope_scale_info scale_;
  bool dry_run_ = false;
  scope_node system_;
  scope_node transient_;
  scope_node allowlisted_system_;
  scope_node allowlisted_transient_;
  peer_pool peers_;
  group_pool protocols_;
  group_pool services_;
  std::unordered_map<connection_id, conn_entry> conns_;
  std::unordered_map<stream_id, stream_entry> streams_;
  node_recycler<std::unordered_map<connection_id, conn_entry>> conn_nodes_;
  node_recycler<std::unordered_map<stream_id, stream_entry>> stream_nodes_;
  /// [class][resource][inbound, outbound, none]
  using block_counts =
      std::array<std::array<std::array<std::uint64_t, 3>, scope_resource_count>,
                 scope_class_count>;
  block_counts blocked_{};
  block_counts would_block_{};
  anomaly_counts anomalies_;
};

} // namespace rcmgr
