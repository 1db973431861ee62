// rcmgr-bench [--quick | --tiny] [--json FILE] [--only SECTIONS]
//
// What the actor design costs, measured against limits taken in the same run
// (issue 6). A harness of its own (no Google Benchmark): most figures are
// ratios, percentiles or RSS deltas, which fit a plain driver better.
//
// Everything runs in one process on CAF's threaded scheduler with two
// workers. The clients are event-based actors that keep a bounded window of
// requests in flight; each measurement gets a fresh gate + tracker + one more
// subscriber so that one does not inherit the other's tables. A phase ends
// only when the tracker and the extra subscriber have also handled every
// outcome the gate published (a request queued behind them answers last), so
// the rates are sustainable rates, not mailbox-filling rates.
//
// Keys for parts that do not exist yet are left out and named, with the
// reason, in the table and under "missing_keys" in the JSON.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/connection_limits.hpp"
#include "actors/gate_actor.hpp"
#include "actors/state_dump_actor.hpp"
#include "actors/tracker_actor.hpp"
#include "messages/interfaces.hpp"
#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
#include "actors/rate_limiter_actor.hpp"
#endif

using namespace rcmgr;
using steady = std::chrono::steady_clock;

namespace {

using done_atom = caf::atom_constant<caf::atom("done")>;
using pace_atom = caf::atom_constant<caf::atom("pace")>;

// -- sizes of each mode ---------------------------------------------------------

struct sizes {
  std::string mode;
  std::uint64_t window = 256;          // requests in flight per client
  std::uint64_t core_cycles = 0;       // core_direct_events_per_s
  std::uint64_t lifecycle_cycles = 0;  // lifecycle_events_per_s
  std::uint64_t latency_rate = 100000; // pending_inbound offered per second
  double latency_seconds = 0;          // how long the latency client offers
  std::uint64_t memory_conns = 0;      // bytes_per_connection
  std::uint64_t memory_peers = 10000;
  std::uint64_t scaling_small = 1000; // live connections, cheap case
  std::uint64_t scaling_large = 0;    // live connections, expensive case
  std::uint64_t scaling_cycles = 0;   // cycles timed in each case (gate)
  std::uint64_t scaling_core_cycles = 0;
  std::uint64_t churn_conns = 0;
  int churn_rounds = 10;
  std::uint64_t dump_conns = 0;
  int dump_repeats = 5;
  std::uint64_t rate_checks = 0;
  std::uint64_t rate_peers = 100000;
  std::uint64_t rate_batch = 64;
};

sizes full_sizes() {
  sizes s;
  s.mode = "full";
  s.core_cycles = 3000000;
  s.lifecycle_cycles = 1000000;
  s.latency_seconds = 10;
  s.memory_conns = 1000000;
  s.scaling_large = 1000000;
  s.scaling_cycles = 300000;
  s.scaling_core_cycles = 2000000;
  s.churn_conns = 1000000;
  s.dump_conns = 100000;
  s.rate_checks = 2000000;
  return s;
}

sizes quick_sizes() {
  sizes s;
  s.mode = "quick";
  s.core_cycles = 1000000;
  s.lifecycle_cycles = 100000;
  s.latency_seconds = 2;
  s.memory_conns = 200000;
  s.scaling_large = 200000; // reuses the memory phase's live connections
  s.scaling_cycles = 30000;
  s.scaling_core_cycles = 500000;
  s.churn_conns = 20000;
  s.dump_conns = 100000;
  s.rate_checks = 50000;
  return s;
}

sizes tiny_sizes() {
  sizes s;
  s.mode = "tiny";
  s.core_cycles = 20000;
  s.lifecycle_cycles = 5000;
  s.latency_seconds = 0.3;
  s.memory_conns = 20000;
  s.memory_peers = 1000;
  s.scaling_small = 100;
  s.scaling_large = 20000;
  s.scaling_cycles = 5000;
  s.scaling_core_cycles = 20000;
  s.churn_conns = 5000;
  s.churn_rounds = 3;
  s.dump_conns = 5000;
  s.dump_repeats = 2;
  s.rate_checks = 20000;
  s.rate_peers = 1000;
  return s;
}

// -- the workload: realistic ids and addresses, built once -----------------------

struct workload {
  std::vector<peer_id> peers;
  std::vector<std::string> remotes;
  std::string local = "/ip4/10.0.0.1/tcp/4001";
  std::string reason = "bench";

  explicit workload(std::size_t num_peers) {
    // libp2p-style Ed25519 peer ids: "12D3KooW" + 44 base58 characters.
    static const char* b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    peers.reserve(num_peers);
    for (std::size_t i = 0; i < num_peers; ++i) {
      std::string id = "12D3KooW";
      for (int k = 0; k < 44; ++k) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        id += b58[x % 58];
      }
      peers.push_back(std::move(id));
    }
    for (int i = 0; i < 1024; ++i)
      remotes.push_back("/ip4/10.1." + std::to_string(i / 256) + "." +
                        std::to_string(i % 256) + "/tcp/" + std::to_string(40000 + i));
  }

