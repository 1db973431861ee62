#include "actors/gate_actor.hpp"

#include <algorithm>
#include <map>
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
  /// While a lifecycle_batch is decided: its outcomes, published as one
  /// message afterwards.
  outcome_batch* collecting = nullptr;
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

template <class Message> void publish(gate_self self, Message msg) {
  auto& st = self->state;
  if (st.subscribers.empty())
    return;
  if (st.collecting != nullptr) {
    st.collecting->add(std::move(msg));
    return;
  }
  send_to_subscribers(self, std::move(msg));
}

/// Turns what the core did into the verdict and the outcome subscribers see.
// Events, admissions and outcomes are moved along rather than copied: each
// copy of a 52-character peer id or an address is a heap block, and these
// copies led the batched lifecycle profile.
verdict conclude(gate_self self, admission a, connection_id conn, event_kind ev,
                 admitted entered) {
  auto now = now_ns(self);
  if (a.result.allowed()) {
    entered.conn = conn;
    entered.peer = std::move(a.peer);
    entered.bypassed = a.bypassed;
    entered.at = now;
    publish(self, std::move(entered));
  } else if (a.result.denied()) {
    self->state.denials.count(a.result.why);
    publish(self, denied{conn, ev, a.result.why, now});
  }
  return std::move(a.result);
}

verdict release(gate_self self, admission a, connection_id conn, event_kind cause,
                std::string reason) {
  if (a.changed)
    publish(self,
            released{conn, cause, std::move(a.peer), std::move(reason), now_ns(self)});
  return std::move(a.result);
}

/// The memory rule applies to pending connections only, and after the
/// duplicate check: bad input is never counted as a memory denial.
std::optional<verdict> memory_denial(gate_self self, connection_id conn, event_kind ev) {
  auto& st = self->state;
  if (st.limits.contains(conn))
    return std::nullopt; // the core reports the duplicate
  if (auto d = st.memory.check(conn, now_ns(self))) {
    st.denials.count(*d);
    publish(self, denied{conn, ev, *d, now_ns(self)});
    return verdict::deny(*d);
  }
  return std::nullopt;
}

/// A peer the watcher blocked is refused new connections until its cooldown
/// ends; bypassed peers are trusted and never blocked.
std::optional<verdict> block_denial(gate_self self, connection_id conn,
                                    const peer_id& peer, event_kind ev) {
  auto& st = self->state;
  auto now = now_ns(self);
  if (peer.empty() || st.limits.is_bypassed(peer) || !st.blocked.blocked(peer, now))
    return std::nullopt;
  if (st.limits.contains(conn) && !st.limits.is_pending(conn))
    return std::nullopt; // the core reports the duplicate
  st.limits.leave_pending(conn);
  denial d;
  d.code = denial_code::blocked;
  d.peer = peer;
  d.conn = conn;
  st.denials.count(d);
  publish(self, denied{conn, ev, d, now});
  return verdict::deny(d);
}

admitted entering(conn_state state, direction dir, std::string local,
                  std::vector<std::string> remote) {
  admitted x;
  x.state = state;
  x.dir = dir;
  x.local = std::move(local);
  x.remote = std::move(remote);
  return x;
}

// -- one decision per lifecycle event ------------------------------------------

verdict decide(gate_self self, pending_inbound ev) {
  if (auto v = memory_denial(self, ev.conn, event_kind::pending_inbound))
    return *v;
  return conclude(self, self->state.limits.on_pending_inbound(ev.conn), ev.conn,
                  event_kind::pending_inbound,
                  entering(conn_state::pending, direction::inbound, std::move(ev.local),
                           {std::move(ev.remote)}));
}

verdict decide(gate_self self, pending_outbound ev) {
  auto& st = self->state;
  if (auto v = block_denial(self, ev.conn, ev.peer, event_kind::pending_outbound))
    return *v;
  // A known bypassed peer is allowed at once, before the memory check.
  if (ev.peer.empty() || !st.limits.is_bypassed(ev.peer))
    if (auto v = memory_denial(self, ev.conn, event_kind::pending_outbound))
      return *v;
  return conclude(
      self, st.limits.on_pending_outbound(ev.conn, ev.peer), ev.conn,
      event_kind::pending_outbound,
      entering(conn_state::pending, direction::outbound, {}, std::move(ev.addresses)));
}

