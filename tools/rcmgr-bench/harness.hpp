// rcmgr-bench's harness: the sizes of each mode, the workload, process
// memory and time, one gate with its subscribers (the rig), the windowed
// lifecycle clients and the results. The phases (phases.hpp) build on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/gate/gate_actor.hpp"
#include "messages/interfaces.hpp"

namespace rcmgr::bench {

using steady = std::chrono::steady_clock;

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
  double stall_seconds = 0;            // each of the stall phase's two windows
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
  std::uint64_t accept_cycles = 0;  // accept_ratio_vs_bare_asio, per side
  int accept_rounds = 4;            // interleaved bare/governed rounds
  std::uint64_t accept_window = 32; // connections in flight at the client
  std::uint64_t scope_cycles = 0;   // scope_core_ops_per_s, stream cycles
  std::uint64_t scope_peers = 10000;
  std::uint64_t scope_protocols = 20;
  std::uint64_t scope_streams = 0; // bytes_per_stream: streams open at once
  std::uint64_t ip_live = 100000;  // ip_check_ns: distinct IPs holding a connection
  std::uint64_t ip_checks = 0;
  std::uint64_t allowlist_entries = 100000; // allowlist_check_ns
  std::uint64_t allowlist_lookups = 0;
};

sizes full_sizes();
sizes quick_sizes();
sizes tiny_sizes();

// -- the workload: realistic ids and addresses, built once -----------------------

struct workload {
  std::vector<peer_id> peers;
  std::vector<std::string> remotes;
  std::string local = "/ip4/10.0.0.1/tcp/4001";
  std::string reason = "bench";

  explicit workload(std::size_t num_peers);

  const peer_id& peer(connection_id c) const { return peers[c % peers.size()]; }
  const std::string& remote(connection_id c) const { return remotes[c % remotes.size()]; }
};

/// Protocol and service names of the scopes phase. Stream i belongs to peer
/// i % peers, and that peer always uses the same protocol and service (the
/// peer count is a multiple of both counts).
struct stream_names {
  std::vector<std::string> protocols;
  std::vector<std::string> services;
  explicit stream_names(std::uint64_t num_protocols, std::uint64_t num_services = 5);
  const std::string& protocol(std::uint64_t peer) const {
    return protocols[peer % protocols.size()];
  }
  const std::string& service(std::uint64_t peer) const {
    return services[peer % services.size()];
  }
};

constexpr std::uint64_t stream_cycles_per_batch = 10; // 60 events
constexpr std::uint64_t stream_reservation = 4096;    // bytes a cycle reserves

/// Streams `first + index` ... of the scopes phase written into `b`, at most
/// `stream_cycles_per_batch` of them and no more than `count - index`: each
/// opened on its peer's protocol and service and, for a full cycle, given
/// `stream_reservation` bytes and closed again (six events; three without
/// the cycle). The memory events name their stream as a holder. Returns how
/// many streams.
std::uint64_t write_stream_batch(lifecycle_batch& b, const workload& w,
                                 const stream_names& names, stream_id first,
                                 std::uint64_t index, std::uint64_t count, bool cycle);

// -- process memory and time ---------------------------------------------------------

std::uint64_t rss_bytes();

/// RSS after handing free heap pages back, so that the figure is live data.
std::uint64_t trimmed_rss();

/// The machine's 1-minute load average: the figures are only as good as the
/// share of the two cores this process got.
double load_average();

double cpu_seconds();

/// Context switches of the whole process so far (voluntary: a thread waited;
/// involuntary: it was preempted), from getrusage.
std::uint64_t context_switches();

double seconds_since(steady::time_point t0);

// -- one gate with its tracker and the extra subscriber ------------------------------

/// What a rig's "gate" is: the real gate with the tracker and the extra
/// subscriber, or the messaging floor (an actor that answers every lifecycle
/// event at once, decides nothing and publishes nothing). The same client
/// against the floor gives the most any gate could do through CAF here.
enum class rig_kind { gate, echo };

