// rcmgr-bench [--quick | --tiny] [--json FILE] [--only SECTIONS]
//             [--work-stealing.KEY=VALUE ...] [--scheduler.policy=P]
//
// What the actor design costs, measured against limits taken in the same
// run. A harness of its own (no Google Benchmark): most figures are
// ratios, percentiles or RSS deltas, which fit a plain driver better.
//
// Everything runs in one process on CAF's threaded scheduler with two
// workers, with peer-node's scheduler (use_node_scheduler) unless
// --work-stealing or --scheduler.policy options change it. The clients are event-based
// actors that keep a bounded window of requests in flight; each measurement gets a fresh
// gate + tracker + one more subscriber so that one does not inherit the other's tables. A
// phase ends only when the tracker and the extra subscriber have also handled every
// outcome the gate published (a request queued behind them answers last), so
// the rates are sustainable rates, not mailbox-filling rates.
//
// Keys for parts that do not exist yet are left out and named, with the
// reason, in the table and under "missing_keys" in the JSON.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "harness.hpp"
#include "phases.hpp"
#include "report.hpp"

using namespace rcmgr;
using namespace rcmgr::bench;

namespace {

int usage(const std::string& why) {
  std::cerr
      << "rcmgr-bench: " << why << "\n"
      << "usage: rcmgr-bench [--quick | --tiny] [--json FILE] [--only SECTIONS]\n"
      << "                   [--work-stealing.KEY=VALUE ...] [--scheduler.policy=P]\n"
      << "  --quick   every measurement, scaled to finish in under 60 s on 2 cores\n"
      << "  --tiny    a few seconds, for the smoke test (figures are not meaningful)\n"
      << "  --json    also write one flat JSON object to FILE\n"
      << "  --only    comma-separated subset of: core,lifecycle,latency,memory,churn,"
         "dump,rate,accept,scopes,ip,metrics,trace,stall,\n"
      << "            echo, floor (parts of lifecycle: the messaging floor's single\n"
      << "            events, CAF's request and one-way floors)\n"
      << "  --work-stealing.KEY=VALUE\n"
      << "            CAF's scheduler options, as peer-node takes them (peer-node\n"
      << "            --long-help lists them); default: peer-node's "
         "(use_node_scheduler,\n"
      << "            docs/node.md); CAF's own: aggressive-poll-attempts=100,\n"
      << "            moderate-poll-attempts=500, relaxed-sleep-duration=10ms\n"
      << "  --scheduler.policy=stealing|eager\n"
      << "            stealing (default): peer-node's patient work stealing; eager:\n"
      << "            CAF's own, an idle worker takes any queued job at once\n";
  return 2;
}

const std::vector<std::string> all_sections = {
    "core",   "lifecycle", "latency", "stall",   "memory", "churn", "dump", "rate",
    "accept", "scopes",    "ip",      "metrics", "trace",  "echo",  "floor"};

} // namespace

