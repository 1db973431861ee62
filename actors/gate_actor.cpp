#include "actors/gate_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/connection_limits.hpp"
#include "actors/denial_counters.hpp"
#include "actors/memory_policy.hpp"
#include "actors/peer_blocklist.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

namespace rcmgr {

namespace {

struct gate_state {
  connection_limits limits;
  memory_policy memory;
  denial_counters denials;
  peer_blocklist blocked;
  std::map<std::string, std::uint64_t> reported_anomalies;
  std::vector<lifecycle_listener> subscribers;
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

bool has_local(event_kind k) {
  return k == event_kind::pending_inbound || k == event_kind::established_inbound;
}

/// How many of an event's remote texts its outcome keeps: every dial
/// address, else the one remote (or established) address.
std::size_t remote_kept(event_kind k, std::size_t n) {
  return k == event_kind::pending_outbound ? n : std::min<std::size_t>(n, 1);
}

// -- where an event's texts come from and its outcome goes ---------------------
//
// The decision is the same for a single event and for an event of a batch;
// what differs is the outcome. A single event's strings are moved into an
// outcome message of its own, sent at once. A batch event's outcome refers to
// the batch's text table by index and joins the batch's outcomes, sent as one
// message when the batch is done: no string is copied.
//
// Events, admissions and outcomes are moved along rather than copied: each
// copy of a 52-character peer id or an address is a heap block, and these
// copies led the batched lifecycle profile.

class single_event {
public:
  single_event(gate_self self, lifecycle_event& e) : self_(self), e_(e) {}

  std::string_view peer() const { return e_.peer; }

  void admitted(conn_state state, direction dir, std::optional<peer_id> known,
                bool bypassed, time_ns at) {
    if (self_->state.subscribers.empty())
      return;
    rcmgr::admitted x;
    x.conn = e_.conn;
    x.state = state;
    x.dir = dir;
    x.peer = known ? std::move(*known) : std::move(e_.peer);
    if (has_local(e_.kind))
      x.local = std::move(e_.local);
    x.remote = std::move(e_.remote);
    x.remote.resize(remote_kept(e_.kind, x.remote.size()));
    x.bypassed = bypassed;
    x.at = at;
    send_to_subscribers(self_, std::move(x));
  }

  void released(std::optional<peer_id> known, std::string_view fixed_reason, time_ns at) {
    if (self_->state.subscribers.empty())
      return;
    send_to_subscribers(
        self_,
        rcmgr::released{
            e_.conn, e_.kind, known ? std::move(*known) : std::move(e_.peer),
            fixed_reason.empty() ? std::move(e_.reason) : std::string{fixed_reason}, at});
  }

  void denied(denial d, time_ns at) {
    if (!self_->state.subscribers.empty())
      send_to_subscribers(self_, rcmgr::denied{e_.conn, e_.kind, std::move(d), at});
  }

private:
  gate_self self_;
  lifecycle_event& e_;
};

class batch_member {
public:
  /// `out` holds the batch's text table (moved over from the lifecycle
  /// batch). A text added here (a peer the event did not name, a fixed
  /// reason) may move the others: no view from `peer()` is held across an
  /// `admitted` or `released` call.
  batch_member(outcome_batch& out, const batch_event& e) : out_(out), e_(e) {}

  std::string_view peer() const {
    return e_.peer == no_text ? std::string_view{}
                              : std::string_view{out_.texts[e_.peer]};
  }

  void admitted(conn_state state, direction dir, std::optional<peer_id> known,
                bool bypassed, time_ns at) {
    admitted_entry x;
    x.conn = e_.conn;
    x.state = state;
    x.dir = dir;
    x.peer = known ? add(std::move(*known)) : e_.peer;
    x.local = has_local(e_.kind) ? e_.local : no_text;
    x.remote_at = e_.remote_at;
    x.remote_count = static_cast<std::uint32_t>(remote_kept(e_.kind, e_.remote_count));
    x.bypassed = bypassed;
    x.at = at;
    out_.order.push_back(0);
    out_.admits.push_back(x);
  }

  void released(std::optional<peer_id> known, std::string_view fixed_reason, time_ns at) {
    released_entry x;
    x.conn = e_.conn;
    x.cause = e_.kind;
    x.peer = known ? add(std::move(*known)) : e_.peer;
    x.reason = fixed_reason.empty() ? e_.reason : add(std::string{fixed_reason});
    x.at = at;
    out_.order.push_back(2);
    out_.releases.push_back(x);
  }

  void denied(denial d, time_ns at) {
    out_.order.push_back(1);
    out_.denials.push_back(rcmgr::denied{e_.conn, e_.kind, std::move(d), at});
  }

private:
  text_ref add(std::string text) {
    if (text.empty())
      return no_text;
    out_.texts.push_back(std::move(text));
    return static_cast<text_ref>(out_.texts.size() - 1);
  }

