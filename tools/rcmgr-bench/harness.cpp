// rcmgr-bench's harness (harness.hpp): sizes, workload, memory and time,
// the rig and the windowed lifecycle clients.
#include "harness.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include "actors/gate/gate_actor.hpp"
#include "actors/runtime.hpp"
#include "actors/tracker/tracker_actor.hpp"

namespace rcmgr::bench {

// -- sizes of each mode ---------------------------------------------------------

sizes full_sizes() {
  sizes s;
  s.mode = "full";
  s.core_cycles = 3000000;
  s.lifecycle_cycles = 1000000;
  s.latency_seconds = 10;
  s.stall_seconds = 3;
  s.memory_conns = 1000000;
  s.scaling_large = 1000000;
  s.scaling_cycles = 300000;
  s.scaling_core_cycles = 2000000;
  s.churn_conns = 1000000;
  s.dump_conns = 100000;
  s.rate_checks = 2000000;
  s.accept_cycles = 20000;
  s.accept_rounds = 8;
  s.scope_cycles = 2000000;
  s.scope_streams = 1000000;
  s.ip_checks = 2000000;
  s.allowlist_lookups = 5000000;
  return s;
}

sizes quick_sizes() {
  sizes s;
  s.mode = "quick";
  s.core_cycles = 1000000;
  s.lifecycle_cycles = 100000;
  s.latency_seconds = 2;
  s.stall_seconds = 2;
  s.memory_conns = 200000;
  s.scaling_large = 200000; // reuses the memory phase's live connections
  s.scaling_cycles = 30000;
  s.scaling_core_cycles = 500000;
  s.churn_conns = 20000;
  s.dump_conns = 100000;
  s.rate_checks = 50000;
  s.accept_cycles = 16000; // 8 rounds: the ratio moved 0.52-0.69 with 4 x 1,000
  s.accept_rounds = 8;
  s.scope_cycles = 500000;
  s.scope_streams = 1000000;
  s.ip_checks = 500000;
  s.allowlist_lookups = 1000000;
  return s;
}

sizes tiny_sizes() {
  sizes s;
  s.mode = "tiny";
  s.core_cycles = 20000;
  s.lifecycle_cycles = 5000;
  s.latency_seconds = 0.3;
  s.stall_seconds = 0.3;
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
  s.accept_cycles = 100;
  s.accept_rounds = 2;
  s.scope_cycles = 20000;
  s.scope_peers = 1000;
  s.scope_streams = 20000;
  s.ip_live = 2000;
  s.ip_checks = 10000;
  s.allowlist_entries = 2000;
  s.allowlist_lookups = 10000;
  return s;
}

// -- the workload: realistic ids and addresses, built once -----------------------

stream_names::stream_names(std::uint64_t num_protocols, std::uint64_t num_services) {
  for (std::uint64_t i = 0; i < num_protocols; ++i)
    protocols.push_back("/bench/proto-" + std::to_string(i) + "/1.0.0");
  for (std::uint64_t i = 0; i < num_services; ++i)
    services.push_back("bench-service-" + std::to_string(i));
}

workload::workload(std::size_t num_peers) {
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

// -- process memory and time ---------------------------------------------------------

std::uint64_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t trimmed_rss() {
  malloc_trim(0);
  return rss_bytes();
}

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

std::uint64_t context_switches() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_nvcsw) + static_cast<std::uint64_t>(u.ru_nivcsw);
}

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- one gate with its tracker and the extra subscriber ------------------------------

namespace {

struct counter_state {
  std::uint64_t seen = 0;
  static inline const char* name = "rcmgr-bench.counter";
};

caf::behavior counter_impl(caf::stateful_actor<counter_state>* self,
                           int /* CAF 0.17 wants an argument */) {
  // Any other message (another form of outcome the gate may publish, such as
  // a batch) counts as one: the count serves the drain's round trip only.
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
        ++self->state.seen;
        return caf::message{};
      });
  return {
      [self](const admitted&) { ++self->state.seen; },
      [self](const denied&) { ++self->state.seen; },
      [self](const released&) { ++self->state.seen; },
      [self](get_atom, counts_atom) -> std::uint64_t { return self->state.seen; },
  };
}

