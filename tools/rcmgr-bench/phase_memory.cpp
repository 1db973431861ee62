// rcmgr-bench phases: bytes per connection, the scaling of the event rate
// with the live connection count, RSS under churn, and the state dump.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/dump/state_dump_actor.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

/// Events per second of lifecycle cycles through a gate that already holds
/// `live` established connections (ids below 2^41).
double cycles_with_live(caf::scoped_actor& self, rig& g, const sizes& z,
                        const workload& w) {
  auto res = drive(self, g, drive_kind::cycle, 1ULL << 42, z.scaling_cycles, w, z.window);
  return static_cast<double>(res.events) / res.seconds;
}

} // namespace

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

} // namespace rcmgr::bench
