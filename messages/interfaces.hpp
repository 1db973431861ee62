// The typed interface of every actor. Users hold these handles; nothing in
// the API is an untyped caf::actor.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/batches.hpp"
#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/oneway.hpp"
#include "messages/outcomes.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// Anything that wants the gate's outcomes: the tracker, the watcher, users.
using lifecycle_listener =
    caf::typed_actor<caf::reacts_to<admitted>, caf::reacts_to<denied>,
                     caf::reacts_to<released>, caf::reacts_to<outcome_batch>>;

/// Anything that wants memory samples: the gate, users.
using memory_listener = caf::typed_actor<caf::reacts_to<memory_sample>>;

/// Every resource actor answers `dump_part` with its part of the state dump:
/// a JSON object (as text, so it crosses the middleman) whose keys are the
/// top-level parts it owns; a key "anomalies" is merged with the others'.
using dump_part_source =
    caf::typed_actor<caf::replies_to<dump_part_atom>::with<std::string>>;

/// The limit checker. Every lifecycle event gets a verdict, and so does
/// every stream and memory event (decided by the resource scopes, DESIGN
/// §6.1); a config update takes the connection limits, the bypass set, the
/// memory rule and the scopes. The lifecycle events also come one way
/// (`oneway<Event>`, messages/oneway.hpp): answered with an `event_verdict`;
/// a batch one way (`oneway_batch`) with `batch_verdicts`.
using gate_actor = caf::typed_actor<
    caf::replies_to<pending_inbound>::with<verdict>,
    caf::replies_to<pending_outbound>::with<verdict>,
    caf::replies_to<established_inbound>::with<verdict>,
    caf::replies_to<established_outbound>::with<verdict>,
    caf::replies_to<dial_failure>::with<verdict>,
    caf::replies_to<listen_failure>::with<verdict>,
    caf::replies_to<connection_closed>::with<verdict>,
    caf::reacts_to<oneway<pending_inbound>>, caf::reacts_to<oneway<pending_outbound>>,
    caf::reacts_to<oneway<established_inbound>>,
    caf::reacts_to<oneway<established_outbound>>, caf::reacts_to<oneway<dial_failure>>,
    caf::reacts_to<oneway<listen_failure>>, caf::reacts_to<oneway<connection_closed>>,
    caf::replies_to<stream_opened>::with<verdict>,
    caf::replies_to<stream_protocol>::with<verdict>,
    caf::replies_to<stream_service>::with<verdict>,
    caf::replies_to<stream_closed>::with<verdict>,
    caf::replies_to<reserve_memory>::with<verdict>,
    caf::replies_to<release_memory>::with<verdict>,
    caf::replies_to<lifecycle_batch>::with<std::vector<verdict>>,
    caf::reacts_to<oneway_batch>, caf::replies_to<bypass_peer>::with<verdict>,
    caf::replies_to<remove_bypass>::with<verdict>,
    caf::replies_to<get_atom, bypass_atom>::with<std::vector<peer_id>>,
    caf::replies_to<get_atom, counts_atom>::with<admission_counts>,
    caf::replies_to<node_config>::with<verdict>, caf::reacts_to<memory_sample>,
    caf::reacts_to<anomaly_report>, caf::reacts_to<peer_blocked>,
    caf::reacts_to<subscribe_atom, lifecycle_listener>,
    caf::reacts_to<unsubscribe_atom, lifecycle_listener>,
    caf::replies_to<dump_part_atom>::with<std::string>>;

/// The connection registry. It hears the gate's outcomes.
using tracker_actor = lifecycle_listener::extend<
    caf::replies_to<query_atom, peer_id>::with<std::vector<connection_record>>,
    caf::replies_to<query_atom, conn_state>::with<std::vector<connection_record>>,
    caf::replies_to<get_atom, counts_atom>::with<admission_counts>,
    caf::replies_to<dump_part_atom>::with<std::string>>;

/// Samples memory on its own timer; an injected `memory_sample` (replay,
/// tests) replaces the reading and is pushed at once.
using memory_sampler_actor =
    caf::typed_actor<caf::reacts_to<tick_atom>, caf::reacts_to<memory_sample>,
                     caf::reacts_to<subscribe_atom, memory_listener>,
                     caf::replies_to<node_config>::with<verdict>,
                     caf::replies_to<dump_part_atom>::with<std::string>>;

/// Per-protocol token buckets. A protocol message also comes one way,
/// answered with an `event_verdict`.
using rate_limiter_actor =
    caf::typed_actor<caf::replies_to<protocol_message>::with<verdict>,
                     caf::reacts_to<oneway<protocol_message>>,
                     caf::replies_to<protocol_batch>::with<std::vector<verdict>>,
                     caf::replies_to<node_config>::with<verdict>,
                     caf::replies_to<dump_part_atom>::with<std::string>>;

/// Implemented by the net layer: the socket watcher's orders for one
/// connection (close carries the reason: "hung_up", "idle", "lifetime";
/// throttle the most bytes per second the connection may read, 0 = no limit).
using net_control =
    caf::typed_actor<caf::reacts_to<pause_atom, connection_id>,
                     caf::reacts_to<resume_atom, connection_id>,
                     caf::reacts_to<close_atom, connection_id, std::string>,
                     caf::reacts_to<throttle_atom, connection_id, std::uint64_t>>;

/// Watches sockets: health, bytes, activity; prunes dead and idle ones,
/// throttles greedy peers, tells the gate which peers to block.
using socket_watcher_actor =
    caf::typed_actor<caf::reacts_to<watch_socket>, caf::reacts_to<unwatch_socket>,
                     caf::reacts_to<traffic_report>, caf::reacts_to<peer_violation>,
                     caf::reacts_to<tick_atom>,
                     caf::reacts_to<subscribe_atom, net_control>,
                     caf::replies_to<node_config>::with<verdict>,
                     caf::replies_to<dump_part_atom>::with<std::string>>;

/// Watches the resource actors: one that stops other than by a shutdown is
/// a fault, named in its dump part ("faults") and reported to the runtime's
/// fault hook. `monitor` adds an actor under the name the dump gives it.
using fault_monitor_actor =
    caf::typed_actor<caf::reacts_to<monitor_atom, std::string, caf::actor>,
                     caf::replies_to<dump_part_atom>::with<std::string>>;

/// Joins every part into one JSON document (as text).
using state_dump_actor = caf::typed_actor<caf::replies_to<dump_atom>::with<std::string>>;

/// Operator control: validated config updates (JSON text) fanned out to every
/// actor, bypass changes, the config in force as JSON text.
using control_actor =
    caf::typed_actor<caf::replies_to<config_atom, std::string>::with<verdict>,
                     caf::replies_to<node_config>::with<verdict>,
                     caf::replies_to<bypass_peer>::with<verdict>,
                     caf::replies_to<remove_bypass>::with<verdict>,
                     caf::replies_to<get_atom, config_atom>::with<std::string>>;

} // namespace rcmgr

namespace rcmgr {

/// The actor's clock as nanoseconds: real time normally, virtual time under
/// CAF's test coordinator (tests, rcmgr-replay). Shells pass it to cores.
template <class Self> time_ns now_ns(Self* self) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             self->clock().now().time_since_epoch())
      .count();
}

} // namespace rcmgr