  outcome_batch& out_;
  const batch_event& e_;
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
  ++self->state.reported_anomalies["bad_batch_entry"];
  return verdict::fail("unknown event kind in a batch");
}

template <class Event> verdict decide_single(gate_self self, Event&& ev) {
  auto e = to_lifecycle_event(std::move(ev));
  single_event src{self, e};
  return decide(self, e.kind, e.conn, src, now_ns(self));
}

std::vector<verdict> decide_batch(gate_self self, lifecycle_batch& batch) {
  std::vector<verdict> verdicts;
  verdicts.reserve(batch.events.size());
  outcome_batch out;
  out.texts = std::move(batch.texts);
  out.texts.reserve(out.texts.size() + batch.events.size());
  out.lists = std::move(batch.lists);
  out.order.reserve(batch.events.size());
  out.admits.reserve(batch.events.size());
  // A batch is decided at one instant: one clock read, not three per event.
  auto now = now_ns(self);
  for (auto& e : batch.events) {
    if (!refs_valid(out.texts, out.lists, e)) {
      ++self->state.reported_anomalies["bad_batch_entry"];
      verdicts.push_back(verdict::fail("a batch event refers to texts the batch lacks"));
      continue;
    }
    batch_member src{out, e};
    verdicts.push_back(decide(self, e.kind, e.conn, src, now));
  }
  if (!out.empty() && !self->state.subscribers.empty())
    send_to_subscribers(self, std::move(out));
  return verdicts;
}

std::string dump_part(gate_self self) {
  auto& st = self->state;
  auto now = now_ns(self);
  nlohmann::json anomalies = nlohmann::json::object();
  for (auto& [k, v] : st.limits.anomalies())
    anomalies[k] = v;
  for (auto& [k, v] : st.reported_anomalies)
    anomalies[k] = anomalies.value(k, std::uint64_t{0}) + v;
  nlohmann::json limits{
      {"config", to_json(st.limits.limits())}, {"bypass_peers", st.limits.bypass_peers()},
      {"counts", to_json(st.limits.counts())}, {"denials", st.denials.to_json()},
      {"blocked_peers", st.blocked.size(now)}, {"subscribers", st.subscribers.size()}};
  nlohmann::json part{{"limits", std::move(limits)},
                      {"memory", st.memory.to_json(now)},
                      {"anomalies", std::move(anomalies)}};
  return dump_text(part);
}

gate_actor::behavior_type gate_impl(gate_self self, node_config cfg) {
  auto& st = self->state;
  st.limits.set_limits(cfg.connection_limits);
  st.limits.set_bypass_peers(cfg.bypass_peers);
  st.memory.configure(cfg.memory);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const lifecycle_listener& s) {
                                return caf::actor_cast<caf::actor_addr>(s) == dm.source;
                              }),
               subs.end());
  });
  return {
      // Mutable references: CAF hands over the message's own values (it is
      // not shared with anyone), so the strings can be moved on.
      [self](pending_inbound& ev) { return decide_single(self, std::move(ev)); },
      [self](pending_outbound& ev) { return decide_single(self, std::move(ev)); },
      [self](established_inbound& ev) { return decide_single(self, std::move(ev)); },
      [self](established_outbound& ev) { return decide_single(self, std::move(ev)); },
      [self](dial_failure& ev) { return decide_single(self, std::move(ev)); },
      [self](listen_failure& ev) { return decide_single(self, std::move(ev)); },
      [self](connection_closed& ev) { return decide_single(self, std::move(ev)); },
      [self](lifecycle_batch& batch) { return decide_batch(self, batch); },
      [self](const bypass_peer& ev) -> verdict {
        return self->state.limits.add_bypass(ev.peer);
      },
      [self](const remove_bypass& ev) -> verdict {
        return self->state.limits.remove_bypass(ev.peer);
      },
      [self](get_atom, bypass_atom) { return self->state.limits.bypass_peers(); },
      [self](get_atom, counts_atom) { return self->state.limits.counts(); },
      [self](const node_config& c) -> verdict {
        auto& st = self->state;
        st.limits.set_limits(c.connection_limits);
        st.limits.set_bypass_peers(c.bypass_peers);
        st.memory.configure(c.memory);
        return verdict::ok();
      },
      [self](const memory_sample& s) { self->state.memory.on_sample(s); },
      [self](const anomaly_report& r) { ++self->state.reported_anomalies[r.kind]; },
      [self](const peer_blocked& b) {
        self->state.blocked.block(b.peer, b.until, now_ns(self));
      },
      [self](subscribe_atom, const lifecycle_listener& l) {
        if (!l)
          return;
        self->monitor(l);
        self->state.subscribers.push_back(l);
      },
      [self](unsubscribe_atom, const lifecycle_listener& l) {
        auto& subs = self->state.subscribers;
        subs.erase(std::remove(subs.begin(), subs.end(), l), subs.end());
      },
      [self](dump_part_atom) { return dump_part(self); },
  };
}

} // namespace

gate_actor spawn_gate(caf::actor_system& sys, const node_config& cfg) {
  return sys.spawn(gate_impl, cfg);
}

} // namespace rcmgr
