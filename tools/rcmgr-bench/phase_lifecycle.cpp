// rcmgr-bench phases: the core alone, the lifecycle through the gate (one
// request per event, and in batches), and the paced admission latency (one
// way and as requests).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/gate/connection_limits.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

// -- the paced latency client ----------------------------------------------------------

struct latency_params {
  gate_actor gate;
  std::uint64_t rate = 100000;
  std::uint64_t count = 0;
  connection_id first = 0;
  const workload* w = nullptr;
  struct sink {
    std::vector<std::int64_t> latencies_ns;
    std::uint64_t errors = 0;
  };
  std::shared_ptr<sink> out;
  caf::actor reply_to;
  latency_form form = latency_form::request;
};

struct latency_state {
  latency_params p;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t closed = 0;
  /// Admitted since the last tick, closed together at the next one.
  std::vector<connection_id> to_close;
  steady::time_point start;
  /// One way: the reply-to handle, and the send time of each event, indexed
  /// by its correlation id (the event's index at this client), so that an
  /// answer costs one array access. `answered_mark` once answered.
  verdict_listener me;
  std::vector<steady::time_point> sent_at;
  static constexpr steady::time_point answered_mark = steady::time_point::min();
  static inline const char* name = "rcmgr-bench.latency";
};

using latency_self = caf::stateful_actor<latency_state>*;

void finish_if_done(latency_self self) {
  auto& st = self->state;
  if (st.answered == st.p.count && st.closed == st.p.count) {
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

/// Closes what was admitted since the last tick, in one lifecycle_batch: the
/// closes keep the gate's counts bounded without doubling the messages the
/// gate handles (the offered load is the pending_inbound events alone).
void close_admitted(latency_self self) {
  auto& st = self->state;
  if (st.to_close.empty())
    return;
  lifecycle_batch b;
  batch_writer out{b};
  for (auto conn : st.to_close)
    out.add(event_kind::connection_closed, conn, {}, {}, {}, st.p.w->reason);
  auto n = st.to_close.size();
  st.to_close.clear();
  self->request(st.p.gate, caf::infinite, std::move(b))
      .then(
          [self, n](const std::vector<verdict>& vs) {
            auto& st = self->state;
            if (vs.size() != n)
              ++st.p.out->errors;
            st.closed += n;
            finish_if_done(self);
          },
          [self, n](caf::error&) {
            ++self->state.p.out->errors;
            self->state.closed += n;
            finish_if_done(self);
          });
}

/// Offers what is due by now (rate x elapsed), then comes back after one
/// pacing tick (1 ms: about 100 events a tick at 100,000/s). The client
/// must not spin through its own mailbox: CAF 0.17's default max-throughput is
/// unbounded, so a spinning actor would keep its worker and the gate, queued
/// on the same worker, would wait for the other worker to steal it.
std::chrono::microseconds pace_tick{1000};

void pace(latency_self self) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  close_admitted(self);
  auto due = static_cast<std::uint64_t>(seconds_since(st.start) * st.p.rate);
  due = std::min(due, st.p.count);
  if (st.p.form == latency_form::oneway) {
    while (st.sent < due) {
      auto id = st.sent++;
      auto conn = st.p.first + id;
      st.sent_at[id] = steady::now();
      self->send(st.p.gate,
                 oneway<pending_inbound>{id, st.me,
                                         pending_inbound{conn, w.local, w.remote(conn)}});
    }
  }
  while (st.p.form == latency_form::request && st.sent < due) {
    auto conn = st.p.first + st.sent++;
    auto t0 = steady::now();
    self->request(st.p.gate, caf::infinite,
                  pending_inbound{conn, w.local, w.remote(conn)})
        .then(
            [self, t0, conn](const verdict& v) {
              auto& st = self->state;
              st.p.out->latencies_ns.push_back(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - t0)
                      .count());
              ++st.answered;
              if (v.allowed()) {
                st.to_close.push_back(conn);
              } else {
                ++st.p.out->errors;
                ++st.closed; // nothing to close
              }
              finish_if_done(self);
            },
            [self](caf::error&) {
              auto& st = self->state;
              ++st.p.out->errors;
              ++st.answered;
              ++st.closed;
              finish_if_done(self);
            });
  }
  // Ticks go on until the last admissions are closed.
  if (st.sent < st.p.count || st.closed < st.p.count)
    self->delayed_send(self, pace_tick, pace_atom::value);
}

/// The answer to a one-way pending_inbound: its latency, and its connection
/// to close at the next tick. An id never sent or already answered is an
/// error and ends nothing.
void on_latency_verdict(latency_self self, const event_verdict& a) {
  auto& st = self->state;
  if (a.id >= st.sent || st.sent_at[a.id] == latency_state::answered_mark) {
    ++st.p.out->errors;
    return;
  }
  st.p.out->latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       steady::now() - st.sent_at[a.id])
                                       .count());
  st.sent_at[a.id] = latency_state::answered_mark;
  ++st.answered;
  if (a.result.allowed()) {
    st.to_close.push_back(st.p.first + a.id);
  } else {
    ++st.p.out->errors;
    ++st.closed; // nothing to close
  }
  finish_if_done(self);
}

