#include "actors/control/inspect_actor.hpp"

#include <caf/all.hpp>

namespace rcmgr {

namespace {

struct inspect_state {
  state_dump_actor dump;
  static inline const char* name = "rcmgr.inspect";
};

state_dump_actor::behavior_type
inspect_impl(state_dump_actor::stateful_pointer<inspect_state> self,
             state_dump_actor dump) {
  self->state.dump = std::move(dump);
  // Its own actor rather than the dump actor itself: what a remote client
  // holds can be stopped and unpublished without touching the runtime.
  return {
      [self](dump_atom x) { return self->delegate(self->state.dump, x); },
  };
}

} // namespace

state_dump_actor spawn_inspect(caf::actor_system& sys, state_dump_actor dump) {
  return sys.spawn(inspect_impl, std::move(dump));
}

} // namespace rcmgr
