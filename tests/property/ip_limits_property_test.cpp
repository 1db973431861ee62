// Property tests of the per-IP limiter (DESIGN §6.2), as go-libp2p's
// FuzzConnLimiter: random admissions and removals over a few networks with
// small random limits. At every step each subnet's count is the number of
// connections it holds and never passes its limit through an admission; once
// every connection is removed every count is back at zero and no entry is
// left.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "actors/gate/ip/ip_conn_limits.hpp"

using namespace rcmgr;

namespace {

/// A small pool of addresses: a few share their /24, /56 or /48.
const std::vector<std::string> pool{
    "10.0.0.1",    "10.0.0.2",    "10.0.1.1",        "192.0.2.7",
    "127.0.0.1",   "2001:db8::1", "2001:db8:0:1::1", "2001:db8:0:100::1",
    "2001:db9::1", "::1",         "10.1.0.1",        "2001:db8:0:1::2"};

ip_address at(std::size_t i) {
  return *parse_ip(pool[i % pool.size()]);
}

/// (remove?, connection 1..16, address index)
using step = std::tuple<bool, int, int>;

} // namespace

TEST_CASE("removing every connection returns every per-IP count to zero") {
  auto ok =
      rc::check([](std::vector<step> steps, std::uint8_t l4, std::uint8_t l24,
                   std::uint8_t l56, std::uint8_t l48, std::uint8_t lnet, bool with_net) {
        ip_limits_config c;
        c.present = true;
        c.subnet_v4 = {{32, l4 % 4u}, {24, l24 % 6u}};
        c.subnet_v6 = {{56, l56 % 4u}, {48, l48 % 6u}};
        if (with_net)
          c.network_prefix = {{"10.1.0.0/16", lnet % 3u}, {"127.0.0.0/8", no_limit}};
        ip_conn_limits l{c};
        std::map<connection_id, ip_address> held; // the model
        for (auto& [remove, conn_raw, addr_raw] : steps) {
          auto conn = static_cast<connection_id>(1 + (conn_raw & 15));
          if (remove) {
            l.remove(conn);
            held.erase(conn);
          } else {
            auto ip = at(static_cast<std::size_t>(addr_raw & 0xFF));
            auto refused = l.admit(conn, ip);
            if (!refused && held.count(conn) == 0)
              held.emplace(conn, ip);
            if (refused) {
              RC_ASSERT(held.count(conn) == 0u);
              RC_ASSERT(refused->current >= refused->limit);
            }
          }
          RC_ASSERT(l.connections() == held.size());
          // Each /32 and /56 count is what the model holds there (outside the
          // network prefixes, which decide alone).
          for (std::size_t i = 0; i < pool.size(); ++i) {
            auto ip = at(i);
            unsigned len = ip.v6 ? 56 : 32;
            auto p = ip_prefix::of(ip, len);
            bool in_net = with_net && (parse_cidr("10.1.0.0/16")->contains(ip) ||
                                       parse_cidr("127.0.0.0/8")->contains(ip));
            std::uint64_t expected = 0;
            for (auto& [_, h] : held)
              if (p.contains(h) && !in_net)
                ++expected;
            RC_ASSERT(l.count_of(p) == expected);
          }
        }
        for (auto& [conn, _] : std::map<connection_id, ip_address>{held})
          l.remove(conn);
        RC_ASSERT(l.connections() == 0u);
        RC_ASSERT(l.live_entries() == 0u);
        for (std::size_t i = 0; i < pool.size(); ++i) {
          auto ip = at(i);
          for (unsigned len : {ip.bits(), 56u, 48u, 24u, 16u, 8u})
            if (len <= ip.bits())
              RC_ASSERT(l.count_of(ip_prefix::of(ip, len)) == 0u);
        }
      });
  CHECK(ok);
}
