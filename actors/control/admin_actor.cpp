#include "actors/control/admin_actor.hpp"

#include <optional>

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

struct bridge_state {
  caf::actor_system* node_sys = nullptr;
  state_dump_actor dump;
  control_actor control;
  caf::timespan timeout{};
  static inline const char* name = "rcmgr.admin_bridge";
};

/// One blocking request in the node's actor system: its answer, or its error.
template <class T, class Handle, class... Ts>
caf::result<T> ask(const bridge_state& st, const Handle& target, Ts&&... xs) {
  caf::scoped_actor self{*st.node_sys};
  std::optional<T> answer;
  caf::error failure;
  self->request(target, st.timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { answer = std::move(x); },
               [&](caf::error& e) { failure = std::move(e); });
  if (answer)
    return std::move(*answer);
  return failure;
}

admin_actor::behavior_type bridge_impl(admin_actor::stateful_pointer<bridge_state> self,
                                       caf::actor_system* node_sys, state_dump_actor dump,
                                       control_actor control, caf::timespan timeout) {
  auto& st = self->state;
  st.node_sys = node_sys;
  st.dump = std::move(dump);
  st.control = std::move(control);
  st.timeout = timeout;
  return {
      [self](dump_atom x) { return ask<std::string>(self->state, self->state.dump, x); },
      [self](config_atom x, const std::string& text) {
        return ask<verdict>(self->state, self->state.control, x, text);
      },
      [self](const node_config& c) {
        return ask<verdict>(self->state, self->state.control, c);
      },
      [self](const bypass_peer& x) {
        return ask<verdict>(self->state, self->state.control, x);
      },
      [self](const remove_bypass& x) {
        return ask<verdict>(self->state, self->state.control, x);
      },
      [self](get_atom x, config_atom y) {
        return ask<std::string>(self->state, self->state.control, x, y);
      },
  };
}

} // namespace

admin_actor spawn_admin(caf::actor_system& sys, state_dump_actor dump,
                        control_actor control) {
  return sys.spawn(admin_impl, std::move(dump), std::move(control));
}

admin_actor spawn_admin_bridge(caf::actor_system& endpoint_sys,
                               caf::actor_system& node_sys, state_dump_actor dump,
                               control_actor control, caf::timespan timeout) {
  return endpoint_sys.spawn(bridge_impl, &node_sys, std::move(dump), std::move(control),
                            timeout);
}

} // namespace rcmgr
