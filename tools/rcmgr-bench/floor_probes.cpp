// rcmgr-bench: CAF's own floors for single events, taken beside the
// lifecycle figures. The lifecycle client's messages (pending_inbound,
// established_inbound, connection_closed per connection), 256 connections in
// flight, against an actor that answers each at once: as requests
// (request().then()) and one way (each event carries a correlation id and a
// reply-to handle, the answer is an ordinary `event_verdict`). The clients
// do nothing else per event: what is left is CAF and the messages.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "allocations.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

/// Answers every request at once with the verdict the gate would give
/// (allow, or ok for a close). One actor per form, each with only its own
/// handlers: CAF 0.17 tries handlers in order, and a miss costs a type_info
/// comparison, which is no part of the floor.
caf::behavior request_echo_impl(caf::event_based_actor*,
                                int /* CAF 0.17 wants an argument */) {
  return {
      [](pending_inbound&) { return verdict::allow(); },
      [](established_inbound&) { return verdict::allow(); },
      [](connection_closed&) { return verdict::ok(); },
      [](dial_failure&) { return verdict::ok(); },
  };
}

/// The same, one way: each event answered with an `event_verdict`.
caf::behavior oneway_echo_impl(caf::event_based_actor* self,
                               int /* CAF 0.17 wants an argument */) {
  auto answer = [self](const verdict_listener& to, correlation_id id, verdict v) {
    self->send(to, event_verdict{id, std::move(v)});
  };
  return {
      [answer](oneway<pending_inbound>& x) {
        answer(x.reply_to, x.id, verdict::allow());
      },
      [answer](oneway<established_inbound>& x) {
        answer(x.reply_to, x.id, verdict::allow());
      },
      [answer](oneway<connection_closed>& x) { answer(x.reply_to, x.id, verdict::ok()); },
      [answer](oneway<dial_failure>& x) { answer(x.reply_to, x.id, verdict::ok()); },
  };
}

struct probe_params {
  caf::actor echo;
  bool oneway = false;
  /// Every event a `dial_failure` (a connection id, no string): the same
  /// machinery with the smallest message, to tell CAF's cost from the texts'.
  bool small = false;
  std::uint64_t count = 0; // connections, three events each
  std::uint64_t window = 256;
  const workload* w = nullptr;
  std::shared_ptr<drive_result> out;
  caf::actor reply_to;
};

struct probe_state {
  probe_params p;
  verdict_listener me; // the one-way reply-to handle
  std::uint64_t next = 0;
  std::uint64_t inflight = 0;
  steady::time_point start;
  static inline const char* name = "rcmgr-bench.floor_probe";
};

using probe_self = caf::stateful_actor<probe_state>*;

void probe_launch(probe_self self);
void probe_step(probe_self self, connection_id conn, int stage);