  const peer_id& peer(connection_id c) const { return peers[c % peers.size()]; }
  const std::string& remote(connection_id c) const { return remotes[c % remotes.size()]; }
};

// -- process memory ---------------------------------------------------------------

std::uint64_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

/// RSS after handing free heap pages back, so that the figure is live data.
std::uint64_t trimmed_rss() {
  malloc_trim(0);
  return rss_bytes();
}

/// The machine's 1-minute load average: the figures are only as good as the
/// share of the two cores this process got.
double load_average() {
  std::ifstream in{"/proc/loadavg"};
  double x = 0;
  in >> x;
  return x;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- the extra subscriber: counts outcomes -----------------------------------------

using counter_actor = lifecycle_listener::extend<
    caf::replies_to<get_atom, counts_atom>::with<std::uint64_t>>;

struct counter_state {
  std::uint64_t seen = 0;
  static inline const char* name = "rcmgr-bench.counter";
};

counter_actor::behavior_type
counter_impl(counter_actor::stateful_pointer<counter_state> self,
             int /* CAF 0.17 wants an argument */) {
  return {
      [self](const admitted&) { ++self->state.seen; },
      [self](const denied&) { ++self->state.seen; },
      [self](const released&) { ++self->state.seen; },
      [self](get_atom, counts_atom) -> std::uint64_t { return self->state.seen; },
  };
}

// -- one gate with its tracker and the extra subscriber ------------------------------

struct rig {
  caf::actor_system& sys;
  gate_actor gate;
  tracker_actor tracker;
  counter_actor counter;

  explicit rig(caf::actor_system& s) : sys(s) {
    gate = spawn_gate(sys, node_config{}); // no limits: every event is allowed
    tracker = spawn_tracker(sys, tracker_options{});
    counter = sys.spawn(counter_impl, 0);
    caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{tracker});
    caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{counter});
  }

  ~rig() {
    caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(tracker, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
  }

  /// Returns once the gate, the tracker and the counter have handled every
  /// message sent to them before this call.
  bool drain(caf::scoped_actor& self) {
    bool ok = true;
    auto fail = [&](caf::error& e) {
      std::cerr << "rcmgr-bench: drain failed: " << self->system().render(e) << "\n";
      ok = false;
    };
    self->request(gate, caf::infinite, get_atom::value, counts_atom::value)
        .receive([](const admission_counts&) {}, fail);
    self->request(tracker, caf::infinite, get_atom::value, counts_atom::value)
        .receive([](const admission_counts&) {}, fail);
    self->request(counter, caf::infinite, get_atom::value, counts_atom::value)
        .receive([](std::uint64_t) {}, fail);
    return ok;
  }

  admission_counts tracker_counts(caf::scoped_actor& self) {
    admission_counts out;
    self->request(tracker, caf::infinite, get_atom::value, counts_atom::value)
        .receive([&](const admission_counts& c) { out = c; }, [](caf::error&) {});
    return out;
  }
};

// -- the windowed lifecycle client ----------------------------------------------------

enum class drive_kind { cycle, open, close, batched_cycle };

struct drive_result {
  std::uint64_t events = 0;
  std::uint64_t unexpected = 0; // verdicts other than allow/ok
  std::uint64_t errors = 0;
  double seconds = 0;
};

struct drive_params {
  drive_kind kind = drive_kind::cycle;
  gate_actor gate;
  connection_id first = 0;
  std::uint64_t count = 0; // connections
  std::uint64_t window = 256;
  const workload* w = nullptr;
  std::shared_ptr<drive_result> out; // shared: a timed-out client may still write
  caf::actor reply_to;
};

struct drive_state {
  drive_params p;
  std::uint64_t next = 0;
  std::uint64_t inflight = 0;
  std::uint64_t finished = 0;
  steady::time_point start;
  static inline const char* name = "rcmgr-bench.driver";
};

using drive_self = caf::stateful_actor<drive_state>*;

void launch(drive_self self);

