// A lifecycle listener made of three callbacks, for users who want the gate's
// outcomes without reading its message forms.
//
//   auto l = rcmgr::spawn_listener(
//       sys, [](const rcmgr::admitted_view& x) { ... },
//       [](const rcmgr::denied& x) { ... },
//       [](const rcmgr::released_view& x) { ... });
//   rt.subscribe(l);
//
// The gate publishes an outcome alone (`admitted`, `denied`, `released`)
// when it is idle, and many in one `outcome_batch` under load; the listener
// reads both and calls back once per outcome, in the order the gate decided
// them. The views are valid during the call only (`owned()` copies one). The
// callbacks run on the listener actor, one at a time.
#pragma once

#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/batches.hpp"
#include "messages/interfaces.hpp"
#include "messages/outcomes.hpp"

namespace rcmgr {

/// The default for an outcome batch that is not well formed (only a remote
/// sender can make one): it is refused whole, and nothing is called back.
struct ignore_malformed {
  void operator()() const {}
};

template <class OnAdmitted, class OnDenied, class OnReleased, class OnMalformed>
struct listener_callbacks {
  OnAdmitted on_admitted;
  OnDenied on_denied;
  OnReleased on_released;
  OnMalformed on_malformed;
};

template <class Callbacks>
lifecycle_listener::behavior_type listener_impl(lifecycle_listener::pointer,
                                                Callbacks callbacks) {
  // One set of callbacks for the four handlers (a callback may keep state).
  auto cb = std::make_shared<Callbacks>(std::move(callbacks));
  return {
      [cb](const admitted& x) { cb->on_admitted(view_of(x)); },
      [cb](const denied& x) { cb->on_denied(x); },
      [cb](const released& x) { cb->on_released(view_of(x)); },
      [cb](const outcome_batch& b) {
        if (!for_each_outcome(b, cb->on_admitted, cb->on_denied, cb->on_released))
          cb->on_malformed();
      },
  };
}

/// Spawns a listener calling `on_admitted(const admitted_view&)`,
/// `on_denied(const denied&)` and `on_released(const released_view&)` for
/// each outcome it hears; `on_malformed()` for a malformed batch. Subscribe it
/// to the gate; it runs until it is told to exit or its last handle is gone
/// (the gate lets go of its subscribers when it exits).
template <class OnAdmitted, class OnDenied, class OnReleased,
          class OnMalformed = ignore_malformed>
lifecycle_listener spawn_listener(caf::actor_system& sys, OnAdmitted on_admitted,
                                  OnDenied on_denied, OnReleased on_released,
                                  OnMalformed on_malformed = {}) {
  using callbacks = listener_callbacks<OnAdmitted, OnDenied, OnReleased, OnMalformed>;
  return sys.spawn(listener_impl<callbacks>,
                   callbacks{std::move(on_admitted), std::move(on_denied),
                             std::move(on_released), std::move(on_malformed)});
}

} // namespace rcmgr
