#include "actors/gate/gate_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/gate/connection_limits.hpp"
#include "actors/gate/denial_counters.hpp"
#include "actors/gate/memory_policy.hpp"
#include "actors/gate/peer_blocklist.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

namespace rcmgr {

namespace {

struct gate_state {
  connection_limits limits;
  memory_policy memory;
  denial_counters denials;
  peer_blocklist blocked;
  anomaly_counts reported_anomalies;
  std::vector<lifecycle_listener> subscribers;
  /// Outcomes of single events not published yet, and the replies waiting
  /// for them (see "Held outcomes" below).
  outcome_batch held;
  std::vector<std::pair<caf::typed_response_promise<verdict>, verdict>> held_replies;
  bool holding() const { return !held.order.empty() || !held_replies.empty(); }
  static inline const char* name = "rcmgr.gate";
};

using gate_self = gate_actor::stateful_pointer<gate_state>;

/// Sends one message to every subscriber. The payload is made once and
/// shared (CAF messages are reference-counted and read-only to receivers),
/// rather than copied per subscriber with its strings.
template <class Message> void send_to_subscribers(gate_self self, Message msg) {
  auto shared = caf::make_message(std::move(msg));
  for (auto& s : self->state.subscribers) {
    auto dest = caf::actor_cast<caf::strong_actor_ptr>(s);
    dest->enqueue(
        caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {}, shared),
        self->context());
  }
}

// -- where an event's texts come from and its outcome goes ---------------------
//
// The decision is the same for a single event and for an event of a batch;
// what differs is where the outcome goes. A batch event's outcome refers to
// the batch's text table by index and joins the batch's outcomes, sent as one
// message when the batch is done: no string is copied. A single event's
// texts are copied into the held table (one block of characters) and its
// outcome is held the same way (see "Held outcomes" below); with no
// subscriber, nothing is kept.
//
// Events, admissions and outcomes are moved along rather than copied: each
// copy of a 52-character peer id or an address is a heap block, and these
// copies led the batched lifecycle profile.

/// The source of an event whose outcome nobody hears (the gate has no
/// subscribers): the decision alone.
class unheard_event {
public:
  explicit unheard_event(const lifecycle_event& e) : e_(e) {}
  std::string_view peer() const { return e_.peer; }
  void admitted(conn_state, direction, std::optional<peer_id>, bool, time_ns) {}
  void released(std::optional<peer_id>, std::string_view, time_ns) {}
  void denied(denial, time_ns) {}

private:
  const lifecycle_event& e_;
};

/// One event of an outcome batch: its outcome is written there.
class batch_member {
public:
  batch_member(outcome_writer& out, const batch_event& e) : out_(out), e_(e) {}

