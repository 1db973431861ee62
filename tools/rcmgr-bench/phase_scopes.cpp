// rcmgr-bench phase: the scopes (DESIGN §6.1), on the core alone and through
// the gate. A stream cycle is six calls or events: open, protocol, service,
// reserve 4 KiB, release, close. Through the gate the cycles go in batches
// of 10 (60 events), sent one way as a node's net layer sends its batches
// (`oneway_batch`, answered with `batch_verdicts`), about 256 events in
// flight, with the tracker and the counter subscribed.
// Between the two, the same batches are decided by the gate's own code
// (gate_policy::decide_batch) in this thread, one after the other: what the
// gate's decisions cost without the actors around them; and the same client
// sends them to the messaging floor, which answers at once: what the actors
// cost without the decisions. Last, the same gate rounds in an actor system
// of one CAF worker, where the client and the gate take turns on one thread:
// what the two workers' sharing of the work costs (docs/benchmarks.md).
//
// Every limit is unlimited, so that nothing refuses: a limit costs the same
// comparison whatever its value. Before the timed cycles each peer holds one
// long-lived stream on its protocol and service, so that the peer, protocol,
// service and per-peer scopes a cycle enters already exist, as they do on a
// busy node; the cycles then measure the steady state.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/gate/gate_policy.hpp"
#include "actors/gate/scopes/resource_scopes.hpp"
#include "allocations.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

constexpr std::uint64_t services = 5;
constexpr std::uint64_t calls_per_cycle = 6;
// The first stream ids of the untimed tenth and of the timed cycles (the
// long-lived streams are 1 ... peers).
constexpr stream_id untimed_first = 1ull << 40;
constexpr stream_id timed_first = 1ull << 41;

scope_limit_config unlimited_limits() {
  scope_limits all;
  for (auto* x : {&all.streams, &all.streams_inbound, &all.streams_outbound, &all.conns,
                  &all.conns_inbound, &all.conns_outbound, &all.fd, &all.memory})
    *x = scope_unlimited;
  scope_limit_config cfg;
  for (auto* x :
       {&cfg.system, &cfg.transient, &cfg.allowlisted_system, &cfg.allowlisted_transient,
        &cfg.service_default, &cfg.service_peer_default, &cfg.protocol_default,
        &cfg.protocol_peer_default, &cfg.peer_default, &cfg.conn, &cfg.stream})
    *x = all;
  return cfg;
}

/// Stream `id` of peer `i % peers`, on that peer's protocol and service (the
/// peer count is a multiple of both counts, so a peer always has the same).
bool open_full(resource_scopes& s, stream_id id, std::uint64_t i, const workload& w,
               const stream_names& n, std::uint64_t num_peers) {
  auto p = i % num_peers;
  return s.open_stream(id, w.peers[p], direction::inbound, 0).allowed() &&
         s.set_stream_protocol(id, n.protocol(p)).allowed() &&
         s.set_stream_service(id, n.service(p)).allowed();
}

} // namespace

/// A config whose "scopes" document makes every limit unlimited.
node_config unlimited_scopes_config() {
  partial_scope_limits all;
  for (auto* x : {&all.streams, &all.streams_inbound, &all.streams_outbound, &all.conns,
                  &all.conns_inbound, &all.conns_outbound, &all.fd, &all.memory})
    x->kind = limit_value::form::unlimited;
  node_config cfg;
  cfg.has_scopes = true;
  auto& d = cfg.scopes;
  for (auto* x :
       {&d.system, &d.transient, &d.allowlisted_system, &d.allowlisted_transient,
        &d.service_default, &d.service_peer_default, &d.protocol_default,
        &d.protocol_peer_default, &d.peer_default, &d.conn, &d.stream})
    *x = all;
  return cfg;
}