// (The core reads the peer before the outcome takes the addresses: only
// `local` and `remote` are moved, so the order the arguments are evaluated
// in does not matter.)
verdict decide(gate_self self, established_inbound ev) {
  if (auto v = block_denial(self, ev.conn, ev.peer, event_kind::established_inbound))
    return *v;
  return conclude(self,
                  self->state.limits.on_established(ev.conn, ev.peer, direction::inbound),
                  ev.conn, event_kind::established_inbound,
                  entering(conn_state::established, direction::inbound,
                           std::move(ev.local), {std::move(ev.remote)}));
}

verdict decide(gate_self self, established_outbound ev) {
  if (auto v = block_denial(self, ev.conn, ev.peer, event_kind::established_outbound))
    return *v;
  return conclude(
      self, self->state.limits.on_established(ev.conn, ev.peer, direction::outbound),
      ev.conn, event_kind::established_outbound,
      entering(conn_state::established, direction::outbound, {},
               {std::move(ev.address)}));
}

verdict decide(gate_self self, const dial_failure& ev) {
  return release(self, self->state.limits.on_failure(ev.conn, direction::outbound),
                 ev.conn, event_kind::dial_failure, "dial failure");
}

verdict decide(gate_self self, const listen_failure& ev) {
  return release(self, self->state.limits.on_failure(ev.conn, direction::inbound),
                 ev.conn, event_kind::listen_failure, "listen failure");
}

verdict decide(gate_self self, connection_closed ev) {
  return release(self, self->state.limits.on_closed(ev.conn, ev.peer), ev.conn,
                 event_kind::connection_closed, std::move(ev.reason));
}

/// A batch entry is the event of the same kind.
verdict decide(gate_self self, lifecycle_event&& e) {
  auto first = [&e] {
    return e.remote.empty() ? std::string{} : std::move(e.remote.front());
  };
  switch (e.kind) {
  case event_kind::pending_inbound:
    return decide(self, pending_inbound{e.conn, std::move(e.local), first()});
  case event_kind::pending_outbound:
    return decide(self, pending_outbound{e.conn, std::move(e.peer), std::move(e.remote)});
  case event_kind::established_inbound:
    return decide(self, established_inbound{e.conn, std::move(e.peer), std::move(e.local),
                                            first()});
  case event_kind::established_outbound:
    return decide(self, established_outbound{e.conn, std::move(e.peer), first()});
  case event_kind::dial_failure:
    return decide(self, dial_failure{e.conn});
  case event_kind::listen_failure:
    return decide(self, listen_failure{e.conn});
  case event_kind::connection_closed:
    return decide(self,
                  connection_closed{e.conn, std::move(e.peer), std::move(e.reason)});
  }
  ++self->state.reported_anomalies["bad_batch_entry"];
  return verdict::fail("unknown event kind in a batch");
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
      [self](pending_inbound& ev) { return decide(self, std::move(ev)); },
      [self](pending_outbound& ev) { return decide(self, std::move(ev)); },
      [self](established_inbound& ev) { return decide(self, std::move(ev)); },
      [self](established_outbound& ev) { return decide(self, std::move(ev)); },
      [self](const dial_failure& ev) { return decide(self, ev); },
      [self](const listen_failure& ev) { return decide(self, ev); },
      [self](connection_closed& ev) { return decide(self, std::move(ev)); },
      [self](lifecycle_batch& batch) {
        std::vector<verdict> out;
        out.reserve(batch.events.size());
        outcome_batch outcomes;
        self->state.collecting = &outcomes;
        for (auto& e : batch.events)
          out.push_back(decide(self, std::move(e)));
        self->state.collecting = nullptr;
        if (!outcomes.empty() && !self->state.subscribers.empty())
          send_to_subscribers(self, std::move(outcomes));
        return out;
      },
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