caf::behavior latency_impl(latency_self self, latency_params p) {
  auto& st = self->state;
  st.p = p;
  if (p.form == latency_form::oneway) {
    st.me = caf::actor_cast<verdict_listener>(self);
    // Sized up front: no reallocation while the client is timing.
    st.sent_at.resize(p.count);
  }
  st.start = steady::now();
  self->send(self, pace_atom::value);
  return {
      [self](pace_atom) { pace(self); },
      [self](const event_verdict& a) { on_latency_verdict(self, a); },
      [self](done_atom) { // the phase gave up waiting
        self->send(self->state.p.reply_to, done_atom::value);
        self->quit();
      },
  };
}

/// The same event sequence as the lifecycle client, applied to the core in
/// one thread: `window` connections in flight, each advanced one step per
/// turn (pending -> established -> closed), so the live set matches.
double core_cycles_per_s(connection_limits& core, const workload& w, connection_id first,
                         std::uint64_t cycles, std::uint64_t window,
                         std::uint64_t* unexpected) {
  struct slot {
    connection_id conn = 0;
    int stage = 0;
  };
  std::vector<slot> slots(window);
  std::uint64_t started = 0, done = 0;
  for (auto& s : slots)
    s.conn = first + started++;
  auto t0 = steady::now();
  std::size_t i = 0;
  while (done < cycles) {
    auto& s = slots[i];
    i = (i + 1) % slots.size();
    if (s.stage < 0)
      continue;
    admission a;
    switch (s.stage) {
    case 0:
      a = core.on_pending_inbound(s.conn);
      break;
    case 1:
      a = core.on_established(s.conn, w.peer(s.conn), direction::inbound);
      break;
    default:
      a = core.on_closed(s.conn, w.peer(s.conn));
      break;
    }
    if (a.result.kind != verdict_kind::allow && a.result.kind != verdict_kind::ok)
      ++*unexpected;
    if (++s.stage == 3) {
      ++done;
      if (started < cycles) {
        s.conn = first + started++;
        s.stage = 0;
      } else {
        s.stage = -1;
      }
    }
  }
  return 3.0 * static_cast<double>(cycles) / seconds_since(t0);
}

void fill_core(connection_limits& core, const workload& w, connection_id first,
               std::uint64_t n) {
  for (std::uint64_t c = first; c < first + n; ++c)
    core.on_established(c, w.peer(c), direction::inbound);
}

} // namespace

void bench_core(const sizes& z, const workload& w, results& r) {
  progress("core: direct calls, one thread");
  std::uint64_t unexpected = 0;
  {
    connection_limits core;
    core_cycles_per_s(core, w, 1ULL << 40, z.core_cycles / 10, z.window, &unexpected);
    r.set("core_direct_events_per_s",
          core_cycles_per_s(core, w, 0, z.core_cycles, z.window, &unexpected));
  }
  // The scaling figure on the core: the same cycles with a small and a large
  // number of live established connections besides.
  double small = 0, large = 0;
  {
    connection_limits core;
    fill_core(core, w, 1ULL << 41, z.scaling_small);
    small = core_cycles_per_s(core, w, 0, z.scaling_core_cycles, z.window, &unexpected);
  }
  {
    auto rss0 = trimmed_rss();
    connection_limits core;
    fill_core(core, w, 1ULL << 41, z.scaling_large);
    auto rss1 = trimmed_rss();
    r.set("bytes_per_connection_core",
          static_cast<double>(rss1 - rss0) / static_cast<double>(z.scaling_large));
    large = core_cycles_per_s(core, w, 0, z.scaling_core_cycles, z.window, &unexpected);
  }
  r.set("scaling_cost_ratio_core", small / large);
  if (unexpected)
    std::cerr << "rcmgr-bench: core: " << unexpected << " unexpected verdicts\n";
}

