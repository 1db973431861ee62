// rcmgr-bench phase: per-IP limits, attempt rates and the allowlist (DESIGN
// §6.2), on the cores alone.
//
// ip_check_ns: one connection's checks as the gate makes them at its pending
// event (its address parsed to an IP, the attempt buckets, the per-IP count)
// and its removal at the close, with `ip_live` distinct IPs holding a
// connection each, under go's defaults. The IPs are a mix of IPv4 (one /32
// each) and IPv6 (one /56 each, 4 per /48); the clock moves 10 us per check,
// so a bucket is sometimes refused, as on a busy node.
//
// allowlist_check_ns: one lookup in an allowlist of `allowlist_entries`
// entries (IPv4 /32s, /24s and /16s, IPv6 /48s, a tenth with a peer), 1
// lookup in 100 a hit, as go's own benchmark.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/gate/ip/attempt_rates.hpp"
#include "actors/gate/ip/ip_allowlist.hpp"
#include "actors/gate/ip/ip_conn_limits.hpp"
#include "phases.hpp"

namespace rcmgr::bench {

namespace {

std::string v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

/// Distinct remote addresses: every 4th an IPv6 one.
std::vector<std::string> remote_addresses(std::uint64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  char buf[96];
  for (std::uint64_t i = 0; i < n; ++i) {
    auto x = static_cast<std::uint32_t>(i);
    if (i % 4 == 3) {
      std::snprintf(buf, sizeof buf, "/ip6/2001:db8:%x:%x00::1/tcp/4001",
                    static_cast<unsigned>((x >> 2) & 0xFFFF),
                    static_cast<unsigned>(x & 3));
      out.emplace_back(buf);
    } else {
      out.push_back("/ip4/" +
                    v4(11 + (x >> 24), (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF) +
                    "/tcp/4001");
    }
  }
  return out;
}

} // namespace

void bench_ip(const sizes& z, results& r) {
  std::uint64_t failed = 0;
  {
    progress("ip: " + std::to_string(z.ip_checks) + " connection checks with " +
             std::to_string(z.ip_live) + " IPs live");
    auto remotes = remote_addresses(z.ip_live);
    ip_conn_limits limits{default_ip_limits()};
    attempt_rates attempts{default_attempt_rates()};
    for (std::uint64_t i = 0; i < z.ip_live; ++i) {
      auto ip = ip_of_address(remotes[i]);
      if (!ip || attempts.attempt(*ip, 0) || limits.admit(i + 1, *ip))
        ++failed;
    }
    constexpr time_ns step = 10000; // 10 us
    time_ns now = 1;
    std::uint64_t refused = 0;
    connection_id next = z.ip_live + 1;
    auto check = [&](std::uint64_t i) {
      auto& text = remotes[(i * 7919) % remotes.size()];
      now += step;
      auto ip = ip_of_address(text);
      if (!ip) {
        ++failed;
        return;
      }
      auto conn = next++;
      if (attempts.attempt(*ip, now) || limits.admit(conn, *ip)) {
        ++refused;
        return;
      }
      limits.remove(conn);
    };
    for (std::uint64_t i = 0; i < z.ip_checks / 10; ++i)
      check(i);
    auto t0 = steady::now();
    for (std::uint64_t i = 0; i < z.ip_checks; ++i)
      check(i);
    auto secs = seconds_since(t0);
    r.set("ip_check_ns", secs * 1e9 / static_cast<double>(z.ip_checks));
    r.set_int("ip_check_live_ips", z.ip_live);
    r.set("ip_check_refused_share",
          static_cast<double>(refused) / static_cast<double>(z.ip_checks * 11 / 10));
    if (limits.connections() != z.ip_live)
      ++failed;
  }
  {
    progress("ip: allowlist of " + std::to_string(z.allowlist_entries) + " entries, " +
             std::to_string(z.allowlist_lookups) + " lookups");
    std::vector<std::string> entries;
    entries.reserve(z.allowlist_entries);
    std::vector<ip_address> hits;
    for (std::uint64_t i = 0; i < z.allowlist_entries; ++i) {
      auto x = static_cast<std::uint32_t>(i);
      std::string e;
      switch (i % 20) {
      case 0: // an IPv4 /24
        e = "/ip4/" + v4(20 + ((x >> 16) & 0x3F), (x >> 8) & 0xFF, x & 0xFF, 0) +
            "/ipcidr/24";
        hits.push_back(
            *parse_ip(v4(20 + ((x >> 16) & 0x3F), (x >> 8) & 0xFF, x & 0xFF, 9)));
        break;
      case 1: // an IPv4 /16
        e = "/ip4/" + v4(90 + ((x >> 8) & 0x3F), x & 0xFF, 0, 0) + "/ipcidr/16";
        hits.push_back(*parse_ip(v4(90 + ((x >> 8) & 0x3F), x & 0xFF, 7, 7)));
        break;
      case 2: { // an IPv6 /48
        char buf[64];
        std::snprintf(buf, sizeof buf,
                      "2001:db8:%x::", static_cast<unsigned>(x & 0xFFFF));
        e = std::string{"/ip6/"} + buf + "/ipcidr/48";
        hits.push_back(*parse_ip(std::string{buf} + "5"));
        break;
      }
      default: // an IPv4 /32, a tenth of them for one peer
        e = "/ip4/" + v4(10, (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF);
        hits.push_back(*parse_ip(v4(10, (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF)));
        if (i % 10 == 3)
          e += "/p2p/QmPeer" + std::to_string(i);
      }
      entries.push_back(std::move(e));
    }
    ip_allowlist list{entries};
    if (list.size() != entries.size())
      ++failed;
    // Misses: addresses outside every entry, of both families.
    std::vector<ip_address> misses;
    for (std::uint32_t i = 0; i < 4096; ++i) {
      misses.push_back(*parse_ip(v4(172, 16 + (i >> 8 & 0xF), i & 0xFF, 1)));
      if (i % 4 == 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "2001:db9:%x::1", static_cast<unsigned>(i));
        misses.push_back(*parse_ip(buf));
      }
    }
    std::uint64_t found = 0;
    auto lookup = [&](std::uint64_t i) {
      if (i % 100 == 0)
        found += list.allows(hits[(i / 100 * 7919) % hits.size()]);
      else
        found += list.allows(misses[i % misses.size()]);
    };
    for (std::uint64_t i = 0; i < z.allowlist_lookups / 10; ++i)
      lookup(i);
    found = 0;
    auto t0 = steady::now();
    for (std::uint64_t i = 0; i < z.allowlist_lookups; ++i)
      lookup(i);
    auto secs = seconds_since(t0);
    r.set("allowlist_check_ns", secs * 1e9 / static_cast<double>(z.allowlist_lookups));
    r.set_int("allowlist_entries", z.allowlist_entries);
    if (found != (z.allowlist_lookups + 99) / 100)
      ++failed;
  }
  if (failed > 0)
    std::cerr << "rcmgr-bench: " << failed << " ip checks went wrong\n";
}

} // namespace rcmgr::bench