int main(int argc, char** argv) {
  std::optional<sizes> z;
  std::string json_file;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage("measures what the resource actors cost");
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
    } else if (arg.rfind("--work-stealing.", 0) == 0) {
      caf_options.push_back(arg);
    } else if (arg.rfind("--scheduler.policy=", 0) == 0) {
      auto policy = arg.substr(std::string{"--scheduler.policy="}.size());
      if (policy != "stealing" && policy != "eager")
        return usage("--scheduler.policy takes stealing or eager, got '" + policy + "'");
      caf_options.push_back(arg);
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  {
    caf::actor_system_config probe;
    if (auto err = configure_bench_system(probe, bench_workers))
      return usage("bad CAF option: " + probe.render(err));
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
  r.json["caf_workers"] = bench_workers;
  r.set("load_avg_1m_start", load_average());
  auto t_start = steady::now();
  {
    caf::actor_system_config cfg;
    configure_bench_system(cfg, bench_workers); // checked above
    r.json["caf_work_stealing"] = work_stealing_settings(cfg);
    r.json["caf_scheduler"] =
        caf::get_or(cfg, "scheduler.policy", caf::atom("stealing")) == caf::atom("eager")
            ? "eager"
            : "patient";
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    workload w{z->memory_peers};
    auto skipped = [&](const char* section, std::vector<const char*> keys) {
      if (!wants(section))
        for (auto k : keys)
          r.miss(k, std::string{"skipped (--only without "} + section + ")");
    };
    // Memory first: memory freed by earlier phases sits in the allocator's
    // free lists (not all of it can be trimmed) and would be reused by the
    // connections measured here, hiding part of their cost (a full run
    // showed 75 bytes per connection where the phase alone shows 190).
    if (wants("memory"))
      bench_memory_and_scaling(self, *z, r);
    skipped("memory", {"bytes_per_connection", "scaling_cost_ratio"});
    if (wants("core"))
      bench_core(*z, w, r);
    skipped("core", {"core_direct_events_per_s", "scaling_cost_ratio_core"});
    // "echo" and "floor" are parts of "lifecycle", alone (to profile them).
    if (wants("lifecycle") || wants("echo"))
      bench_lifecycle(self, *z, w, r, wants("lifecycle"), true);
    if (wants("lifecycle") || wants("floor"))
      bench_floors(self, *z, w, r);
    skipped("lifecycle", {"lifecycle_events_per_s", "lifecycle_request_events_per_s",
                          "lifecycle_batched_events_per_s"});
    if (!wants("echo"))
      skipped("lifecycle", {"echo_events_per_s", "echo_oneway_events_per_s",
                            "echo_batched_events_per_s"});
    if (!wants("floor"))
      skipped("lifecycle", {"request_floor_events_per_s", "oneway_floor_events_per_s",
                            "event_message_allocations"});
    if (wants("latency")) {
      // Gate and floor alternate, each form's pair back to back, so that a
      // change in the machine's load falls on both sides of a ratio.
      bench_latency(self, *z, w, r, z->latency_rate, rig_kind::gate,
                    "admission_latency_oneway", latency_form::oneway);
      // The same load on the messaging floor: the latency CAF alone adds.
      bench_latency(self, *z, w, r, z->latency_rate, rig_kind::echo,
                    "oneway_floor_latency", latency_form::oneway);
      bench_latency(self, *z, w, r, z->latency_rate, rig_kind::gate, "admission_latency");
      bench_latency(self, *z, w, r, z->latency_rate, rig_kind::echo, "echo_latency");
      // The same at a tenth of the load: the latency of an unloaded gate.
      bench_latency(self, *z, w, r, z->latency_rate / 10, rig_kind::gate,
                    "admission_latency_10k");
      r.ratio("admission_latency_p99_vs_floor_ratio", "admission_latency_oneway_p99_us",
              "oneway_floor_latency_p99_us", "a one-way latency run timed nothing");
      r.ratio("admission_latency_request_p99_vs_floor_ratio", "admission_latency_p99_us",
              "echo_latency_p99_us", "a request latency run timed nothing");
    }
    skipped("latency", {"admission_latency_p50_us",
                        "admission_latency_p99_us",
                        "admission_latency_p999_us",
                        "echo_latency_p99_us",
                        "admission_latency_oneway_p50_us",
                        "admission_latency_oneway_p99_us",
                        "admission_latency_oneway_p999_us",
                        "admission_latency_oneway_offered_per_s",
                        "admission_latency_oneway_achieved_per_s",
                        "admission_latency_oneway_n",
                        "admission_latency_oneway_unanswered",
                        "oneway_floor_latency_p50_us",
                        "oneway_floor_latency_p99_us",
                        "oneway_floor_latency_p999_us",
                        "oneway_floor_latency_offered_per_s",
                        "oneway_floor_latency_achieved_per_s",
                        "oneway_floor_latency_n",
                        "oneway_floor_latency_unanswered",
                        "admission_latency_p99_vs_floor_ratio",
                        "admission_latency_request_p99_vs_floor_ratio"});
    if (wants("stall"))
      bench_stall(self, *z, r);
    skipped("stall", stall_keys);
    if (wants("churn"))
      bench_churn(self, *z, w, r);
    skipped("churn", {"churn_rss_growth_ratio"});
    if (wants("dump"))
      bench_dump(self, *z, w, r);
    skipped("dump", {"dump_ms_100k"});
    if (wants("metrics"))
      bench_metrics(self, *z, w, r);
    skipped("metrics", {"metrics_render_ms"});
#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
    if (wants("rate"))
      bench_rate(self, *z, r);
    skipped("rate", {"rate_checks_per_s", "rate_checks_request_per_s",
                     "rate_checks_batched_per_s"});
#else
    r.miss("rate_checks_per_s", "actors/rate_limiter_actor.cpp has not landed");
    r.miss("rate_checks_request_per_s", "actors/rate_limiter_actor.cpp has not landed");
    r.miss("rate_checks_batched_per_s", "actors/rate_limiter_actor.cpp has not landed");
#endif
#ifdef RCMGR_BENCH_HAVE_NET
    if (wants("accept"))
      bench_accept(self, *z, w, r);
    skipped("accept", accept_keys);
#else
    for (auto k : accept_keys)
      r.miss(k, "net/ (the governed acceptor) has not landed");
#endif
    if (wants("trace"))
      bench_trace(self, *z, w, r);
    skipped("trace", {"lifecycle_batched_untraced_events_per_s",
                      "lifecycle_batched_traced_events_per_s", "trace_batched_ratio",
                      "trace_written_fraction"});
    if (wants("ip"))
      bench_ip(*z, r);
    skipped("ip", {"ip_check_ns", "allowlist_check_ns"});
    // Last: the million streams leave the allocator larger than it was.
    if (wants("scopes"))
      bench_scopes(self, *z, r);
    skipped("scopes",
            {"scope_core_ops_per_s", "stream_policy_ops_per_s", "stream_echo_ops_per_s",
             "stream_batched_ops_per_s", "stream_batched_one_worker_ops_per_s",
             "core_allocations_per_op", "bytes_per_stream"});
  } // every actor has quit; the system is gone
  r.ratio("lifecycle_vs_core_ratio", "lifecycle_events_per_s", "core_direct_events_per_s",
          "needs lifecycle and core");
  r.ratio("lifecycle_batched_vs_core_ratio", "lifecycle_batched_events_per_s",
          "core_direct_events_per_s", "needs lifecycle and core");
  // Against the messaging floor measured in the same run: the share of what
  // CAF allows here that the gate reaches.
  r.ratio("lifecycle_vs_echo_ratio", "lifecycle_events_per_s", "echo_events_per_s",
          "needs lifecycle");
  r.ratio("lifecycle_batched_vs_echo_ratio", "lifecycle_batched_events_per_s",
          "echo_batched_events_per_s", "needs lifecycle");
  // Against CAF's own floors (floor_probes.cpp), same run: one way over one
  // way, requests over requests; and what the echo client leaves of CAF's.
  r.ratio("lifecycle_vs_oneway_floor_ratio", "lifecycle_events_per_s",
          "oneway_floor_events_per_s", "needs lifecycle");
  r.ratio("lifecycle_request_vs_request_floor_ratio", "lifecycle_request_events_per_s",
          "request_floor_events_per_s", "needs lifecycle");
  r.ratio("echo_vs_request_floor_ratio", "echo_events_per_s",
          "request_floor_events_per_s", "needs lifecycle");
  r.ratio("oneway_floor_vs_request_floor_ratio", "oneway_floor_events_per_s",
          "request_floor_events_per_s", "needs lifecycle");
  r.ratio("rate_checks_vs_oneway_floor_ratio", "rate_checks_per_s",
          "oneway_floor_events_per_s", "needs rate and lifecycle");
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
