#include "actors/control/admin_actor.hpp"

#include <caf/all.hpp>

namespace rcmgr {

namespace {

struct admin_state {
  state_dump_actor dump;
  control_actor control;
  static inline const char* name = "rcmgr.admin";
};

admin_actor::behavior_type admin_impl(admin_actor::stateful_pointer<admin_state> self,
                                      state_dump_actor dump, control_actor control) {
  self->state.dump = std::move(dump);
  self->state.control = std::move(control);
  // Forwarding only: the answer comes from the owner of the state.
  return {
      [self](dump_atom x) { return self->delegate(self->state.dump, x); },
      [self](config_atom x, const std::string& text) {
        return self->delegate(self->state.control, x, text);
      },
      [self](const node_config& c) { return self->delegate(self->state.control, c); },
      [self](const bypass_peer& x) { return self->delegate(self->state.control, x); },
      [self](const remove_bypass& x) { return self->delegate(self->state.control, x); },
      [self](get_atom x, config_atom y) {
        return self->delegate(self->state.control, x, y);
      },
  };
}

} // namespace

admin_actor spawn_admin(caf::actor_system& sys, state_dump_actor dump,
                        control_actor control) {
  return sys.spawn(admin_impl, std::move(dump), std::move(control));
}

} // namespace rcmgr