namespace {

double median_of(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace

void bench_scopes(caf::scoped_actor& self, const sizes& z, results& r) {
  workload w{z.scope_peers};
  stream_names n{z.scope_protocols, services};
  std::uint64_t failed = 0;
  // The core and the gate alternate, three rounds each, and each reports its
  // median: a single core run reads 6-13 M ops/s on this 2-vCPU machine
  // depending on which vCPU runs it (docs/benchmarks.md).
  constexpr int rounds = 3;
  std::vector<double> core_rates;
  std::vector<double> batched_rates;
  std::uint64_t allocations = 0;
  double calls_measured = 0;
  auto core_round = [&](int round) {
    progress("scopes: " + std::to_string(z.scope_cycles) + " stream cycles over " +
             std::to_string(z.scope_peers) + " peers, " +
             std::to_string(z.scope_protocols) + " protocols, round " +
             std::to_string(round + 1) + " of " + std::to_string(rounds));
    resource_scopes s{unlimited_limits()};
    stream_id next = 1;
    for (std::uint64_t p = 0; p < z.scope_peers; ++p)
      failed += open_full(s, next++, p, w, n, z.scope_peers) ? 0 : 1;
    auto cycle = [&](std::uint64_t i) {
      auto id = next++;
      holder_ref h{holder_ref::kind_t::stream, id};
      if (!open_full(s, id, i, w, n, z.scope_peers) ||
          !s.reserve_memory(h, stream_reservation).allowed() ||
          s.release_memory(h, stream_reservation).kind != verdict_kind::ok ||
          s.close_stream(id).kind != verdict_kind::ok)
        ++failed;
    };
    // A first pass lets every table reach its size.
    for (std::uint64_t i = 0; i < z.scope_cycles / 10; ++i)
      cycle(i);
    auto allocations0 = thread_allocations();
    auto t0 = steady::now();
    for (std::uint64_t i = 0; i < z.scope_cycles; ++i)
      cycle(i);
    auto secs = seconds_since(t0);
    allocations += thread_allocations() - allocations0;
    auto calls = static_cast<double>(z.scope_cycles * calls_per_cycle);
    calls_measured += calls;
    core_rates.push_back(calls / secs);
    if (!s.audit().empty())
      std::cerr << "rcmgr-bench: scope audit: " << s.audit() << "\n";
  };
  std::vector<double> policy_rates;
  auto policy_round = [&](int round) {
    progress("scopes: " + std::to_string(z.scope_cycles) +
             " stream cycles in batches through the gate's policy in one thread, round " +
             std::to_string(round + 1) + " of " + std::to_string(rounds));
    gate_policy policy{unlimited_scopes_config()};
    auto decide = [&](stream_id first, std::uint64_t count, bool cycle) {
      std::uint64_t events = 0;
      for (std::uint64_t i = 0; i < count;) {
        lifecycle_batch b;
        i += write_stream_batch(b, w, n, first, i, count, cycle);
        outcome_batch out;
        auto vs = policy.decide_batch(b, out, 0);
        for (std::size_t k = 0; k < vs.size(); ++k)
          failed +=
              vs.kind(k) == verdict_kind::allow || vs.kind(k) == verdict_kind::ok ? 0 : 1;
        events += b.events.size();
      }
      return events;
    };
    // The same steady state and untimed tenth as through the gate.
    decide(1, z.scope_peers, false);
    decide(untimed_first, z.scope_cycles / 10, true);
    auto t0 = steady::now();
    auto events = decide(timed_first, z.scope_cycles, true);
    policy_rates.push_back(static_cast<double>(events) / seconds_since(t0));
  };
  // The untimed tenth, then the timed cycles, in batches to `g`'s gate; the
  // rate of the timed ones.
  auto drive_cycles = [&](caf::scoped_actor& client, rig& g) {
    auto first = drive(client, g, drive_kind::stream_batched_cycle, untimed_first,
                       z.scope_cycles / 10, w, z.window, &n);
    auto res = drive(client, g, drive_kind::stream_batched_cycle, timed_first,
                     z.scope_cycles, w, z.window, &n);
    failed += first.unexpected + first.errors + res.unexpected + res.errors;
    return static_cast<double>(res.events) / res.seconds;
  };
  // The messaging floor: the same client and batches against an actor that
  // answers each batch at once (rig_kind::echo), deciding nothing.
  std::vector<double> echo_rates;
  auto echo_round = [&](int round) {
    progress("scopes: " + std::to_string(z.scope_cycles) +
             " stream cycles in batches against the messaging floor, round " +
             std::to_string(round + 1) + " of " + std::to_string(rounds));
    rig g{self->system(), rig_kind::echo};
    echo_rates.push_back(drive_cycles(self, g));
  };
  // A gate in `client`'s actor system: the steady state, then the rate of
  // the cycles.
  auto gate_cycles = [&](caf::scoped_actor& client) {
    rig g{client->system(), unlimited_scopes_config()};
    // The same steady state as on the core: one long-lived stream per peer.
    auto warm =
        drive(client, g, drive_kind::stream_open, 1, z.scope_peers, w, z.window, &n);
    failed += warm.unexpected + warm.errors;
    return drive_cycles(client, g);
  };
  auto batched_round = [&](int round) {
    progress("scopes: " + std::to_string(z.scope_cycles) +
             " stream cycles in batches through the gate, round " +
             std::to_string(round + 1) + " of " + std::to_string(rounds));
    batched_rates.push_back(gate_cycles(self));
  };
  caf::actor_system_config one_cfg;
  configure_bench_system(one_cfg, 1); // main checked the options
  caf::actor_system one_sys{one_cfg};
  caf::scoped_actor one_self{one_sys};
  std::vector<double> one_worker_rates;
  auto one_worker_round = [&](int round) {
    progress("scopes: " + std::to_string(z.scope_cycles) +
             " stream cycles in batches through the gate, one CAF worker, round " +
             std::to_string(round + 1) + " of " + std::to_string(rounds));
    one_worker_rates.push_back(gate_cycles(one_self));
  };
  for (int round = 0; round < rounds; ++round) {
    core_round(round);
    policy_round(round);
    echo_round(round);
    batched_round(round);
    one_worker_round(round);
  }
  r.set("scope_core_ops_per_s", median_of(core_rates));
  r.set("core_allocations_per_op", static_cast<double>(allocations) / calls_measured);
  r.set_int("scope_core_cycles", z.scope_cycles);
  r.set("stream_policy_ops_per_s", median_of(policy_rates));
  r.set("stream_echo_ops_per_s", median_of(echo_rates));
  r.set("stream_batched_ops_per_s", median_of(batched_rates));
  r.set("stream_batched_one_worker_ops_per_s", median_of(one_worker_rates));
  {
    progress("scopes: " + std::to_string(z.scope_streams) + " open streams over " +
             std::to_string(z.scope_peers) + " peers");
    auto rss0 = trimmed_rss();
    {
      resource_scopes s{unlimited_limits()};
      for (std::uint64_t i = 0; i < z.scope_streams; ++i)
        failed += open_full(s, i + 1, i, w, n, z.scope_peers) ? 0 : 1;
      auto rss1 = trimmed_rss();
      r.set("bytes_per_stream",
            static_cast<double>(rss1 - rss0) / static_cast<double>(z.scope_streams));
      r.set_int("bytes_per_stream_n", z.scope_streams);
      r.set_int("bytes_per_stream_peers", z.scope_peers);
    }
  }
  r.ratio("stream_batched_vs_core_ratio", "stream_batched_ops_per_s",
          "scope_core_ops_per_s", "needs scopes");
  r.ratio("stream_policy_vs_core_ratio", "stream_policy_ops_per_s",
          "scope_core_ops_per_s", "needs scopes");
  r.ratio("stream_batched_vs_policy_ratio", "stream_batched_ops_per_s",
          "stream_policy_ops_per_s", "needs scopes");
  r.ratio("stream_batched_one_worker_vs_core_ratio",
          "stream_batched_one_worker_ops_per_s", "scope_core_ops_per_s", "needs scopes");
  r.ratio("stream_batched_vs_echo_ratio", "stream_batched_ops_per_s",
          "stream_echo_ops_per_s", "needs scopes");
  if (failed > 0)
    std::cerr << "rcmgr-bench: " << failed << " scope calls did not allow\n";
}

} // namespace rcmgr::bench
