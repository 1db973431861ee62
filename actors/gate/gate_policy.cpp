#include "actors/gate/gate_policy.hpp"

namespace rcmgr {

void gate_policy::configure(const node_config& cfg) {
  limits_.set_limits(cfg.connection_limits);
  limits_.set_bypass_peers(cfg.bypass_peers);
  memory_.configure(cfg.memory);
}

verdict gate_policy::refuse_bad_entry() {
  reported_.add(anomaly::bad_batch_entry);
  return verdict::fail("a batch event refers to texts the batch lacks");
}

anomaly_counts gate_policy::anomalies() const {
  auto all = limits_.anomalies();
  all.add(reported_);
  return all;
}

gate_stats gate_policy::stats(time_ns now) {
  gate_stats s;
  s.config = limits_.limits();
  s.bypass_peers = limits_.bypass_peers();
  s.counts = limits_.counts();
  s.denials = denials_.stats();
  s.blocked_peers = blocked_.size(now);
  s.memory = memory_.stats(now);
  s.anomalies = anomalies();
  return s;
}

std::optional<denial> gate_policy::memory_denial(connection_id conn, time_ns now) {
  if (limits_.contains(conn))
    return std::nullopt; // the limits report the duplicate
  return memory_.check(conn, now);
}

std::optional<denial> gate_policy::block_denial(connection_id conn, std::string_view peer,
                                                time_ns now) {
  if (peer.empty() || limits_.is_bypassed(peer) || !blocked_.blocked(peer, now))
    return std::nullopt;
  if (limits_.contains(conn) && !limits_.is_pending(conn))
    return std::nullopt; // the limits report the duplicate
  // The refused connection gives back its pending slot.
  limits_.leave_pending(conn);
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer_id{peer};
  d.conn = conn;
  return d;
}

} // namespace rcmgr