void finish_one(drive_self self) {
  auto& st = self->state;
  --st.inflight;
  ++st.finished;
  if (st.next < st.p.count) {
    launch(self);
  } else if (st.inflight == 0) {
    st.p.out->seconds = seconds_since(st.start);
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

void note_in(drive_result& out, const verdict& v) {
  ++out.events;
  if (v.kind != verdict_kind::allow && v.kind != verdict_kind::ok)
    ++out.unexpected;
}

void note(drive_self self, const verdict& v) {
  note_in(*self->state.p.out, v);
}

std::function<void(caf::error&)> on_error(drive_self self) {
  return [self](caf::error&) {
    ++self->state.p.out->errors;
    finish_one(self);
  };
}

void launch(drive_self self) {
  auto& st = self->state;
  auto conn = st.p.first + st.next++;
  ++st.inflight;
  const auto& w = *st.p.w;
  const auto& peer = w.peer(conn);
  auto gate = st.p.gate;
  switch (st.p.kind) {
  case drive_kind::open:
    self->request(gate, caf::infinite,
                  established_inbound{conn, peer, w.local, w.remote(conn)})
        .then(
            [self](const verdict& v) {
              note(self, v);
              finish_one(self);
            },
            on_error(self));
    break;
  case drive_kind::close:
    self->request(gate, caf::infinite, connection_closed{conn, peer, w.reason})
        .then(
            [self](const verdict& v) {
              note(self, v);
              finish_one(self);
            },
            on_error(self));
    break;
  case drive_kind::batched_cycle: // driven by batcher_impl
  case drive_kind::cycle:
    self->request(gate, caf::infinite, pending_inbound{conn, w.local, w.remote(conn)})
        .then(
            [self, conn, gate, &w, &peer](const verdict& v) {
              note(self, v);
              self->request(gate, caf::infinite,
                            established_inbound{conn, peer, w.local, w.remote(conn)})
                  .then(
                      [self, conn, gate, &w, &peer](const verdict& v) {
                        note(self, v);
                        self->request(gate, caf::infinite,
                                      connection_closed{conn, peer, w.reason})
                            .then(
                                [self](const verdict& v) {
                                  note(self, v);
                                  finish_one(self);
                                },
                                on_error(self));
                      },
                      on_error(self));
            },
            on_error(self));
    break;
  }
}

caf::behavior driver_impl(drive_self self, drive_params p) {
  self->state.p = p;
  self->state.start = steady::now();
  if (p.count == 0) {
    self->send(p.reply_to, done_atom::value);
    self->quit();
    return {};
  }
  for (std::uint64_t i = 0; i < p.window && i < p.count; ++i)
    launch(self);
  return {[](pace_atom) {}};
}

/// Runs one windowed client to completion; false on a timeout.
// -- the batched lifecycle client ---------------------------------------------------

/// The same cycles as `drive_kind::cycle`, in `lifecycle_batch` messages of up
/// to 63 events: pending, established and closed of 21 connections (the gate
/// answers a batch in order, so each connection's events stay in sequence).
/// About `window` events are in flight.
struct batch_state {
  drive_params p;
  std::uint64_t next = 0;
  std::uint64_t inflight = 0;
  static inline const char* name = "rcmgr-bench.batcher";
};

using batch_self = caf::stateful_actor<batch_state>*;

constexpr std::uint64_t conns_per_batch = 21; // 63 events: "up to 64"

void batch_launch(batch_self self);

void batch_finished(batch_self self) {
  auto& st = self->state;
  --st.inflight;
  if (st.next < st.p.count) {
    batch_launch(self);
  } else if (st.inflight == 0) {
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

void batch_launch(batch_self self) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  lifecycle_batch b;
  auto n = std::min(conns_per_batch, st.p.count - st.next);
  b.events.reserve(3 * n);
  for (std::uint64_t k = 0; k < n; ++k) {
    auto conn = st.p.first + st.next++;
    const auto& peer = w.peer(conn);
    b.events.push_back(lifecycle_event{
        event_kind::pending_inbound, conn, {}, w.local, {w.remote(conn)}, {}});
    b.events.push_back(lifecycle_event{
        event_kind::established_inbound, conn, peer, w.local, {w.remote(conn)}, {}});
    b.events.push_back(
        lifecycle_event{event_kind::connection_closed, conn, peer, {}, {}, w.reason});
  }
  ++st.inflight;
  self->request(st.p.gate, caf::infinite, std::move(b))
      .then(
          [self](const std::vector<verdict>& vs) {
            for (auto& v : vs)
              note_in(*self->state.p.out, v);
            batch_finished(self);
          },
          [self](caf::error&) {
            ++self->state.p.out->errors;
            batch_finished(self);
          });
}

caf::behavior batcher_impl(batch_self self, drive_params p) {
  self->state.p = p;
  auto slots = std::max<std::uint64_t>(p.window / (3 * conns_per_batch), 1);
  for (std::uint64_t i = 0; i < slots && self->state.next < p.count; ++i)
    batch_launch(self);
  if (self->state.inflight == 0) {
    self->send(p.reply_to, done_atom::value);
    self->quit();
  }
  return {[](pace_atom) {}};
}

/// How long any one client may take before the phase gives up on it (set per
/// mode); a phase that gives up says so and its figure is not trusted.
std::chrono::seconds wait_limit{600};

bool wait_done(caf::scoped_actor& self, std::chrono::seconds limit) {
  bool ok = true;
  auto t0 = steady::now();
  self->receive([](done_atom) {}, caf::after(limit) >> [&] { ok = false; });
  if (!ok)
    std::cerr << "rcmgr-bench: waited " << seconds_since(t0) << " s\n";
  return ok;
}

drive_result drive(caf::scoped_actor& self, rig& r, drive_kind kind, connection_id first,
                   std::uint64_t count, const workload& w, std::uint64_t window) {
  auto out = std::make_shared<drive_result>();
  drive_params p;
  p.kind = kind;
  p.gate = r.gate;
  p.first = first;
  p.count = count;
  p.window = window;
  p.w = &w;
  p.out = out;
  p.reply_to = caf::actor_cast<caf::actor>(self);
  auto t0 = steady::now();
  auto client = kind == drive_kind::batched_cycle ? self->system().spawn(batcher_impl, p)
                                                  : self->system().spawn(driver_impl, p);
  bool timed_out = !wait_done(self, wait_limit);
  if (timed_out) {
    std::cerr << "rcmgr-bench: a client timed out\n";
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  }
  r.drain(self); // the tracker and the counter are done too
  auto res = *out;
  res.seconds = seconds_since(t0);
  if (timed_out)
    ++res.errors;
  if (res.errors || res.unexpected)
    std::cerr << "rcmgr-bench: " << res.errors << " errors, " << res.unexpected
              << " unexpected verdicts\n";
  return res;
}

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
};

struct latency_state {
  latency_params p;
  std::uint64_t sent = 0;
  std::uint64_t closed = 0;
  steady::time_point start;
  static inline const char* name = "rcmgr-bench.latency";
};

using latency_self = caf::stateful_actor<latency_state>*;

void latency_closed(latency_self self) {
  auto& st = self->state;
  if (++st.closed == st.p.count) {
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

/// Offers what is due by now (rate x elapsed), then comes back after one
/// pacing tick (1 ms: about 100 requests a tick at 100,000/s). The client
/// must not spin through its own mailbox: CAF 0.17's default max-throughput is
/// unbounded, so a spinning actor would keep its worker and the gate, queued
/// on the same worker, would wait for the other worker to steal it.
std::chrono::microseconds pace_tick{1000};

void pace(latency_self self) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  auto due = static_cast<std::uint64_t>(seconds_since(st.start) * st.p.rate);
  due = std::min(due, st.p.count);
  while (st.sent < due) {
    auto conn = st.p.first + st.sent++;
    auto t0 = steady::now();
    auto gate = st.p.gate;
    self->request(gate, caf::infinite, pending_inbound{conn, w.local, w.remote(conn)})
        .then(
            [self, t0, conn, gate, &w](const verdict& v) {
              auto& st = self->state;
              st.p.out->latencies_ns.push_back(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - t0)
                      .count());
              if (!v.allowed())
                ++st.p.out->errors;
              // Each admission is followed by a close so the counts stay bounded.
              self->request(gate, caf::infinite, connection_closed{conn, {}, w.reason})
                  .then([self](const verdict&) { latency_closed(self); },
                        [self](caf::error&) {
                          ++self->state.p.out->errors;
                          latency_closed(self);
                        });
            },
            [self](caf::error&) {
              ++self->state.p.out->errors;
              latency_closed(self);
            });
  }
  if (st.sent < st.p.count)
    self->delayed_send(self, pace_tick, pace_atom::value);
}

caf::behavior latency_impl(latency_self self, latency_params p) {
  self->state.p = p;
  self->state.start = steady::now();
  self->send(self, pace_atom::value);
  return {
      [self](pace_atom) { pace(self); },
      [self](done_atom) { // the phase gave up waiting
        self->send(self->state.p.reply_to, done_atom::value);
        self->quit();
      },
  };
}

// -- the results ---------------------------------------------------------------------

struct results {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  std::vector<std::pair<std::string, std::string>> missing; // key, why

  void set(const std::string& key, double v) {
    json[key] = v;
    std::cerr << "  " << key << " = " << v << std::endl;
  }
  void set_int(const std::string& key, std::uint64_t v) { json[key] = v; }
  void miss(const std::string& key, const std::string& why) {
    missing.emplace_back(key, why);
  }
  std::optional<double> get(const std::string& key) const {
    auto i = json.find(key);
    if (i == json.end() || !i->is_number())
      return std::nullopt;
    return i->get<double>();
  }
};

void progress(const std::string& what) {
  std::cerr << "rcmgr-bench: " << what << std::endl;
}

// -- the measurements -------------------------------------------------------------------

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
                     results& r) {
  progress("lifecycle: gate + tracker + subscriber, window " + std::to_string(z.window));
  rig g{self->system()};
  drive(self, g, drive_kind::cycle, 1ULL << 40, z.lifecycle_cycles / 10, w, z.window);
  auto res = drive(self, g, drive_kind::cycle, 0, z.lifecycle_cycles, w, z.window);
  r.set("lifecycle_events_per_s", static_cast<double>(res.events) / res.seconds);
  progress("lifecycle: the same in lifecycle_batch messages of 63 events");
  rig gb{self->system()};
  drive(self, gb, drive_kind::batched_cycle, 1ULL << 40, z.lifecycle_cycles / 10, w,
        z.window);
  auto bres =
      drive(self, gb, drive_kind::batched_cycle, 0, z.lifecycle_cycles * 2, w, z.window);
  r.set("lifecycle_batched_events_per_s",
        static_cast<double>(bres.events) / bres.seconds);
}

void bench_latency(caf::scoped_actor& self, const sizes& z, const workload& w, results& r,
                   std::uint64_t rate, const std::string& prefix) {
  progress("latency: " + std::to_string(rate) + " pending_inbound/s for " +
           std::to_string(z.latency_seconds) + " s");
  rig g{self->system()};
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

/// Events per second of lifecycle cycles through a gate that already holds
/// `live` established connections (ids below 2^41).
double cycles_with_live(caf::scoped_actor& self, rig& g, const sizes& z,
                        const workload& w) {
  auto res = drive(self, g, drive_kind::cycle, 1ULL << 42, z.scaling_cycles, w, z.window);
  return static_cast<double>(res.events) / res.seconds;
}

void bench_memory_and_scaling(caf::scoped_actor& self, const sizes& z, results& r) {
  workload w{z.memory_peers};
  double small = 0;
  {
    progress("scaling: " + std::to_string(z.scaling_small) + " live connections");
    rig g{self->system()};
    drive(self, g, drive_kind::open, 1ULL << 41, z.scaling_small, w, z.window);
    drive(self, g, drive_kind::cycle, 1ULL << 43, z.scaling_cycles / 10, w, z.window);
    small = cycles_with_live(self, g, z, w);
  }
  progress("memory: " + std::to_string(z.memory_conns) + " established over " +
           std::to_string(w.peers.size()) + " peers");
  rig g{self->system()};
  g.drain(self);
  auto rss0 = trimmed_rss();
  auto opened = drive(self, g, drive_kind::open, 1ULL << 41, z.memory_conns, w, z.window);
  auto counts = g.tracker_counts(self);
  auto rss1 = trimmed_rss();
  if (counts.established_inbound != z.memory_conns)
    std::cerr << "rcmgr-bench: the tracker holds " << counts.established_inbound
              << " connections, expected " << z.memory_conns << "\n";
  r.set("bytes_per_connection",
        static_cast<double>(rss1 - rss0) / static_cast<double>(z.memory_conns));
  r.set_int("bytes_per_connection_n", z.memory_conns);
  r.set_int("bytes_per_connection_peers", w.peers.size());
  r.set("open_events_per_s", static_cast<double>(opened.events) / opened.seconds);
  if (z.scaling_large == z.memory_conns) {
    progress("scaling: " + std::to_string(z.scaling_large) + " live connections");
    drive(self, g, drive_kind::cycle, 1ULL << 43, z.scaling_cycles / 10, w, z.window);
    auto large = cycles_with_live(self, g, z, w);
    r.set("scaling_cost_ratio", small / large);
    r.set_int("scaling_live_small", z.scaling_small);
    r.set_int("scaling_live_large", z.scaling_large);
  }
}

void bench_churn(caf::scoped_actor& self, const sizes& z, const workload& w, results& r) {
  progress("churn: " + std::to_string(z.churn_rounds) +
           " rounds of open-all/close-all of " + std::to_string(z.churn_conns));
  rig g{self->system()};
  std::uint64_t first_round = 0, last_round = 0;
  for (int round = 0; round < z.churn_rounds; ++round) {
    // Fresh ids every round, as a node hands them out.
    connection_id base = (1ULL << 44) + static_cast<std::uint64_t>(round) * z.churn_conns;
    drive(self, g, drive_kind::open, base, z.churn_conns, w, z.window);
    drive(self, g, drive_kind::close, base, z.churn_conns, w, z.window);
    auto rss = rss_bytes(); // what the process holds, free lists included
    if (round == 0)
      first_round = rss;
    last_round = rss;
  }
  r.set("churn_rss_growth_ratio",
        static_cast<double>(last_round) / static_cast<double>(first_round));
  r.set_int("churn_conns", z.churn_conns);
  r.set_int("churn_rounds", static_cast<std::uint64_t>(z.churn_rounds));
}

void bench_dump(caf::scoped_actor& self, const sizes& z, const workload& w, results& r) {
  progress("dump: " + std::to_string(z.dump_conns) + " connections");
  rig g{self->system()};
  drive(self, g, drive_kind::open, 0, z.dump_conns, w, z.window);
  auto dumper =
      spawn_state_dump(self->system(), {{"gate", g.gate}, {"tracker", g.tracker}},
                       state_dump_options{std::chrono::milliseconds(60000)});
  std::vector<double> ms;
  std::size_t bytes = 0;
  bool complete = true;
  for (int i = 0; i < z.dump_repeats; ++i) {
    auto t0 = steady::now();
    self->request(dumper, caf::infinite, dump_atom::value)
        .receive(
            [&](const std::string& text) {
              ms.push_back(seconds_since(t0) * 1000.0);
              bytes = text.size();
              auto doc = nlohmann::json::parse(text, nullptr, false);
              if (doc.is_discarded() ||
                  (doc.contains("missing") && !doc["missing"].empty()))
                complete = false;
            },
            [&](caf::error& e) {
              std::cerr << "rcmgr-bench: dump failed: " << self->system().render(e)
                        << "\n";
            });
  }
  caf::anon_send_exit(dumper, caf::exit_reason::user_shutdown);
  if (ms.empty())
    return;
  if (!complete)
    std::cerr << "rcmgr-bench: the dump was incomplete\n";
  std::sort(ms.begin(), ms.end());
  r.set("dump_ms_100k", ms[ms.size() / 2]);
  r.set_int("dump_conns", z.dump_conns);
  r.set_int("dump_bytes", bytes);
}

#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
struct rate_params {
  rate_limiter_actor limiter;
  std::uint64_t count = 0; // checks
  std::uint64_t batch = 0; // 0: one protocol_message per request
  std::uint64_t window = 256;
  const workload* w = nullptr;
  std::shared_ptr<drive_result> out;
  caf::actor reply_to;
};

struct rate_state {
  rate_params p;
  std::uint64_t next = 0;
  std::uint64_t inflight = 0;
  steady::time_point start;
  static inline const char* name = "rcmgr-bench.rate";
};

using rate_self = caf::stateful_actor<rate_state>*;

protocol_message check_message(const workload& w, std::uint64_t i) {
  return protocol_message{i, w.peer(i), "/bench/1", 1};
}

void rate_launch(rate_self self);

void rate_done(rate_self self, std::uint64_t n) {
  auto& st = self->state;
  st.p.out->events += n;
  --st.inflight;
  if (st.next < st.p.count) {
    rate_launch(self);
  } else if (st.inflight == 0) {
    st.p.out->seconds = seconds_since(st.start);
    self->send(st.p.reply_to, done_atom::value);
    self->quit();
  }
}

void rate_launch(rate_self self) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  ++st.inflight;
  auto fail = [self](caf::error&) {
    ++self->state.p.out->errors;
    rate_done(self, 0);
  };
  if (st.p.batch == 0) {
    self->request(st.p.limiter, caf::infinite, check_message(w, st.next++))
        .then(
            [self](const verdict& v) {
              if (!v.allowed())
                ++self->state.p.out->unexpected;
              rate_done(self, 1);
            },
            fail);
    return;
  }
  protocol_batch b;
  auto n = std::min(st.p.batch, st.p.count - st.next);
  b.messages.reserve(n);
  for (std::uint64_t k = 0; k < n; ++k)
    b.messages.push_back(check_message(w, st.next++));
  self->request(st.p.limiter, caf::infinite, std::move(b))
      .then(
          [self](const std::vector<verdict>& vs) {
            for (auto& v : vs)
              if (!v.allowed())
                ++self->state.p.out->unexpected;
            rate_done(self, vs.size());
          },
          fail);
}

caf::behavior rate_impl(rate_self self, rate_params p) {
  self->state.p = p;
  self->state.start = steady::now();
  auto per = std::max<std::uint64_t>(p.batch, 1);
  auto slots = std::max<std::uint64_t>(p.window / per, 4);
  for (std::uint64_t i = 0; i < slots && self->state.next < p.count; ++i)
    rate_launch(self);
  return {[](pace_atom) {}};
}

void bench_rate(caf::scoped_actor& self, const sizes& z, results& r) {
  progress("rate limiter: protocol_message checks over " + std::to_string(z.rate_peers) +
           " peers");
  workload w{z.rate_peers};
  rate_limits_config cfg;
  // Generous buckets: every check passes, so the figure is the bookkeeping
  // (a per-peer bucket for each of the peers), not the denial path.
  protocol_rate_config rule;
  rule.protocol = "/bench/1";
  rule.total = bucket_config{1e9, 1000000000};
  rule.per_peer = bucket_config{1e6, 1000000};
  cfg.protocols.push_back(rule);
  cfg.max_tracked_peers = std::max<std::uint64_t>(z.rate_peers, 100000);
  auto run = [&](std::uint64_t batch) {
    auto limiter = spawn_rate_limiter(self->system(), cfg);
    auto out = std::make_shared<drive_result>();
    rate_params p;
    p.limiter = limiter;
    p.count = z.rate_checks;
    p.batch = batch;
    p.window = z.window;
    p.w = &w;
    p.out = out;
    p.reply_to = caf::actor_cast<caf::actor>(self);
    auto client = self->system().spawn(rate_impl, p);
    if (!wait_done(self, wait_limit)) {
      std::cerr << "rcmgr-bench: the rate client timed out\n";
      caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(limiter, caf::exit_reason::user_shutdown);
    auto res = *out;
    if (res.errors || res.unexpected)
      std::cerr << "rcmgr-bench: rate: " << res.errors << " errors, " << res.unexpected
                << " denials\n";
    return static_cast<double>(res.events) / res.seconds;
  };
  r.set("rate_checks_per_s", run(0));
  r.set("rate_checks_batched_per_s", run(z.rate_batch));
}
#endif

// -- the report
// ----------------------------------------------------------------------------

struct row {
  const char* key;
  const char* target; // "" = report only
  std::function<bool(double)> meets;
};

std::string fmt(double v) {
  std::ostringstream out;
  if (v >= 1000)
    out << std::fixed << std::setprecision(0) << v;
  else if (v >= 10)
    out << std::fixed << std::setprecision(1) << v;
  else
    out << std::fixed << std::setprecision(3) << v;
  return out.str();
}

void print_table(const results& r, const sizes& z) {
  std::vector<row> rows = {
      {"lifecycle_events_per_s", ">= 2000000", [](double v) { return v >= 2e6; }},
      {"lifecycle_batched_events_per_s", ">= 8000000", [](double v) { return v >= 8e6; }},
      {"core_direct_events_per_s", "", nullptr},
      {"lifecycle_vs_core_ratio", "", nullptr},
      {"lifecycle_batched_vs_core_ratio", ">= 0.5", [](double v) { return v >= 0.5; }},
      {"admission_latency_p50_us", "", nullptr},
      {"admission_latency_p99_us", "<= 20", [](double v) { return v <= 20; }},
      {"admission_latency_p999_us", "", nullptr},
      {"admission_latency_achieved_per_s", "", nullptr},
      {"admission_latency_10k_p50_us", "", nullptr},
      {"admission_latency_10k_p99_us", "", nullptr},
      {"admission_latency_10k_p999_us", "", nullptr},
      {"bytes_per_connection", "<= 200", [](double v) { return v <= 200; }},
      {"bytes_per_connection_core", "", nullptr},
      {"churn_rss_growth_ratio", "<= 1.05", [](double v) { return v <= 1.05; }},
      {"scaling_cost_ratio", "<= 1.5", [](double v) { return v <= 1.5; }},
      {"scaling_cost_ratio_core", "<= 1.5", [](double v) { return v <= 1.5; }},
      {"dump_ms_100k", "<= 100", [](double v) { return v <= 100; }},
      {"rate_checks_per_s", "", nullptr},
      {"rate_checks_batched_per_s", "", nullptr},
      {"accept_ratio_vs_bare_asio", ">= 0.9", [](double v) { return v >= 0.9; }},
  };
  std::cout << "rcmgr-bench (" << z.mode << ", " << std::thread::hardware_concurrency()
            << " cores, 2 CAF workers)\n\n";
  std::cout << "| key | value | target | status |\n|---|---:|---|---|\n";
  for (auto& row : rows) {
    auto v = r.get(row.key);
    if (!v) {
      bool named = std::any_of(r.missing.begin(), r.missing.end(),
                               [&](auto& m) { return m.first == row.key; });
      if (named)
        std::cout << "| `" << row.key << "` | - | "
                  << (*row.target ? row.target : "report") << " | missing |\n";
      continue;
    }
    std::string status = "report";
    if (row.meets)
      status = row.meets(*v) ? "met" : "**missed**";
    std::cout << "| `" << row.key << "` | " << fmt(*v) << " | "
              << (*row.target ? row.target : "report") << " | " << status << " |\n";
  }
  std::cout << "\nsizes:";
  for (auto& [k, v] : r.json.items())
    if (k.find("_n") != std::string::npos || k.find("conns") != std::string::npos ||
        k.find("rounds") != std::string::npos || k.find("live_") != std::string::npos ||
        k.find("peers") != std::string::npos)
      std::cout << " " << k << "=" << v.dump();
  std::cout << "\n";
  if (!r.missing.empty()) {
    std::cout << "\nmissing keys:\n";
    for (auto& [k, why] : r.missing)
      std::cout << "  " << k << ": " << why << "\n";
  }
}

int usage(const std::string& why) {
  std::cerr
      << "rcmgr-bench: " << why << "\n"
      << "usage: rcmgr-bench [--quick | --tiny] [--json FILE] [--only SECTIONS]\n"
      << "  --quick   every measurement, scaled to finish in under 60 s on 2 cores\n"
      << "  --tiny    a few seconds, for the smoke test (figures are not meaningful)\n"
      << "  --json    also write one flat JSON object to FILE\n"
      << "  --only    comma-separated subset of: core,lifecycle,latency,memory,churn,"
         "dump,rate\n";
  return 2;
}

const std::vector<std::string> all_sections = {"core",  "lifecycle", "latency", "memory",
                                               "churn", "dump",      "rate"};

} // namespace

int main(int argc, char** argv) {
  std::optional<sizes> z;
  std::string json_file;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage("measures what the resource actors cost (issue 6)");
      return 0;
    } else if (arg == "--quick" || arg == "--tiny") {
      if (z)
        return usage("give at most one of --quick and --tiny");
      z = arg == "--quick" ? quick_sizes() : tiny_sizes();
    } else if (arg == "--json") {
      if (i + 1 >= argc || std::string{argv[i + 1]}.rfind("--", 0) == 0)
        return usage("--json needs a file name");
      json_file = argv[++i];
    } else if (arg.rfind("--json=", 0) == 0 && arg.size() > 7) {
      json_file = arg.substr(7);
    } else if (arg == "--only" || arg.rfind("--only=", 0) == 0) {
      std::string list;
      if (arg == "--only") {
        if (i + 1 >= argc)
          return usage("--only needs a list of sections");
        list = argv[++i];
      } else {
        list = arg.substr(7);
      }
      std::stringstream in{list};
      for (std::string s; std::getline(in, s, ',');) {
        if (std::find(all_sections.begin(), all_sections.end(), s) == all_sections.end())
          return usage("unknown section '" + s + "' in --only");
        only.push_back(s);
      }
      if (only.empty())
        return usage("--only needs a list of sections");
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  if (!z)
    z = full_sizes();
  wait_limit = std::chrono::seconds(z->mode == "full" ? 600 : 60);
  if (only.empty())
    only = all_sections;
  auto wants = [&](const char* s) {
    return std::find(only.begin(), only.end(), s) != only.end();
  };
  std::ofstream json_out;
  if (!json_file.empty()) {
    json_out.open(json_file);
    if (!json_out) {
      std::cerr << "rcmgr-bench: cannot write " << json_file << "\n";
      return 2;
    }
  }

  results r;
  r.json["mode"] = z->mode;
  r.json["cores"] = std::thread::hardware_concurrency();
  r.json["caf_workers"] = 2;
  r.set("load_avg_1m_start", load_average());
  auto t_start = steady::now();
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    workload w{z->memory_peers};
    auto skipped = [&](const char* section, std::vector<const char*> keys) {
      if (!wants(section))
        for (auto k : keys)
          r.miss(k, std::string{"skipped (--only without "} + section + ")");
    };
    if (wants("core"))
      bench_core(*z, w, r);
    skipped("core", {"core_direct_events_per_s", "scaling_cost_ratio_core"});
    if (wants("lifecycle"))
      bench_lifecycle(self, *z, w, r);
    skipped("lifecycle", {"lifecycle_events_per_s", "lifecycle_batched_events_per_s"});
    if (wants("latency")) {
      bench_latency(self, *z, w, r, z->latency_rate, "admission_latency");
      // The same at a tenth of the load: the latency of an unloaded gate.
      bench_latency(self, *z, w, r, z->latency_rate / 10, "admission_latency_10k");
    }
    skipped("latency", {"admission_latency_p50_us", "admission_latency_p99_us",
                        "admission_latency_p999_us"});
    if (wants("memory"))
      bench_memory_and_scaling(self, *z, r);
    skipped("memory", {"bytes_per_connection", "scaling_cost_ratio"});
    if (wants("churn"))
      bench_churn(self, *z, w, r);
    skipped("churn", {"churn_rss_growth_ratio"});
    if (wants("dump"))
      bench_dump(self, *z, w, r);
    skipped("dump", {"dump_ms_100k"});
#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
    if (wants("rate"))
      bench_rate(self, *z, r);
    skipped("rate", {"rate_checks_per_s", "rate_checks_batched_per_s"});
#else
    r.miss("rate_checks_per_s", "actors/rate_limiter_actor.cpp has not landed");
    r.miss("rate_checks_batched_per_s", "actors/rate_limiter_actor.cpp has not landed");
#endif
  } // every actor has quit; the system is gone
  r.miss("accept_ratio_vs_bare_asio", "net/ offers no governed acceptor yet");
  auto lc = r.get("lifecycle_events_per_s");
  auto core = r.get("core_direct_events_per_s");
  if (lc && core)
    r.set("lifecycle_vs_core_ratio", *lc / *core);
  else
    r.miss("lifecycle_vs_core_ratio", "needs lifecycle and core");
  auto lcb = r.get("lifecycle_batched_events_per_s");
  if (lcb && core)
    r.set("lifecycle_batched_vs_core_ratio", *lcb / *core);
  else
    r.miss("lifecycle_batched_vs_core_ratio", "needs lifecycle and core");
  r.set("total_seconds", seconds_since(t_start));
  r.set("cpu_seconds", cpu_seconds());
  r.set("load_avg_1m_end", load_average());

  std::string missing_list;
  for (auto& [k, why] : r.missing)
    missing_list += (missing_list.empty() ? "" : ",") + k;
  r.json["missing_keys"] = missing_list;
  print_table(r, *z);
  std::cout << "total: " << fmt(seconds_since(t_start)) << " s wall, "
            << fmt(cpu_seconds()) << " s cpu; load average "
            << fmt(*r.get("load_avg_1m_start")) << " -> " << fmt(load_average()) << "\n";
  if (json_out.is_open()) {
    json_out << r.json.dump(2) << "\n";
    if (!json_out) {
      std::cerr << "rcmgr-bench: cannot write " << json_file << "\n";
      return 1;
    }
  }
  return 0;
}
