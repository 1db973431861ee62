// The one-way forms of the gate's and the rate limiter's inputs
// (docs/lifecycle.md#one-way-events): an event sent with a correlation id and
// a reply-to handle, answered with an ordinary `event_verdict` message that
// carries the id. A request costs the caller a pending response to keep and
// match, and the callee a response promise; a one-way pair is two plain
// messages.
#pragma once

#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/batches.hpp"
#include "messages/events.hpp"
#include "messages/verdict.hpp"
#include "messages/verdict_list.hpp"

namespace rcmgr {

/// Chosen by the caller; the answer carries it back unchanged.
using correlation_id = std::uint64_t;

/// The answer to a one-way event: the caller's id and the verdict the request
/// form would have given.
struct event_verdict {
  correlation_id id = 0;
  verdict result;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_verdict& x) {
  return f(caf::meta::type_name("event_verdict"), x.id, x.result);
}

/// Anything that takes one-way answers.
using verdict_listener = caf::typed_actor<caf::reacts_to<event_verdict>>;

/// `event` sent one way: the answer goes to `reply_to` with `id`. An empty
/// `reply_to` is allowed: the event is decided and nobody is answered.
template <class Event> struct oneway {
  correlation_id id = 0;
  verdict_listener reply_to;
  Event event;
};

/// The name each one-way form has in `inspect` (its registered name is
/// "rcmgr." and this, messages/type_registry.hpp).
template <class Event> struct oneway_name;
template <> struct oneway_name<pending_inbound> {
  static constexpr const char* value = "oneway_pending_inbound";
};
template <> struct oneway_name<pending_outbound> {
  static constexpr const char* value = "oneway_pending_outbound";
};
template <> struct oneway_name<established_inbound> {
  static constexpr const char* value = "oneway_established_inbound";
};
template <> struct oneway_name<established_outbound> {
  static constexpr const char* value = "oneway_established_outbound";
};
template <> struct oneway_name<dial_failure> {
  static constexpr const char* value = "oneway_dial_failure";
};
template <> struct oneway_name<listen_failure> {
  static constexpr const char* value = "oneway_listen_failure";
};
template <> struct oneway_name<connection_closed> {
  static constexpr const char* value = "oneway_connection_closed";
};
template <> struct oneway_name<protocol_message> {
  static constexpr const char* value = "oneway_protocol_message";
};

template <class Inspector, class Event>
typename Inspector::result_type inspect(Inspector& f, oneway<Event>& x) {
  return f(caf::meta::type_name(oneway_name<Event>::value), x.id, x.reply_to, x.event);
}

/// The answer to a one-way batch: the caller's id and one verdict per entry,
/// the verdicts the request form would have given.
struct batch_verdicts {
  correlation_id id = 0;
  verdict_list results;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_verdicts& x) {
  return f(caf::meta::type_name("batch_verdicts"), x.id, x.results);
}

/// Anything that takes the answers to one-way batches.
using batch_verdict_listener = caf::typed_actor<caf::reacts_to<batch_verdicts>>;

/// A lifecycle batch sent one way: decided exactly as the request form, the
/// verdicts go to `reply_to` with `id` (none when `reply_to` is empty).
struct oneway_batch {
  correlation_id id = 0;
  batch_verdict_listener reply_to;
  lifecycle_batch batch;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oneway_batch& x) {
  return f(caf::meta::type_name("oneway_batch"), x.id, x.reply_to, x.batch);
}

} // namespace rcmgr