void probe_answered(probe_self self, connection_id conn, int stage, const verdict& v) {
  auto& st = self->state;
  ++st.p.out->events;
  if (v.kind != verdict_kind::allow && v.kind != verdict_kind::ok)
    ++st.p.out->unexpected;
  if (stage < 2) {
    probe_step(self, conn, stage + 1);
    return;
  }
  --st.inflight;
  if (st.next < st.p.count) {
    probe_launch(self);
  } else if (st.inflight == 0) {
    st.p.out->seconds = seconds_since(st.start);
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

template <class Event>
void probe_request(probe_self self, connection_id conn, int stage, Event ev) {
  self->request(self->state.p.echo, caf::infinite, std::move(ev))
      .then(
          [self, conn, stage](const verdict& v) { probe_answered(self, conn, stage, v); },
          [self, conn](caf::error&) {
            ++self->state.p.out->errors;
            probe_answered(self, conn, 2, verdict::ok());
          });
}

template <class Event>
void probe_send(probe_self self, connection_id conn, int stage, Event ev) {
  auto& st = self->state;
  self->send(st.p.echo, oneway<Event>{conn * 4 + static_cast<unsigned>(stage), st.me,
                                      std::move(ev)});
}

/// Sends stage `stage` of connection `conn`: 0 pending, 1 established, 2 closed.
void probe_step(probe_self self, connection_id conn, int stage) {
  const auto& w = *self->state.p.w;
  bool ow = self->state.p.oneway;
  if (self->state.p.small) {
    dial_failure ev{conn};
    ow ? probe_send(self, conn, stage, ev) : probe_request(self, conn, stage, ev);
    return;
  }
  switch (stage) {
  case 0: {
    pending_inbound ev{conn, w.local, w.remote(conn)};
    ow ? probe_send(self, conn, stage, std::move(ev))
       : probe_request(self, conn, stage, std::move(ev));
    break;
  }
  case 1: {
    established_inbound ev{conn, w.peer(conn), w.local, w.remote(conn)};
    ow ? probe_send(self, conn, stage, std::move(ev))
       : probe_request(self, conn, stage, std::move(ev));
    break;
  }
  default: {
    connection_closed ev{conn, w.peer(conn), w.reason};
    ow ? probe_send(self, conn, stage, std::move(ev))
       : probe_request(self, conn, stage, std::move(ev));
    break;
  }
  }
}

void probe_launch(probe_self self) {
  auto& st = self->state;
  ++st.inflight;
  probe_step(self, st.next++, 0);
}

caf::behavior probe_impl(probe_self self, probe_params p) {
  auto& st = self->state;
  st.p = std::move(p);
  st.me = caf::actor_cast<verdict_listener>(self);
  st.start = steady::now();
  for (std::uint64_t i = 0; i < st.p.window && st.next < st.p.count; ++i)
    probe_launch(self);
  return {
      [self](event_verdict& a) {
        probe_answered(self, a.id >> 2, static_cast<int>(a.id & 3), a.result);
      },
  };
}

/// Events per second of one probe client (`count` connections) against `echo`.
double probe_round(caf::scoped_actor& self, const caf::actor& echo, bool oneway,
                   bool small, std::uint64_t count, const workload& w,
                   std::uint64_t window) {
  auto out = std::make_shared<drive_result>();
  probe_params p;
  p.echo = echo;
  p.oneway = oneway;
  p.small = small;
  p.count = count;
  p.window = window;
  p.w = &w;
  p.out = out;
  p.reply_to = caf::actor_cast<caf::actor>(self);
  auto client = self->system().spawn(probe_impl, p);
  bool ok = wait_done(self, wait_limit);
  if (!ok)
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  auto res = *out;
  if (!ok || res.errors || res.unexpected)
    std::cerr << "rcmgr-bench: floor probe: " << res.errors << " errors, "
              << res.unexpected << " unexpected verdicts\n";
  return res.seconds > 0 ? static_cast<double>(res.events) / res.seconds : 0.0;
}

/// The median of three rounds against one floor actor, after a warm-up
/// round of a tenth: single rounds on two shared cores came out twice as
/// far apart as the two forms.
double probe(caf::scoped_actor& self, bool oneway, bool small, std::uint64_t count,
             const workload& w, std::uint64_t window) {
  auto echo = oneway ? self->system().spawn(oneway_echo_impl, 0)
                     : self->system().spawn(request_echo_impl, 0);
  probe_round(self, echo, oneway, small, count / 10, w, window);
  std::vector<double> rates;
  for (int k = 0; k < 3; ++k)
    rates.push_back(probe_round(self, echo, oneway, small, count, w, window));
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  std::sort(rates.begin(), rates.end());
  return rates[1];
}

/// Heap allocations per event message made the way `send` makes one (the
/// message and its values, on this thread), over a connection's three events
/// with the workload's texts (a 52-character peer id, 22- and 23-byte
/// addresses): 1 when the texts travel inside the message.
double event_message_allocations(const workload& w) {
  constexpr std::uint64_t connections = 1000;
  auto before = thread_allocations();
  for (connection_id c = 0; c < connections; ++c) {
    auto a = caf::make_message(
        oneway<pending_inbound>{c, verdict_listener{}, {c, w.local, w.remote(c)}});
    auto b = caf::make_message(oneway<established_inbound>{
        c, verdict_listener{}, {c, w.peer(c), w.local, w.remote(c)}});
    auto d = caf::make_message(
        oneway<connection_closed>{c, verdict_listener{}, {c, w.peer(c), w.reason}});
  }
  return static_cast<double>(thread_allocations() - before) /
         static_cast<double>(connections * 3);
}

} // namespace

void bench_floors(caf::scoped_actor& self, const sizes& z, const workload& w,
                  results& r) {
  progress("lifecycle: CAF's floor, request/response and one way, window " +
           std::to_string(z.window));
  auto n = z.lifecycle_cycles;
  r.set("request_floor_events_per_s", probe(self, false, false, n, w, z.window));
  r.set("oneway_floor_events_per_s", probe(self, true, false, n, w, z.window));
  // The same with the smallest message.
  r.set("request_floor_small_events_per_s", probe(self, false, true, n, w, z.window));
  r.set("oneway_floor_small_events_per_s", probe(self, true, true, n, w, z.window));
  r.set("event_message_allocations", event_message_allocations(w));
}

} // namespace rcmgr::bench
