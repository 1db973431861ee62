// rcmgr-bench phase: the scope core alone (DESIGN §6.1). A stream cycle is
// six calls: open, protocol, service, reserve 4 KiB, release, close.
//
// Every limit is unlimited, so that nothing refuses: a limit costs the same
// comparison whatever its value. Before the timed cycles each peer holds one
// long-lived stream on its protocol and service, so that the peer, protocol,
// service and per-peer scopes a cycle enters already exist, as they do on a
// busy node; the cycles then measure the steady state.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/gate/scopes/resource_scopes.hpp"
#include "allocations.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

constexpr std::uint64_t services = 5;
constexpr std::uint64_t reservation = 4096;
constexpr std::uint64_t calls_per_cycle = 6;

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

struct names {
  std::vector<std::string> protocols;
  std::vector<std::string> services;
  explicit names(std::uint64_t num_protocols) {
    for (std::uint64_t i = 0; i < num_protocols; ++i)
      protocols.push_back("/bench/proto-" + std::to_string(i) + "/1.0.0");
    for (std::uint64_t i = 0; i < rcmgr::bench::services; ++i)
      this->services.push_back("bench-service-" + std::to_string(i));
  }
};

/// Stream `id` of peer `i % peers`, on that peer's protocol and service (the
/// peer count is a multiple of both counts, so a peer always has the same).
bool open_full(resource_scopes& s, stream_id id, std::uint64_t i, const workload& w,
               const names& n, std::uint64_t num_peers) {
  auto p = i % num_peers;
  return s.open_stream(id, w.peers[p], direction::inbound, 0).allowed() &&
         s.set_stream_protocol(id, n.protocols[p % n.protocols.size()]).allowed() &&
         s.set_stream_service(id, n.services[p % n.services.size()]).allowed();
}

} // namespace

void bench_scopes(const sizes& z, results& r) {
  workload w{z.scope_peers};
  names n{z.scope_protocols};
  std::uint64_t failed = 0;
  {
    progress("scopes: " + std::to_string(z.scope_cycles) + " stream cycles over " +
             std::to_string(z.scope_peers) + " peers, " +
             std::to_string(z.scope_protocols) + " protocols");
    resource_scopes s{unlimited_limits()};
    stream_id next = 1;
    for (std::uint64_t p = 0; p < z.scope_peers; ++p)
      failed += open_full(s, next++, p, w, n, z.scope_peers) ? 0 : 1;
    auto cycle = [&](std::uint64_t i) {
      auto id = next++;
      holder_ref h{holder_ref::kind_t::stream, id};
      if (!open_full(s, id, i, w, n, z.scope_peers) ||
          !s.reserve_memory(h, reservation).allowed() ||
          s.release_memory(h, reservation).kind != verdict_kind::ok ||
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
    auto allocations = thread_allocations() - allocations0;
    auto calls = static_cast<double>(z.scope_cycles * calls_per_cycle);
    r.set("scope_core_ops_per_s", calls / secs);
    r.set("core_allocations_per_op", static_cast<double>(allocations) / calls);
    r.set_int("scope_core_cycles", z.scope_cycles);
    if (!s.audit().empty())
      std::cerr << "rcmgr-bench: scope audit: " << s.audit() << "\n";
  }
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
  if (failed > 0)
    std::cerr << "rcmgr-bench: " << failed << " scope calls did not allow\n";
}

} // namespace rcmgr::bench
