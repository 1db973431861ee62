// Announces every message type that may cross a CAF node boundary (the
// middleman), so typed handles can be published and reached remotely.
#pragma once

#include <string>

#include <caf/actor_system_config.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

/// The admin endpoint a node publishes on its inspect port: the state dump
/// and operator control behind one handle.
using admin_actor = state_dump_actor::extend_with<control_actor>;

/// A one-way form under "rcmgr." and its inspect name.
template <class Event> void add_oneway_type(caf::actor_system_config& cfg) {
  cfg.add_message_type<oneway<Event>>(std::string{"rcmgr."} + oneway_name<Event>::value);
}

inline void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<pending_inbound>("rcmgr.pending_inbound");
  cfg.add_message_type<pending_outbound>("rcmgr.pending_outbound");
  cfg.add_message_type<established_inbound>("rcmgr.established_inbound");
  cfg.add_message_type<established_outbound>("rcmgr.established_outbound");
  cfg.add_message_type<dial_failure>("rcmgr.dial_failure");
  cfg.add_message_type<listen_failure>("rcmgr.listen_failure");
  cfg.add_message_type<connection_closed>("rcmgr.connection_closed");
  cfg.add_message_type<stream_opened>("rcmgr.stream_opened");
  cfg.add_message_type<stream_protocol>("rcmgr.stream_protocol");
  cfg.add_message_type<stream_service>("rcmgr.stream_service");
  cfg.add_message_type<stream_closed>("rcmgr.stream_closed");
  cfg.add_message_type<reserve_memory>("rcmgr.reserve_memory");
  cfg.add_message_type<release_memory>("rcmgr.release_memory");
  cfg.add_message_type<lifecycle_event>("rcmgr.lifecycle_event");
  cfg.add_message_type<batch_event>("rcmgr.batch_event");
  cfg.add_message_type<lifecycle_batch>("rcmgr.lifecycle_batch");
  cfg.add_message_type<bypass_peer>("rcmgr.bypass_peer");
  cfg.add_message_type<remove_bypass>("rcmgr.remove_bypass");
  cfg.add_message_type<protocol_message>("rcmgr.protocol_message");
  cfg.add_message_type<protocol_batch>("rcmgr.protocol_batch");
  cfg.add_message_type<memory_sample>("rcmgr.memory_sample");
  cfg.add_message_type<anomaly_report>("rcmgr.anomaly_report");
  cfg.add_message_type<watch_socket>("rcmgr.watch_socket");
  cfg.add_message_type<unwatch_socket>("rcmgr.unwatch_socket");
  cfg.add_message_type<traffic_sample>("rcmgr.traffic_sample");
  cfg.add_message_type<traffic_report>("rcmgr.traffic_report");
  cfg.add_message_type<peer_violation>("rcmgr.peer_violation");
  cfg.add_message_type<peer_blocked>("rcmgr.peer_blocked");
  cfg.add_message_type<denial>("rcmgr.denial");
  cfg.add_message_type<verdict>("rcmgr.verdict");
  cfg.add_message_type<std::vector<verdict>>("rcmgr.verdicts");
  cfg.add_message_type<event_verdict>("rcmgr.event_verdict");
  cfg.add_message_type<verdict_listener>("rcmgr.verdict_listener");
  cfg.add_message_type<batch_verdicts>("rcmgr.batch_verdicts");
  cfg.add_message_type<batch_verdict_listener>("rcmgr.batch_verdict_listener");
  cfg.add_message_type<oneway_batch>("rcmgr.oneway_batch");
  add_oneway_type<pending_inbound>(cfg);
  add_oneway_type<pending_outbound>(cfg);
  add_oneway_type<established_inbound>(cfg);
  add_oneway_type<established_outbound>(cfg);
  add_oneway_type<dial_failure>(cfg);
  add_oneway_type<listen_failure>(cfg);
  add_oneway_type<connection_closed>(cfg);
  add_oneway_type<protocol_message>(cfg);
  cfg.add_message_type<admitted>("rcmgr.admitted");
  cfg.add_message_type<denied>("rcmgr.denied");
  cfg.add_message_type<released>("rcmgr.released");
  cfg.add_message_type<admitted_entry>("rcmgr.admitted_entry");
  cfg.add_message_type<released_entry>("rcmgr.released_entry");
  cfg.add_message_type<outcome_batch>("rcmgr.outcome_batch");
  cfg.add_message_type<connection_record>("rcmgr.connection_record");
  cfg.add_message_type<std::vector<connection_record>>("rcmgr.connection_records");
  cfg.add_message_type<admission_counts>("rcmgr.admission_counts");
  cfg.add_message_type<conn_state>("rcmgr.conn_state");
  cfg.add_message_type<connection_limits_config>("rcmgr.connection_limits_config");
  cfg.add_message_type<memory_config>("rcmgr.memory_config");
  cfg.add_message_type<bucket_config>("rcmgr.bucket_config");
  cfg.add_message_type<protocol_rate_config>("rcmgr.protocol_rate_config");
  cfg.add_message_type<rate_limits_config>("rcmgr.rate_limits_config");
  cfg.add_message_type<watcher_config>("rcmgr.watcher_config");
  cfg.add_message_type<node_config>("rcmgr.node_config");
  cfg.add_message_type<lifecycle_listener>("rcmgr.lifecycle_listener");
  cfg.add_message_type<memory_listener>("rcmgr.memory_listener");
  cfg.add_message_type<net_control>("rcmgr.net_control");
}

} // namespace rcmgr