  std::string_view peer() const { return out_.text_of(e_.peer); }
  void admitted(conn_state state, direction dir, std::optional<peer_id> known,
                bool bypassed, time_ns at) {
    out_.admitted(e_, state, dir, known, bypassed, at);
  }
  void released(std::optional<peer_id> known, std::string_view fixed_reason, time_ns at) {
    out_.released(e_, known, fixed_reason, at);
  }
  void denied(denial d, time_ns at) { out_.denied(e_, std::move(d), at); }

private:
  outcome_writer& out_;
  const batch_event& e_;
};

// -- held outcomes -------------------------------------------------------------
//
// A single event's outcome is not sent at once: it joins the held outcome
// batch, and its reply waits with it. When the gate has read everything in
// its mailbox (or holds `max_held` outcomes), it publishes what it holds in
// one message per subscriber, then sends the replies in the order the events
// came. Under load this turns one outcome message per event into one per
// mailbox's worth (the lifecycle benchmark lost a third of its rate to the
// per-event outcome messages); when the gate is idle, every event is
// published alone, in the single form (`admitted`, `denied`, `released`).
//
// Replies wait for the outcomes so that a caller who has its verdict also
// finds the outcome at every subscriber: a query sent to the tracker after
// the verdict arrived is read after the outcome (CAF keeps the order of
// messages between two actors, and the outcome was sent first).

/// At most this many outcomes are held: a bound on the wait of the first
/// reply and on the held memory.
constexpr std::size_t max_held = 64;

/// The held batch's one outcome in its single form, its texts copied out.
template <class Send> void send_single_form(outcome_batch& b, Send&& send) {
  auto take = [&b](text_ref r) {
    return r == no_text ? std::string{} : std::string{b.texts[r]};
  };
  switch (b.order.front()) {
  case outcome_kind::admitted: {
    auto& x = b.admits.front();
    rcmgr::admitted a;
    a.conn = x.conn;
    a.state = x.state;
    a.dir = x.dir;
    a.peer = take(x.peer);
    a.local = take(x.local);
    a.remote.reserve(x.remote_count);
    for (std::uint32_t i = 0; i < x.remote_count; ++i)
      a.remote.push_back(take(b.lists[x.remote_at + i]));
    a.bypassed = x.bypassed;
    a.at = x.at;
    send(std::move(a));
    break;
  }
  case outcome_kind::denied:
    send(std::move(b.denials.front()));
    break;
  case outcome_kind::released: {
    auto& x = b.releases.front();
    send(rcmgr::released{x.conn, x.cause, take(x.peer), take(x.reason), x.at});
    break;
  }
  }
}

/// Publishes the held outcomes (one message per subscriber), then sends the
/// held replies in order.
void publish_held(gate_self self) {
  auto& st = self->state;
  auto out = std::move(st.held);
  st.held = outcome_batch{};
  auto replies = std::move(st.held_replies);
  st.held_replies.clear();
  if (!out.empty() && !st.subscribers.empty()) {
    if (out.order.size() == 1)
      send_single_form(out, [&](auto msg) { send_to_subscribers(self, std::move(msg)); });
    else
      send_to_subscribers(self, std::move(out));
  }
  for (auto& [promise, v] : replies)
    promise.deliver(std::move(v));
}

/// Publishes what is held once the gate has nothing left to read. Every
/// handler has one, so that whatever message the gate reads last, nothing
/// stays held: a held reply is a caller waiting.
struct publish_when_idle {
  gate_self self;
  publish_when_idle(const publish_when_idle&) = delete;
  publish_when_idle& operator=(const publish_when_idle&) = delete;
  ~publish_when_idle() {
    if (self->state.holding() && self->mailbox().empty())
      publish_held(self);
  }
};

/// Turns what the core did into the verdict and the outcome subscribers see.
template <class Source>
verdict conclude(gate_self self, admission a, Source& src, conn_state state,
                 direction dir, time_ns now) {
  if (a.result.allowed()) {
    src.admitted(state, dir, std::move(a.peer), a.bypassed, now);
  } else if (a.result.denied()) {
    self->state.denials.count(a.result.why);
    src.denied(a.result.why, now);
  }
  return std::move(a.result);
}

template <class Source>
verdict release(admission a, Source& src, std::string_view fixed_reason, time_ns now) {
  if (a.changed)
    src.released(std::move(a.peer), fixed_reason, now);
  return std::move(a.result);
}

template <class Source> verdict deny(gate_self self, Source& src, denial d, time_ns now) {
  self->state.denials.count(d);
  src.denied(d, now);
  return verdict::deny(std::move(d));
}

/// The memory rule applies to pending connections only, and after the
/// duplicate check: bad input is never counted as a memory denial.
std::optional<denial> memory_denial(gate_self self, connection_id conn, time_ns now) {
  auto& st = self->state;
  if (st.limits.contains(conn))
    return std::nullopt; // the core reports the duplicate
  return st.memory.check(conn, now);
}

/// A peer the watcher blocked is refused new connections until its cooldown
/// ends; bypassed peers are trusted and never blocked.
std::optional<denial> block_denial(gate_self self, connection_id conn,
                                   std::string_view peer, time_ns now) {
  auto& st = self->state;
  if (peer.empty() || st.limits.is_bypassed(peer) || !st.blocked.blocked(peer, now))
    return std::nullopt;
  if (st.limits.contains(conn) && !st.limits.is_pending(conn))
    return std::nullopt; // the core reports the duplicate
  st.limits.leave_pending(conn);
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer_id{peer};
  d.conn = conn;
  return d;
}

// -- one decision per lifecycle event ------------------------------------------

template <class Source>
verdict decide(gate_self self, event_kind kind, connection_id conn, Source& src,
               time_ns now) {
  auto& limits = self->state.limits;
  switch (kind) {
  case event_kind::pending_inbound:
    if (auto d = memory_denial(self, conn, now))
      return deny(self, src, std::move(*d), now);
    return conclude(self, limits.on_pending_inbound(conn), src, conn_state::pending,
                    direction::inbound, now);
  case event_kind::pending_outbound: {
    auto peer = src.peer();
    if (auto d = block_denial(self, conn, peer, now))
      return deny(self, src, std::move(*d), now);
    // A known bypassed peer is allowed at once, before the memory check.
    if (peer.empty() || !limits.is_bypassed(peer))
      if (auto d = memory_denial(self, conn, now))
        return deny(self, src, std::move(*d), now);
    return conclude(self, limits.on_pending_outbound(conn, peer), src,
                    conn_state::pending, direction::outbound, now);
  }
  case event_kind::established_inbound:
  case event_kind::established_outbound: {
    auto dir = kind == event_kind::established_inbound ? direction::inbound
                                                       : direction::outbound;
    auto peer = src.peer();
    if (auto d = block_denial(self, conn, peer, now))
      return deny(self, src, std::move(*d), now);
    return conclude(self, limits.on_established(conn, peer, dir), src,
                    conn_state::established, dir, now);
  }
  case event_kind::dial_failure:
    return release(limits.on_failure(conn, direction::outbound), src, "dial failure",
                   now);
  case event_kind::listen_failure:
    return release(limits.on_failure(conn, direction::inbound), src, "listen failure",
                   now);
  case event_kind::connection_closed:
    return release(limits.on_closed(conn, src.peer()), src, {}, now);
  }
  self->state.reported_anomalies.add(anomaly::bad_batch_entry);
  return verdict::fail("unknown event kind in a batch");
}

template <class Event> caf::result<verdict> decide_single(gate_self self, Event&& ev) {
  auto& st = self->state;
  auto e = to_lifecycle_event(std::move(ev));
  auto now = now_ns(self);
  if (st.subscribers.empty() && !st.holding()) {
    unheard_event src{e};
    return decide(self, e.kind, e.conn, src, now);
  }
  auto& held = st.held;
  auto texts_before = held.texts.size();
  auto lists_before = held.lists.size();
  auto outcomes_before = held.order.size();
  outcome_writer writer{held};
  auto be = writer.add_texts(e);
  batch_member src{writer, be};
  auto v = decide(self, be.kind, be.conn, src, now);
  if (held.order.size() == outcomes_before) {
    // No outcome (an error, a close of an unknown id): its texts go.
    held.texts.truncate(texts_before);
    held.lists.resize(lists_before);
    if (st.held_replies.empty())
      return v;
  }
  auto promise = self->make_response_promise<verdict>();
  st.held_replies.emplace_back(promise, std::move(v));
  if (held.order.size() >= max_held)
    publish_held(self);
  return promise;
}

/// The handler of one kind of single event. It takes a mutable reference:
/// CAF hands over the message's own values (it is not shared with anyone),
/// so the strings can be moved on.
template <class Event> auto single_event_handler(gate_self self) {
  return [self](Event& ev) {
    publish_when_idle idle{self};
    return decide_single(self, std::move(ev));
  };
}

std::vector<verdict> decide_batch(gate_self self, lifecycle_batch& batch) {
  // Outcomes reach subscribers in event order, and replies reach a caller in
  // the order of its requests: what is held goes first.
  if (self->state.holding())
    publish_held(self);
  std::vector<verdict> verdicts;
  verdicts.reserve(batch.events.size());
  outcome_batch out;
  out.texts = std::move(batch.texts);
  out.lists = std::move(batch.lists);
  out.order.reserve(batch.events.size());
  out.admits.reserve(batch.events.size());
  outcome_writer writer{out};
  // A batch is decided at one instant: one clock read, not three per event.
  auto now = now_ns(self);
  for (auto& e : batch.events) {
    if (!refs_valid(out.texts, out.lists, e)) {
      self->state.reported_anomalies.add(anomaly::bad_batch_entry);
      verdicts.push_back(verdict::fail("a batch event refers to texts the batch lacks"));
      continue;
    }
    batch_member src{writer, e};
    verdicts.push_back(decide(self, e.kind, e.conn, src, now));
  }
  if (!out.empty() && !self->state.subscribers.empty())
    send_to_subscribers(self, std::move(out));
  return verdicts;
}

std::string dump_part(gate_self self) {
  auto& st = self->state;
  auto now = now_ns(self);
  auto anomalies = st.limits.anomalies();
  anomalies.add(st.reported_anomalies);
  nlohmann::json limits{
      {"config", to_json(st.limits.limits())}, {"bypass_peers", st.limits.bypass_peers()},
      {"counts", to_json(st.limits.counts())}, {"denials", st.denials.to_json()},
      {"blocked_peers", st.blocked.size(now)}, {"subscribers", st.subscribers.size()}};
  nlohmann::json part{{"limits", std::move(limits)},
                      {"memory", st.memory.to_json(now)},
                      {"anomalies", to_json(anomalies)}};
  return dump_text(part);
}

gate_actor::behavior_type gate_impl(gate_self self, node_config cfg) {
  auto& st = self->state;
  st.limits.set_limits(cfg.connection_limits);
  st.limits.set_bypass_peers(cfg.bypass_peers);
  st.memory.configure(cfg.memory);
  // Every handler, the system messages' and the default one included, ends
  // with a `publish_when_idle` (see "Held outcomes").
  self->set_down_handler([self](const caf::down_msg& dm) {
    publish_when_idle idle{self};
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const lifecycle_listener& s) {
                                return caf::actor_cast<caf::actor_addr>(s) == dm.source;
                              }),
               subs.end());
  });
  self->set_exit_handler([self](caf::exit_msg& m) {
    // Leaving: nothing stays held, whatever else is queued.
    if (self->state.holding())
      publish_held(self);
    caf::scheduled_actor::default_exit_handler(self, m);
  });
  self->set_default_handler(
      [self](caf::scheduled_actor* p, caf::message_view& x) -> caf::result<caf::message> {
        publish_when_idle idle{self};
        return caf::print_and_drop(p, x);
      });
  return {
      single_event_handler<pending_inbound>(self),
      single_event_handler<pending_outbound>(self),
      single_event_handler<established_inbound>(self),
      single_event_handler<established_outbound>(self),
      single_event_handler<dial_failure>(self),
      single_event_handler<listen_failure>(self),
      single_event_handler<connection_closed>(self),
      [self](lifecycle_batch& batch) { return decide_batch(self, batch); },
      [self](const bypass_peer& ev) -> verdict {
        publish_when_idle idle{self};
        return self->state.limits.add_bypass(ev.peer);
      },
      [self](const remove_bypass& ev) -> verdict {
        publish_when_idle idle{self};
        return self->state.limits.remove_bypass(ev.peer);
      },
      [self](get_atom, bypass_atom) {
        publish_when_idle idle{self};
        return self->state.limits.bypass_peers();
      },
      [self](get_atom, counts_atom) {
        publish_when_idle idle{self};
        return self->state.limits.counts();
      },
      [self](const node_config& c) -> verdict {
        publish_when_idle idle{self};
        auto& st = self->state;
        st.limits.set_limits(c.connection_limits);
        st.limits.set_bypass_peers(c.bypass_peers);
        st.memory.configure(c.memory);
        return verdict::ok();
      },
      [self](const memory_sample& s) {
        publish_when_idle idle{self};
        self->state.memory.on_sample(s);
      },
      [self](const anomaly_report& r) {
        publish_when_idle idle{self};
        self->state.reported_anomalies.add(r.kind);
      },
      [self](const peer_blocked& b) {
        publish_when_idle idle{self};
        self->state.blocked.block(b.peer, b.until, now_ns(self));
      },
      // A subscriber hears the outcomes of the events decided while it is
      // subscribed: what is held goes out before the list changes.
      [self](subscribe_atom, const lifecycle_listener& l) {
        if (self->state.holding())
          publish_held(self);
        if (!l)
          return;
        self->monitor(l);
        self->state.subscribers.push_back(l);
      },
      [self](unsubscribe_atom, const lifecycle_listener& l) {
        if (self->state.holding())
          publish_held(self);
        auto& subs = self->state.subscribers;
        subs.erase(std::remove(subs.begin(), subs.end(), l), subs.end());
      },
      [self](dump_part_atom) {
        publish_when_idle idle{self};
        return dump_part(self);
      },
  };
}

} // namespace

gate_actor spawn_gate(caf::actor_system& sys, const node_config& cfg) {
  return sys.spawn(gate_impl, cfg);
}

} // namespace rcmgr