/// The messaging floor: the lifecycle messages the clients send, each
/// answered at once with the verdict the gate would give (allow, or ok for a
/// close), with no core, no outcome and no subscriber. Dynamically typed: it
/// stands in for the gate through `actor_cast`, and only the messages the
/// clients send reach it.
caf::behavior echo_impl(caf::event_based_actor* self,
                        int /* CAF 0.17 wants an argument */) {
  // Each one-way form beside its request form, as in the gate.
  return {
      [self](oneway<pending_inbound>& x) {
        self->send(x.reply_to, event_verdict{x.id, verdict::allow()});
      },
      [](pending_inbound&) { return verdict::allow(); },
      [self](oneway<established_inbound>& x) {
        self->send(x.reply_to, event_verdict{x.id, verdict::allow()});
      },
      [](established_inbound&) { return verdict::allow(); },
      [self](oneway<connection_closed>& x) {
        self->send(x.reply_to, event_verdict{x.id, verdict::ok()});
      },
      [](connection_closed&) { return verdict::ok(); },
      [](lifecycle_batch& b) { return echo_verdicts(b).to_vector(); },
      [self](oneway_batch& ow) {
        self->send(ow.reply_to, batch_verdicts{ow.id, echo_verdicts(ow.batch)});
      },
      [](get_atom, counts_atom) { return admission_counts{}; },
  };
}

} // namespace

verdict_list echo_verdicts(const lifecycle_batch& b) {
  verdict_list vs;
  vs.reserve(b.events.size());
  for (auto& e : b.events)
    vs.push_plain(e.kind == event_kind::connection_closed ? verdict_kind::ok
                                                          : verdict_kind::allow);
  return vs;
}

rig::rig(caf::actor_system& s, rig_kind kind) : sys(s) {
  if (kind == rig_kind::echo) {
    gate = caf::actor_cast<gate_actor>(sys.spawn(echo_impl, 0));
    return;
  }
  gate = spawn_gate(sys, node_config{}); // no limits: every event is allowed
  tracker = spawn_tracker(sys, tracker_options{});
  counter = sys.spawn(counter_impl, 0);
  caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{tracker});
  caf::anon_send(gate, subscribe_atom::value,
                 caf::actor_cast<lifecycle_listener>(counter));
}

rig::rig(caf::actor_system& s, const node_config& cfg, gate_options opts) : sys(s) {
  gate = spawn_gate(sys, cfg, std::move(opts));
  tracker = spawn_tracker(sys, tracker_options{});
  counter = sys.spawn(counter_impl, 0);
  caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{tracker});
  caf::anon_send(gate, subscribe_atom::value,
                 caf::actor_cast<lifecycle_listener>(counter));
}

rig::~rig() {
  caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
  if (tracker)
    caf::anon_send_exit(tracker, caf::exit_reason::user_shutdown);
  if (counter)
    caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
}

bool rig::drain(caf::scoped_actor& self) {
  bool ok = true;
  auto fail = [&](caf::error& e) {
    std::cerr << "rcmgr-bench: drain failed: " << self->system().render(e) << "\n";
    ok = false;
  };
  self->request(gate, caf::infinite, get_atom::value, counts_atom::value)
      .receive([](const admission_counts&) {}, fail);
  if (tracker)
    self->request(tracker, caf::infinite, get_atom::value, counts_atom::value)
        .receive([](const admission_counts&) {}, fail);
  if (counter)
    self->request(counter, caf::infinite, get_atom::value, counts_atom::value)
        .receive([](std::uint64_t) {}, fail);
  return ok;
}

admission_counts rig::tracker_counts(caf::scoped_actor& self) {
  admission_counts out;
  self->request(tracker, caf::infinite, get_atom::value, counts_atom::value)
      .receive([&](const admission_counts& c) { out = c; }, [](caf::error&) {});
  return out;
}

// -- the windowed lifecycle client ----------------------------------------------------