void bench_lifecycle(caf::scoped_actor& self, const sizes& z, const workload& w,
                     results& r, bool gate, bool echo) {
  // Each figure is taken twice with the same client: against the gate (with
  // the tracker and the subscriber), and against the messaging floor, an
  // actor that answers each event at once and does nothing else. Single
  // events go one way (the main figure) and as requests.
  struct run {
    rig_kind kind;
    const char* what;
    const char* oneway_key;
    const char* request_key;
    const char* batched_key;
  };
  for (auto [kind, what, oneway_key, request_key, batched_key] :
       {run{rig_kind::gate, "gate + tracker + subscriber", "lifecycle_events_per_s",
            "lifecycle_request_events_per_s", "lifecycle_batched_events_per_s"},
        run{rig_kind::echo, "the messaging floor (echo)", "echo_oneway_events_per_s",
            "echo_events_per_s", "echo_batched_events_per_s"}}) {
    if (!(kind == rig_kind::gate ? gate : echo))
      continue;
    for (auto [single, key] : {std::pair{drive_kind::oneway_cycle, oneway_key},
                               std::pair{drive_kind::cycle, request_key}}) {
      progress(std::string{"lifecycle: "} + what + ", " +
               (single == drive_kind::oneway_cycle ? "one way" : "requests") +
               ", window " + std::to_string(z.window));
      rig g{self->system(), kind};
      drive(self, g, single, 1ULL << 40, z.lifecycle_cycles / 10, w, z.window);
      auto res = drive(self, g, single, 0, z.lifecycle_cycles, w, z.window);
      r.set(key, static_cast<double>(res.events) / res.seconds);
    }
    progress(std::string{"lifecycle: "} + what +
             ", lifecycle_batch messages of 63 events");
    rig gb{self->system(), kind};
    drive(self, gb, drive_kind::batched_cycle, 1ULL << 40, z.lifecycle_cycles / 10, w,
          z.window);
    auto bres = drive(self, gb, drive_kind::batched_cycle, 0, z.lifecycle_cycles * 2, w,
                      z.window);
    r.set(batched_key, static_cast<double>(bres.events) / bres.seconds);
  }
}

void bench_latency(caf::scoped_actor& self, const sizes& z, const workload& w, results& r,
                   std::uint64_t rate, rig_kind kind, const std::string& prefix,
                   latency_form form) {
  progress("latency: " + std::to_string(rate) + " pending_inbound/s" +
           (form == latency_form::oneway ? " one way" : " as requests") + " for " +
           std::to_string(z.latency_seconds) + " s" +
           (kind == rig_kind::echo ? " against the messaging floor (echo)" : ""));
  rig g{self->system(), kind};
  auto count = static_cast<std::uint64_t>(static_cast<double>(rate) * z.latency_seconds);
  // The offered load is split over several clients: CAF 0.17 keeps a
  // requester's pending responses in a flat vector (linear search + erase per
  // response), so one client with thousands of requests in flight pays
  // O(in flight) per verdict and collapses at 100,000/s (perf: the hot loop
  // is the vector erase next to scheduled_actor::categorize).
  constexpr std::uint64_t clients = 8;
  std::vector<std::shared_ptr<latency_params::sink>> outs;
  std::vector<caf::actor> handles;
  auto t0 = steady::now();
  for (std::uint64_t k = 0; k < clients; ++k) {
    auto out = std::make_shared<latency_params::sink>();
    out->latencies_ns.reserve(count / clients + 1);
    latency_params p;
    p.gate = g.gate;
    p.rate = rate / clients;
    p.count = count / clients;
    p.first = k << 40;
    p.w = &w;
    p.out = out;
    p.reply_to = caf::actor_cast<caf::actor>(self);
    p.form = form;
    outs.push_back(out);
    handles.push_back(self->system().spawn(latency_impl, p));
  }
  count = (count / clients) * clients;
  auto limit = std::chrono::seconds(static_cast<int>(z.latency_seconds) + 10);
  std::uint64_t finished = 0;
  for (; finished < clients; ++finished)
    if (!wait_done(self, limit))
      break;
  if (finished < clients) {
    // Late answers are not waited for: they count as unanswered.
    std::cerr << "rcmgr-bench: a latency client timed out\n";
    // High priority: it overtakes the verdicts queued in the client's mailbox.
    for (auto& h : handles)
      caf::anon_send<caf::message_priority::high>(h, done_atom::value);
    for (; finished < clients; ++finished)
      wait_done(self, std::chrono::seconds(10));
  }
  auto secs = seconds_since(t0);
  std::vector<std::int64_t> lat; // every client has quit: no more writes
  std::uint64_t errors = 0;
  for (auto& out : outs) {
    lat.insert(lat.end(), out->latencies_ns.begin(), out->latencies_ns.end());
    errors += out->errors;
  }
  r.set_int(prefix + "_unanswered", count - lat.size());
  // No drain here: after a timeout the gate may hold a long backlog; ~rig
  // stops it with an exit message, which overtakes the backlog.
  if (errors)
    std::cerr << "rcmgr-bench: latency: " << errors << " errors\n";
  if (lat.empty())
    return;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    auto i = static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1));
    return static_cast<double>(lat[i]) / 1000.0;
  };
  r.set(prefix + "_p50_us", pct(0.50));
  r.set(prefix + "_p99_us", pct(0.99));
  r.set(prefix + "_p999_us", pct(0.999));
  r.set(prefix + "_offered_per_s", static_cast<double>(rate));
  r.set(prefix + "_achieved_per_s", static_cast<double>(lat.size()) / secs);
  r.set_int(prefix + "_n", lat.size());
}

} // namespace rcmgr::bench
