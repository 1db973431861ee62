// rcmgr-bench's report (report.hpp).
#include "report.hpp"

#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

namespace rcmgr::bench {

namespace {

struct row {
  const char* key;
  const char* target; // "" = report only
  std::function<bool(double)> meets;
};

} // namespace

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
      {"lifecycle_request_events_per_s", "", nullptr},
      {"lifecycle_batched_events_per_s", ">= 8000000", [](double v) { return v >= 8e6; }},
      {"request_floor_events_per_s", "", nullptr},
      {"oneway_floor_events_per_s", "", nullptr},
      {"request_floor_small_events_per_s", "", nullptr},
      {"oneway_floor_small_events_per_s", "", nullptr},
      {"oneway_floor_vs_request_floor_ratio", "", nullptr},
      {"event_message_allocations", "1", [](double v) { return v == 1; }},
      {"lifecycle_vs_oneway_floor_ratio", ">= 0.6", [](double v) { return v >= 0.6; }},
      {"lifecycle_request_vs_request_floor_ratio", "", nullptr},
      {"core_direct_events_per_s", "", nullptr},
      {"lifecycle_vs_core_ratio", "", nullptr},
      {"lifecycle_batched_vs_core_ratio", ">= 0.5", [](double v) { return v >= 0.5; }},
      {"lifecycle_batched_untraced_events_per_s", "", nullptr},
      {"lifecycle_batched_traced_events_per_s", "", nullptr},
      {"trace_batched_ratio", ">= 0.8", [](double v) { return v >= 0.8; }},
      {"trace_written_fraction", "= 1", [](double v) { return v == 1.0; }},
      {"echo_events_per_s", "", nullptr},
      {"echo_oneway_events_per_s", "", nullptr},
      {"echo_vs_request_floor_ratio", "", nullptr},
      {"echo_batched_events_per_s", "", nullptr},
      {"lifecycle_vs_echo_ratio", "", nullptr},
      {"lifecycle_batched_vs_echo_ratio", "", nullptr},
      {"admission_latency_oneway_p50_us", "", nullptr},
      {"admission_latency_oneway_p99_us", "", nullptr},
      {"admission_latency_oneway_p999_us", "", nullptr},
      {"admission_latency_oneway_achieved_per_s", "", nullptr},
      {"oneway_floor_latency_p50_us", "", nullptr},
      {"oneway_floor_latency_p99_us", "", nullptr},
      {"oneway_floor_latency_p999_us", "", nullptr},
      {"admission_latency_p99_vs_floor_ratio", "<= 1.2",
       [](double v) { return v <= 1.2; }},
      {"admission_latency_p50_us", "", nullptr},
      {"admission_latency_p99_us", "<= 20", [](double v) { return v <= 20; }},
      {"admission_latency_p999_us", "", nullptr},
      {"admission_latency_achieved_per_s", "", nullptr},
      {"admission_latency_10k_p50_us", "", nullptr},
      {"admission_latency_10k_p99_us", "", nullptr},
      {"admission_latency_10k_p999_us", "", nullptr},
      {"echo_latency_p50_us", "", nullptr},
      {"echo_latency_p99_us", "", nullptr},
      {"echo_latency_p999_us", "", nullptr},
      {"admission_latency_request_p99_vs_floor_ratio", "<= 1.2",
       [](double v) { return v <= 1.2; }},
      {"io_message_p50_us", "", nullptr},
      {"io_message_p99_us", "", nullptr},
      {"io_message_long_job_p50_us", "", nullptr},
      {"io_message_long_job_p99_us", "", nullptr},
      {"io_message_long_job_max_us", "", nullptr},
      {"bytes_per_connection", "<= 200", [](double v) { return v <= 200; }},
      {"bytes_per_connection_core", "", nullptr},
      {"churn_rss_growth_ratio", "<= 1.05", [](double v) { return v <= 1.05; }},
      {"scaling_cost_ratio", "<= 1.5", [](double v) { return v <= 1.5; }},
      {"scaling_cost_ratio_core", "<= 1.5", [](double v) { return v <= 1.5; }},
      {"dump_ms_100k", "<= 100", [](double v) { return v <= 100; }},
      {"metrics_render_ms", "<= 50", [](double v) { return v <= 50; }},
      {"rate_checks_per_s", "", nullptr},
      {"rate_checks_request_per_s", "", nullptr},
      {"rate_checks_vs_oneway_floor_ratio", ">= 0.6", [](double v) { return v >= 0.6; }},
      {"rate_checks_batched_per_s", "", nullptr},
      {"bare_accept_cycles_per_s", "", nullptr},
      {"echo_accept_cycles_per_s", "", nullptr},
      {"accept_cycles_per_s", "", nullptr},
      {"bare_accept_cpu_us_per_cycle", "", nullptr},
      {"echo_accept_cpu_us_per_cycle", "", nullptr},
      {"accept_cpu_us_per_cycle", "", nullptr},
      {"bare_accept_switches_per_cycle", "", nullptr},
      {"echo_accept_switches_per_cycle", "", nullptr},
      {"accept_switches_per_cycle", "", nullptr},
      {"echo_accept_ratio_vs_bare_asio", "", nullptr},
      {"accept_vs_echo_ratio", ">= 0.85", [](double v) { return v >= 0.85; }},
      {"accept_ratio_vs_bare_asio", ">= 0.9", [](double v) { return v >= 0.9; }},
      {"scope_core_ops_per_s", "", nullptr},
      {"stream_policy_ops_per_s", "", nullptr},
      {"stream_echo_ops_per_s", "", nullptr},
      {"stream_batched_ops_per_s", "", nullptr},
      {"stream_batched_vs_core_ratio", ">= 0.5", [](double v) { return v >= 0.5; }},
      {"stream_policy_vs_core_ratio", "", nullptr},
      {"stream_batched_vs_policy_ratio", "", nullptr},
      {"stream_batched_vs_echo_ratio", "", nullptr},
      {"stream_batched_one_worker_ops_per_s", "", nullptr},
      {"stream_batched_one_worker_vs_core_ratio", "", nullptr},
      {"core_allocations_per_op", "0", [](double v) { return v == 0; }},
      {"bytes_per_stream", "<= 120", [](double v) { return v <= 120; }},
  };
  std::cout << "rcmgr-bench (" << z.mode << ", " << std::thread::hardware_concurrency()
            << " cores, " << bench_workers << " CAF workers, node scheduler";
  for (auto& opt : caf_options)
    std::cout << ", " << opt;
  std::cout << ")\n\n";
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

} // namespace rcmgr::bench