namespace {

struct drive_params {
  drive_kind kind = drive_kind::cycle;
  gate_actor gate;
  connection_id first = 0;
  std::uint64_t count = 0; // connections
  std::uint64_t window = 256;
  const workload* w = nullptr;
  std::shared_ptr<drive_result> out; // shared: a timed-out client may still write
  caf::actor reply_to;
  const stream_names* names = nullptr; // the stream kinds
};

struct drive_state {
  drive_params p;
  verdict_listener me; // the reply-to handle of the one-way events
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

void note_kind(drive_result& out, verdict_kind k) {
  ++out.events;
  if (k != verdict_kind::allow && k != verdict_kind::ok)
    ++out.unexpected;
}

void note_in(drive_result& out, const verdict& v) {
  note_kind(out, v.kind);
}

void note(drive_self self, const verdict& v) {
  note_in(*self->state.p.out, v);
}

void request_step(drive_self self, connection_id conn, std::uint64_t stage);

void on_request_verdict(drive_self self, connection_id conn, std::uint64_t stage,
                        const verdict& v) {
  note(self, v);
  if (self->state.p.kind == drive_kind::cycle && stage < 2)
    request_step(self, conn, stage + 1);
  else
    finish_one(self);
}

/// One request; its handlers capture the client and two integers only. (A
/// captured handle is a reference count touched by two threads, and the
/// response of the event before came with one more on the same count.)
template <class Event>
void request_event(drive_self self, connection_id conn, std::uint64_t stage, Event ev) {
  self->request(self->state.p.gate, caf::infinite, std::move(ev))
      .then([self, conn,
             stage](const verdict& v) { on_request_verdict(self, conn, stage, v); },
            [self](caf::error&) {
              ++self->state.p.out->errors;
              finish_one(self);
            });
}

/// Asks about stage `stage` (0 pending, 1 established, 2 closed) of `conn`.
void request_step(drive_self self, connection_id conn, std::uint64_t stage) {
  const auto& w = *self->state.p.w;
  if (stage == 0)
    request_event(self, conn, stage, pending_inbound{conn, w.local, w.remote(conn)});
  else if (stage == 1)
    request_event(self, conn, stage,
                  established_inbound{conn, w.peer(conn), w.local, w.remote(conn)});
  else
    request_event(self, conn, stage, connection_closed{conn, w.peer(conn), w.reason});
}

/// Sends stage `stage` (0 pending, 1 established, 2 closed) of `conn` one
/// way; the id carries both, so an answer needs no lookup.
void oneway_step(drive_self self, connection_id conn, std::uint64_t stage) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  auto id = conn * 4 + stage;
  if (stage == 0)
    self->send(st.p.gate, oneway<pending_inbound>{
                              id, st.me, pending_inbound{conn, w.local, w.remote(conn)}});
  else if (stage == 1)
    self->send(
        st.p.gate,
        oneway<established_inbound>{
            id, st.me, established_inbound{conn, w.peer(conn), w.local, w.remote(conn)}});
  else
    self->send(st.p.gate,
               oneway<connection_closed>{
                   id, st.me, connection_closed{conn, w.peer(conn), w.reason}});
}

void on_oneway_verdict(drive_self self, const event_verdict& a) {
  note(self, a.result);
  auto stage = a.id & 3;
  if (stage < 2)
    oneway_step(self, a.id >> 2, stage + 1);
  else
    finish_one(self);
}

void launch(drive_self self) {
  auto& st = self->state;
  auto conn = st.p.first + st.next++;
  ++st.inflight;
  switch (st.p.kind) {
  case drive_kind::open:
    request_step(self, conn, 1);
    break;
  case drive_kind::close:
    request_step(self, conn, 2);
    break;
  case drive_kind::oneway_cycle:
    oneway_step(self, conn, 0);
    break;
  case drive_kind::batched_cycle:        // driven by batcher_impl
  case drive_kind::stream_open:          // likewise
  case drive_kind::stream_batched_cycle: // likewise
  case drive_kind::cycle:
    request_step(self, conn, 0);
    break;
  }
}

caf::behavior driver_impl(drive_self self, drive_params p) {
  self->state.p = p;
  self->state.me = caf::actor_cast<verdict_listener>(self);
  self->state.start = steady::now();
  if (p.count == 0) {
    self->send(p.reply_to, done_atom::value);
    self->quit();
    return {};
  }
  for (std::uint64_t i = 0; i < p.window && i < p.count; ++i)
    launch(self);
  return {
      [](pace_atom) {},
      [self](const event_verdict& a) { on_oneway_verdict(self, a); },
  };
}

} // namespace

