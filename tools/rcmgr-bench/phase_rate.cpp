// rcmgr-bench phase: protocol_message checks through the rate limiter, one
// per request and in batches.
#include "phases.hpp"

#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/rate/rate_limiter_actor.hpp"

namespace rcmgr::bench {

namespace {

struct rate_params {
  rate_limiter_actor limiter;
  std::uint64_t count = 0; // checks
  std::uint64_t batch = 0; // 0: one protocol_message per request (or one way)
  bool oneway = false;     // single checks as oneway<protocol_message>
  std::uint64_t window = 256;
  const workload* w = nullptr;
  std::shared_ptr<drive_result> out;
  caf::actor reply_to;
};

struct rate_state {
  rate_params p;
  verdict_listener me; // the reply-to handle of the one-way checks
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
  if (st.p.oneway) {
    auto id = st.next++;
    self->send(st.p.limiter, oneway<protocol_message>{id, st.me, check_message(w, id)});
    return;
  }
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
  self->state.me = caf::actor_cast<verdict_listener>(self);
  self->state.start = steady::now();
  auto per = std::max<std::uint64_t>(p.batch, 1);
  auto slots = std::max<std::uint64_t>(p.window / per, 4);
  for (std::uint64_t i = 0; i < slots && self->state.next < p.count; ++i)
    rate_launch(self);
  return {
      [](pace_atom) {},
      [self](const event_verdict& a) {
        if (!a.result.allowed())
          ++self->state.p.out->unexpected;
        rate_done(self, 1);
      },
  };
}

} // namespace

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
  auto run = [&](std::uint64_t batch, bool oneway) {
    auto limiter = spawn_rate_limiter(self->system(), cfg);
    auto out = std::make_shared<drive_result>();
    rate_params p;
    p.limiter = limiter;
    p.count = z.rate_checks;
    p.batch = batch;
    p.oneway = oneway;
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
  r.set("rate_checks_per_s", run(0, true));
  r.set("rate_checks_request_per_s", run(0, false));
  r.set("rate_checks_batched_per_s", run(z.rate_batch, false));
}

} // namespace rcmgr::bench
#endif
