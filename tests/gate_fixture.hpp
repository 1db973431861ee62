// Helpers for tests that run the gate, alone or with a tracker subscribed,
// on actor_fixture's deterministic scheduler.
#pragma once

#include <cstdint>
#include <vector>

#include "actor_fixture.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

namespace rcmgr::test {

/// Limits on the inbound side only; the others stay absent (no limit).
inline node_config limited(std::uint64_t pending_inbound,
                           std::uint64_t established_inbound) {
  node_config c;
  c.connection_limits.max_pending_inbound = pending_inbound;
  c.connection_limits.max_established_inbound = established_inbound;
  return c;
}

/// A gate with a tracker subscribed to it, both running.
struct gate_and_tracker {
  gate_actor gate;
  tracker_actor tracker;
};

inline gate_and_tracker spawn_with_tracker(actor_fixture& fx, const node_config& cfg,
                                           tracker_options opts = {}) {
  gate_and_tracker out{spawn_gate(fx.sys, cfg), spawn_tracker(fx.sys, opts)};
  caf::anon_send(out.gate, subscribe_atom::value, lifecycle_listener{out.tracker});
  fx.run();
  return out;
}

/// A gate with a recording listener subscribed to it, both running.
struct recorded_gate {
  gate_actor gate;
  lifecycle_listener rec;
};

inline recorded_gate spawn_recorded(actor_fixture& fx, const node_config& cfg,
                                    outcome_log* log) {
  recorded_gate out{spawn_gate(fx.sys, cfg), fx.sys.spawn(recorder, log)};
  caf::anon_send(out.gate, subscribe_atom::value, out.rec);
  fx.run();
  return out;
}

/// A lifecycle batch of `events`, in order.
inline lifecycle_batch batch_of(const std::vector<lifecycle_event>& events) {
  lifecycle_batch b;
  batch_writer w{b};
  for (auto& e : events)
    w.add(e);
  return b;
}

} // namespace rcmgr::test
