// The admin endpoint: the state dump and operator control behind one typed
// handle, so one published port serves both (peer-node's control port).
#pragma once

#include <caf/fwd.hpp>

#include "messages/type_registry.hpp"

namespace rcmgr {

admin_actor spawn_admin(caf::actor_system& sys, state_dump_actor dump,
                        control_actor control);

/// An admin actor living in `endpoint_sys` that answers each message by
/// asking `dump` or `control`, which live in another actor system,
/// `node_sys`, in the same process.
///
/// Why two systems: CAF 0.17's openssl manager reads one CA (openssl.cafile)
/// per actor system, and the control endpoint must trust another CA than the
/// inspect endpoint. So the control endpoint gets an actor system of its own,
/// whose openssl config names the control CA; a client whose certificate does
/// not chain to it fails the TLS handshake before any message is read.
///
/// How it crosses: the actor runs on `endpoint_sys`'s workers and asks
/// through a blocking scoped_actor of `node_sys`, so every actor of either
/// system runs only on its own system's threads; each message waits at most
/// `timeout` for its answer, holding the worker that long (give
/// `endpoint_sys` a worker of its own for it). Not detached: a detached
/// actor's thread waits for the last reference to the actor to go, and after
/// TLS control requests one at times outlived the endpoint system's
/// middleman, so that `~actor_system` waited forever. `node_sys` must
/// outlive the actor: stop it (anon_send_exit) before `endpoint_sys` and
/// `node_sys` go.
admin_actor spawn_admin_bridge(caf::actor_system& endpoint_sys,
                               caf::actor_system& node_sys, state_dump_actor dump,
                               control_actor control, caf::timespan timeout);

} // namespace rcmgr
