// rcmgr-bench's phases: each takes its sizes from the mode and puts its
// figures (or the reason they are missing) into the results.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness.hpp"

namespace rcmgr::bench {

// phase_lifecycle.cpp
void bench_core(const sizes& z, const workload& w, results& r);
/// The single-event (one way and requests) and batched figures against the
/// gate and against the messaging floor (echo), each when asked for.
void bench_lifecycle(caf::scoped_actor& self, const sizes& z, const workload& w,
                     results& r, bool gate = true, bool echo = true);
/// How the paced latency clients send each pending_inbound: as a request, or
/// one way (`oneway<pending_inbound>`, answered with an `event_verdict`).
enum class latency_form { request, oneway };
/// `prefix`_p50_us, _p99_us, _p999_us, _offered_per_s, _achieved_per_s, _n
/// and _unanswered: `rate` pending_inbound events a second from 8 paced
/// clients, against the gate or the messaging floor.
void bench_latency(caf::scoped_actor& self, const sizes& z, const workload& w, results& r,
                   std::uint64_t rate, rig_kind kind, const std::string& prefix,
                   latency_form form = latency_form::request);

// floor_probes.cpp
/// request_floor_events_per_s and oneway_floor_events_per_s: the lifecycle
/// client's events against an actor that answers at once, in both forms.
void bench_floors(caf::scoped_actor& self, const sizes& z, const workload& w, results& r);

// phase_memory.cpp
void bench_memory_and_scaling(caf::scoped_actor& self, const sizes& z, results& r);
void bench_churn(caf::scoped_actor& self, const sizes& z, const workload& w, results& r);
void bench_dump(caf::scoped_actor& self, const sizes& z, const workload& w, results& r);

// phase_scopes.cpp
void bench_scopes(caf::scoped_actor& self, const sizes& z, results& r);
/// A config whose "scopes" document makes every limit unlimited.
node_config unlimited_scopes_config();

// phase_metrics.cpp
void bench_metrics(caf::scoped_actor& self, const sizes& z, const workload& w,
                   results& r);

// phase_trace.cpp
void bench_trace(caf::scoped_actor& self, const sizes& z, const workload& w, results& r);

// phase_ip.cpp
void bench_ip(const sizes& z, results& r);

// phase_stall.cpp
/// io_message_*: how long a message from a thread outside CAF takes through
/// two actors, alone and behind a long job on a worker.
void bench_stall(caf::scoped_actor& self, const sizes& z, results& r);
/// The stall phase's keys: measured together, or missing together.
inline const std::vector<const char*> stall_keys = {
    "io_message_p50_us",          "io_message_p99_us",
    "io_message_long_job_p50_us", "io_message_long_job_p99_us",
    "io_message_long_job_max_us", "io_message_n"};

#ifdef RCMGR_BENCH_HAVE_RATE_LIMITER
// phase_rate.cpp
void bench_rate(caf::scoped_actor& self, const sizes& z, results& r);
#endif

/// The accept phase's keys: measured together, or missing together.
inline const std::vector<const char*> accept_keys = {"accept_cycles_per_s",
                                                     "bare_accept_cycles_per_s",
                                                     "echo_accept_cycles_per_s",
                                                     "accept_ratio_vs_bare_asio",
                                                     "echo_accept_ratio_vs_bare_asio",
                                                     "accept_vs_echo_ratio",
                                                     "accept_switches_per_cycle",
                                                     "bare_accept_switches_per_cycle",
                                                     "echo_accept_switches_per_cycle"};

#ifdef RCMGR_BENCH_HAVE_NET
// phase_accept.cpp
void bench_accept(caf::scoped_actor& self, const sizes& z, const workload& w, results& r);
#endif

} // namespace rcmgr::bench