/// The messaging floor's answer to a lifecycle batch: what the gate would say
/// with no limit reached (allow, or ok for a close), nothing decided. (The
/// request form answers with its `to_vector()`, as the gate does.)
verdict_list echo_verdicts(const lifecycle_batch& b);

struct rig {
  caf::actor_system& sys;
  gate_actor gate;
  tracker_actor tracker; // none for rig_kind::echo
  /// The extra subscriber: counts outcome messages. Dynamically typed, so
  /// that it takes whatever outcome messages the listener interface names
  /// (it is subscribed as a lifecycle_listener). None for rig_kind::echo.
  caf::actor counter;

  explicit rig(caf::actor_system& s, rig_kind kind = rig_kind::gate);
  /// A gate with this config (e.g. with scopes) and options (e.g. a decision
  /// trace), the tracker and the counter.
  rig(caf::actor_system& s, const node_config& cfg, gate_options opts = {});
  ~rig();

  /// Returns once the gate, the tracker and the counter have handled every
  /// message sent to them before this call.
  bool drain(caf::scoped_actor& self);

  admission_counts tracker_counts(caf::scoped_actor& self);
};

// -- the windowed lifecycle clients ---------------------------------------------------

/// stream_open: streams opened with their protocol and service and left
/// open; stream_batched_cycle: full stream cycles (open, protocol, service,
/// reserve 4 KiB, release, close) in batches. Both need `stream_names` and
/// count streams, not connections.
/// oneway_cycle: the cycle's events sent one way (`oneway<Event>`), each
/// answered with an `event_verdict`.
enum class drive_kind {
  cycle,
  oneway_cycle,
  open,
  close,
  batched_cycle,
  stream_open,
  stream_batched_cycle
};

struct drive_result {
  std::uint64_t events = 0;
  std::uint64_t unexpected = 0; // verdicts other than allow/ok
  std::uint64_t errors = 0;
  double seconds = 0;
};

/// How long any one client may take before the phase gives up on it (set per
/// mode); a phase that gives up says so and its figure is not trusted.
extern std::chrono::seconds wait_limit;

/// The CAF workers of the bench's actor system (the machine's two cores).
inline constexpr std::size_t bench_workers = 2;

/// CAF's work-stealing options from the command line, as peer-node takes
/// them (`--work-stealing.KEY=VALUE`, docs/node.md#threads): every actor
/// system of the run gets them. Empty: CAF's defaults.
extern std::vector<std::string> caf_options;

/// The bench's CAF settings: `workers` scheduler threads, no log output,
/// `caf_options`. The error names an option CAF does not take.
caf::error configure_bench_system(caf::actor_system_config& cfg, std::size_t workers);

/// The work-stealing settings `cfg` runs with ("aggressive-poll-attempts=100,
/// ..."; durations in us), for the report.
std::string work_stealing_settings(const caf::actor_system_config& cfg);

/// Waits for one `done_atom`; false on a timeout.
bool wait_done(caf::scoped_actor& self, std::chrono::seconds limit);

/// Runs one windowed client to completion (`window` requests in flight),
/// then drains the rig.
drive_result drive(caf::scoped_actor& self, rig& r, drive_kind kind, connection_id first,
                   std::uint64_t count, const workload& w, std::uint64_t window,
                   const stream_names* names = nullptr);

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
  /// Sets `key` to `num / den` when both were measured; names it missing
  /// (with `why`) otherwise.
  void ratio(const std::string& key, const std::string& num, const std::string& den,
             const std::string& why) {
    auto n = get(num), d = get(den);
    if (n && d)
      set(key, *n / *d);
    else
      miss(key, why);
  }
  std::optional<double> get(const std::string& key) const {
    auto i = json.find(key);
    if (i == json.end() || !i->is_number())
      return std::nullopt;
    return i->get<double>();
  }
};

void progress(const std::string& what);

} // namespace rcmgr::bench