std::uint64_t write_stream_batch(lifecycle_batch& b, const workload& w,
                                 const stream_names& names, stream_id first,
                                 std::uint64_t index, std::uint64_t count, bool cycle) {
  batch_writer out{b};
  auto n = std::min(stream_cycles_per_batch, count - index);
  b.events.reserve((cycle ? 6 : 3) * n);
  // Room for each stream's peer, protocol and service (the last names are
  // the longest), as the connection client reserves its texts.
  b.texts.reserve(3 * n, n * (w.peers.front().size() + names.protocols.back().size() +
                              names.services.back().size()));
  for (std::uint64_t k = 0; k < n; ++k, ++index) {
    auto id = first + index;
    auto peer = index % w.peers.size();
    out.add_stream_opened(id, w.peers[peer], direction::inbound, std::nullopt);
    out.add_stream_protocol(id, names.protocol(peer));
    out.add_stream_service(id, names.service(peer));
    if (cycle) {
      holder_ref stream{holder_ref::kind_t::stream, id};
      out.add_reserve_memory(stream, stream_reservation);
      out.add_release_memory(stream, stream_reservation);
      out.add_stream_closed(id);
    }
  }
  return n;
}

namespace {

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

/// Whether the client's batches are stream cycles or openings (sent one way)
/// rather than connection cycles (sent as requests).
bool streams(drive_kind k) {
  return k == drive_kind::stream_open || k == drive_kind::stream_batched_cycle;
}

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

/// Stream cycles (or, for stream_open, openings) of streams first + next ...
/// into `b`; returns how many streams.
std::uint64_t write_streams(batch_state& st, lifecycle_batch& b) {
  auto n = write_stream_batch(b, *st.p.w, *st.p.names, st.p.first, st.next, st.p.count,
                              st.p.kind == drive_kind::stream_batched_cycle);
  st.next += n;
  return n;
}

/// One batch to the gate; its verdicts are counted when they come.
void send_batch(batch_self self, lifecycle_batch b) {
  ++self->state.inflight;
  self->request(self->state.p.gate, caf::infinite, std::move(b))
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

/// One batch to the gate one way, as a node's net layer sends its batches
/// (net/gate_channel.hpp); its verdicts come back as `batch_verdicts`.
void send_oneway_batch(batch_self self, lifecycle_batch b) {
  ++self->state.inflight;
  self->send(
      self->state.p.gate,
      oneway_batch{0, caf::actor_cast<batch_verdict_listener>(self), std::move(b)});
}

void batch_launch(batch_self self) {
  auto& st = self->state;
  const auto& w = *st.p.w;
  lifecycle_batch b;
  if (streams(st.p.kind)) {
    write_streams(st, b);
    send_oneway_batch(self, std::move(b));
    return;
  }
  batch_writer out{b};
  auto n = std::min(conns_per_batch, st.p.count - st.next);
  b.events.reserve(3 * n);
  // Each connection names its peer and its remote address once (the last
  // remote is the longest); the local address and the reason are shared.
  b.texts.reserve(2 * n + 2, n * (w.peers.front().size() + w.remotes.back().size()) +
                                 w.local.size() + w.reason.size());
  b.lists.reserve(2 * n);
  for (std::uint64_t k = 0; k < n; ++k) {
    auto conn = st.p.first + st.next++;
    const auto& peer = w.peer(conn);
    text_list remote{&w.remote(conn), 1};
    out.add(event_kind::pending_inbound, conn, {}, w.local, remote, {});
    out.add(event_kind::established_inbound, conn, peer, w.local, remote, {});
    out.add(event_kind::connection_closed, conn, peer, {}, {}, w.reason);
  }
  send_batch(self, std::move(b));
}

caf::behavior batcher_impl(batch_self self, drive_params p) {
  self->state.p = p;
  if (streams(p.kind)) {
    // One-way batches get no error when the gate is gone: each batch then in
    // flight is one, and the client is done rather than waiting its limit out.
    self->monitor(p.gate);
    self->set_down_handler([self](const caf::down_msg&) {
      auto& st = self->state;
      st.p.out->errors += st.inflight;
      self->send(st.p.reply_to, done_atom::value);
      self->quit();
    });
  }
  auto per_batch = streams(p.kind) ? 6 * stream_cycles_per_batch : 3 * conns_per_batch;
  auto slots = std::max<std::uint64_t>(p.window / per_batch, 1);
  for (std::uint64_t i = 0; i < slots && self->state.next < p.count; ++i)
    batch_launch(self);
  if (self->state.inflight == 0) {
    self->send(p.reply_to, done_atom::value);
    self->quit();
  }
  return {[](pace_atom) {},
          [self](const batch_verdicts& bv) {
            for (std::size_t k = 0; k < bv.results.size(); ++k)
              note_kind(*self->state.p.out, bv.results.kind(k));
            batch_finished(self);
          }};
}

} // namespace

std::chrono::seconds wait_limit{600};

std::vector<std::string> caf_options;

caf::error configure_bench_system(caf::actor_system_config& cfg, std::size_t workers) {
  cfg.set("scheduler.max-threads", workers);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  use_node_scheduler(cfg); // as peer-node runs; the options below still win
  if (caf_options.empty())
    return caf::none;
  // No .ini file: the command line alone.
  std::istringstream no_file;
  return cfg.parse(caf_options, no_file);
}

std::string work_stealing_settings(const caf::actor_system_config& cfg) {
  namespace ws = caf::defaults::work_stealing;
  auto count = [&](const char* key, std::size_t fallback) {
    return std::string{key} + "=" +
           std::to_string(
               caf::get_or(cfg, std::string{"work-stealing."} + key, fallback));
  };
  auto us = [&](const char* key, caf::timespan fallback) {
    auto t = caf::get_or(cfg, std::string{"work-stealing."} + key, fallback);
    return std::string{key} + "-us=" +
           std::to_string(
               std::chrono::duration_cast<std::chrono::microseconds>(t).count());
  };
  return count("aggressive-poll-attempts", ws::aggressive_poll_attempts) + "," +
         count("aggressive-steal-interval", ws::aggressive_steal_interval) + "," +
         count("moderate-poll-attempts", ws::moderate_poll_attempts) + "," +
         count("moderate-steal-interval", ws::moderate_steal_interval) + "," +
         us("moderate-sleep-duration", ws::moderate_sleep_duration) + "," +
         count("relaxed-steal-interval", ws::relaxed_steal_interval) + "," +
         us("relaxed-sleep-duration", ws::relaxed_sleep_duration);
}

bool wait_done(caf::scoped_actor& self, std::chrono::seconds limit) {
  bool ok = true;
  auto t0 = steady::now();
  self->receive([](done_atom) {}, caf::after(limit) >> [&] { ok = false; });
  if (!ok)
    std::cerr << "rcmgr-bench: waited " << seconds_since(t0) << " s\n";
  return ok;
}

drive_result drive(caf::scoped_actor& self, rig& r, drive_kind kind, connection_id first,
                   std::uint64_t count, const workload& w, std::uint64_t window,
                   const stream_names* names) {
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
  p.names = names;
  auto t0 = steady::now();
  bool batched = kind == drive_kind::batched_cycle || kind == drive_kind::stream_open ||
                 kind == drive_kind::stream_batched_cycle;
  auto client = batched ? self->system().spawn(batcher_impl, p)
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

void progress(const std::string& what) {
  std::cerr << "rcmgr-bench: " << what << std::endl;
}

} // namespace rcmgr::bench
