// rcmgr-bench phase: GET /metrics (DESIGN §6.3). A gate with every scope
// limit unlimited holds `dump_conns` established connections over the
// workload's peers (100,000 over 10,000 in the quick and full modes); the
// dump of the gate and the tracker is taken once, and metrics_render_ms is
// the median time to parse it and render the Prometheus text: what a scrape
// costs beyond the dump itself (dump_ms_100k).
#include <algorithm>
#include <string>
#include <vector>

#include "actors/dump/metrics_text.hpp"
#include "actors/dump/state_dump_actor.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

void bench_metrics(caf::scoped_actor& self, const sizes& z, const workload& w,
                   results& r) {
  progress("metrics: " + std::to_string(z.dump_conns) + " connections over " +
           std::to_string(std::min<std::uint64_t>(z.dump_conns, w.peers.size())) +
           " peers");
  rig g{self->system(), unlimited_scopes_config()};
  auto d = drive(self, g, drive_kind::open, 0, z.dump_conns, w, z.window);
  if (d.unexpected > 0 || d.errors > 0) {
    r.miss("metrics_render_ms", "the gate refused connections it should hold");
    return;
  }
  auto dumper =
      spawn_state_dump(self->system(), {{"gate", g.gate}, {"tracker", g.tracker}},
                       state_dump_options{std::chrono::milliseconds(60000)});
  std::string doc;
  self->request(dumper, caf::infinite, dump_atom::value)
      .receive([&](const std::string& text) { doc = text; },
               [&](caf::error& e) {
                 std::cerr << "rcmgr-bench: dump failed: " << self->system().render(e)
                           << "\n";
               });
  caf::anon_send_exit(dumper, caf::exit_reason::user_shutdown);
  if (doc.empty()) {
    r.miss("metrics_render_ms", "no state dump");
    return;
  }
  std::vector<double> ms;
  std::size_t bytes = 0;
  for (int i = 0; i < z.dump_repeats; ++i) {
    auto t0 = steady::now();
    auto state = nlohmann::json::parse(doc, nullptr, false);
    auto text = metrics_text(state);
    ms.push_back(seconds_since(t0) * 1000.0);
    bytes = text.size();
  }
  std::sort(ms.begin(), ms.end());
  r.set("metrics_render_ms", ms[ms.size() / 2]);
  r.set_int("metrics_conns", z.dump_conns);
  r.set_int("metrics_bytes", bytes);
}

} // namespace rcmgr::bench
