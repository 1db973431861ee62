// rcmgr-bench phase: how long a message from outside CAF waits for a worker,
// with nothing else running and behind a long job.
//
// A plain thread, as a node's io thread does, sends a time stamp every 500 us
// to a relay actor, which hands it to a sink that takes the time: two hops,
// the path of an event from the net layer through the bridge to the gate.
// First alone, then while a third actor takes a job of 50 ms every 100 ms on
// one of the workers (a state dump of 100,000 connections is such a job). What
// the second window adds is how soon the idle worker takes what waits behind
// the job, which CAF's work-stealing settings decide (docs/benchmarks.md).
#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "phases.hpp"

namespace rcmgr::bench {

namespace {

using burn_atom = caf::atom_constant<caf::atom("burn")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

constexpr auto send_interval = std::chrono::microseconds(500);
constexpr auto job_length = std::chrono::milliseconds(50);
constexpr auto job_interval = std::chrono::milliseconds(100);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady::now().time_since_epoch())
      .count();
}

struct sink_state {
  std::vector<std::int64_t> waits_ns;
  static inline const char* name = "rcmgr-bench.stall_sink";
};

/// Takes the time of each stamp; on a flush, hands the waits to `reply_to`.
caf::behavior sink_impl(caf::stateful_actor<sink_state>* self, std::size_t expected) {
  self->state.waits_ns.reserve(expected);
  return {
      [self](std::int64_t sent) { self->state.waits_ns.push_back(now_ns() - sent); },
      [self](flush_atom, const caf::actor& reply_to) {
        self->send(reply_to, done_atom::value, std::move(self->state.waits_ns));
        self->state.waits_ns.clear();
      },
  };
}

/// Hands everything on to the sink, in order.
caf::behavior relay_impl(caf::event_based_actor* self, const caf::actor& sink) {
  return {
      [self, sink](std::int64_t sent) { self->send(sink, sent); },
      [self, sink](flush_atom f, const caf::actor& reply_to) {
        self->send(sink, f, reply_to);
      },
  };
}

/// Keeps its worker busy for the asked time.
caf::behavior job_impl(caf::event_based_actor*, int) {
  return {[](burn_atom, std::int64_t ms) {
    auto end = steady::now() + std::chrono::milliseconds(ms);
    while (steady::now() < end) {
    }
  }};
}

/// One window: stamps every `send_interval` for `seconds` from a plain
/// thread, and with `job` set a long job every `job_interval`; the waits.
std::vector<std::int64_t> window(caf::scoped_actor& self, double seconds,
                                 const caf::actor* job) {
  auto expected = static_cast<std::size_t>(seconds * 1e6 / send_interval.count()) + 1;
  auto sink = self->system().spawn(sink_impl, expected);
  auto relay = self->system().spawn(relay_impl, sink);
  auto me = caf::actor_cast<caf::actor>(self);
  std::thread sender{[&] {
    auto t0 = steady::now();
    auto end = t0 + std::chrono::duration_cast<steady::duration>(
                        std::chrono::duration<double>(seconds));
    auto next_job = t0;
    for (auto next = t0; next < end; next += send_interval) {
      std::this_thread::sleep_until(next); // pacing, as a node's traffic comes
      if (job != nullptr && steady::now() >= next_job) {
        caf::anon_send(*job, burn_atom::value,
                       static_cast<std::int64_t>(job_length.count()));
        next_job += job_interval;
      }
      caf::anon_send(relay, now_ns());
    }
    caf::anon_send(relay, flush_atom::value, me);
  }};
  sender.join();
  std::vector<std::int64_t> waits;
  self->receive([&](done_atom, std::vector<std::int64_t>& xs) { waits = std::move(xs); },
                caf::after(wait_limit) >>
                    [] { std::cerr << "rcmgr-bench: stall: the sink did not answer\n"; });
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  std::sort(waits.begin(), waits.end());
  return waits;
}

double percentile_us(const std::vector<std::int64_t>& sorted, double q) {
  auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[i]) / 1000.0;
}

} // namespace

void bench_stall(caf::scoped_actor& self, const sizes& z, results& r) {
  progress("stall: a message every 500 us from a plain thread through two actors, " +
           std::to_string(z.stall_seconds) + " s alone");
  auto alone = window(self, z.stall_seconds, nullptr);
  progress("stall: the same with a 50 ms job every 100 ms on a worker");
  auto job = self->system().spawn(job_impl, 0);
  auto behind = window(self, z.stall_seconds, &job);
  caf::anon_send_exit(job, caf::exit_reason::user_shutdown);
  if (alone.empty() || behind.empty()) {
    for (auto key : stall_keys)
      r.miss(key, "the sink did not answer");
    return;
  }
  r.set("io_message_p50_us", percentile_us(alone, 0.5));
  r.set("io_message_p99_us", percentile_us(alone, 0.99));
  r.set("io_message_long_job_p50_us", percentile_us(behind, 0.5));
  r.set("io_message_long_job_p99_us", percentile_us(behind, 0.99));
  r.set("io_message_long_job_max_us", static_cast<double>(behind.back()) / 1000.0);
  r.set_int("io_message_n", alone.size() + behind.size());
}

} // namespace rcmgr::bench
