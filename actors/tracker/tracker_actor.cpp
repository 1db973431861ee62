#include "actors/tracker/tracker_actor.hpp"
#include "messages/json.hpp"

#include <caf/all.hpp>

#include "actors/tracker/connection_registry.hpp"
#include "actors/tracker/tracker_json.hpp"

namespace rcmgr {

namespace {

struct tracker_state {
  connection_registry registry;
  tracker_options opts;
  static inline const char* name = "rcmgr.tracker";
};

tracker_actor::behavior_type
tracker_impl(tracker_actor::stateful_pointer<tracker_state> self, tracker_options opts) {
  self->state.opts = opts;
  return {
      [self](const admitted& x) { self->state.registry.on_admitted(x); },
      [self](const denied& x) { self->state.registry.on_denied(x); },
      [self](const released& x) { self->state.registry.on_released(x); },
      [self](const outcome_batch& b) {
        auto& reg = self->state.registry;
        if (!for_each_outcome(
                b, [&](const admitted_view& x) { reg.on_admitted(x); },
                [&](const denied& x) { reg.on_denied(x); },
                [&](const released_view& x) { reg.on_released(x); }))
          reg.count_inconsistency();
      },
      [self](query_atom, const peer_id& peer) {
        return self->state.registry.of_peer(peer);
      },
      [self](query_atom, conn_state s) { return self->state.registry.in_state(s); },
      [self](get_atom, counts_atom) { return self->state.registry.counts(); },
      [self](dump_part_atom) {
        auto& st = self->state;
        return "{\"connections\":" +
               to_json_text(st.registry.stats(st.opts.dump_list_cap)) + "}";
      },
  };
}

} // namespace

tracker_actor spawn_tracker(caf::actor_system& sys, tracker_options opts) {
  return sys.spawn(tracker_impl, opts);
}

} // namespace rcmgr
