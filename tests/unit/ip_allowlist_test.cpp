// The allowlist with go-libp2p's cases (allowlist_test.go): an IP, a CIDR,
// an IP with a peer.
#include <doctest/doctest.h>

#include "actors/gate/ip/ip_allowlist.hpp"

using namespace rcmgr;

namespace {

ip_address ip(const std::string& text) {
  auto r = parse_ip(text);
  REQUIRE(r.ok());
  return *r;
}

} // namespace

TEST_CASE("an allowlisted IP") {
  ip_allowlist a{{"/ip4/1.2.3.4"}};
  CHECK(a.allows(ip("1.2.3.4")));
  CHECK(a.allows(ip("1.2.3.4"), "QmAny"));
  CHECK_FALSE(a.allows(ip("1.2.3.5")));
  CHECK_FALSE(a.allows(ip("::1")));
}

TEST_CASE("an allowlisted CIDR") {
  ip_allowlist a{{"/ip4/1.2.3.0/ipcidr/24", "/ip6/2001:db8::/ipcidr/48"}};
  CHECK(a.allows(ip("1.2.3.4")));
  CHECK(a.allows(ip("1.2.3.255")));
  CHECK_FALSE(a.allows(ip("1.2.4.1")));
  CHECK(a.allows(ip("2001:db8:0:ffff::1")));
  CHECK_FALSE(a.allows(ip("2001:db9::1")));
}

TEST_CASE(
    "an allowlisted IP with a peer: the wrong peer is refused, the right one allowed") {
  ip_allowlist a{{"/ip4/1.2.3.4/p2p/QmRight"}};
  CHECK(a.allows(ip("1.2.3.4"))); // before the peer is known
  CHECK_FALSE(a.allows(ip("1.2.3.4"), "QmWrong"));
  CHECK_FALSE(a.allows(ip("1.2.3.4"), ""));
  CHECK(a.allows(ip("1.2.3.4"), "QmRight"));
  CHECK_FALSE(a.allows(ip("1.2.3.5"), "QmRight"));
}

TEST_CASE("a CIDR with a peer, and an entry for any peer covering it") {
  ip_allowlist a{{"/ip4/10.0.0.0/ipcidr/8/p2p/QmA", "/ip4/10.1.0.0/ipcidr/16"}};
  CHECK(a.allows(ip("10.2.0.1"), "QmA"));
  CHECK_FALSE(a.allows(ip("10.2.0.1"), "QmB"));
  CHECK(a.allows(ip("10.1.0.1"), "QmB"));
  CHECK(a.size() == 2);
  a.configure({});
  CHECK(a.empty());
  CHECK_FALSE(a.allows(ip("10.1.0.1")));
}

TEST_CASE("100,000 entries: lookups hit and miss exactly") {
  std::vector<std::string> entries;
  for (std::uint32_t i = 0; i < 100000; ++i) {
    auto text = "/ip4/10." + std::to_string((i >> 16) & 0xFF) + "." +
                std::to_string((i >> 8) & 0xFF) + "." + std::to_string(i & 0xFF);
    if (i % 2 == 0)
      text += "/p2p/Qm" + std::to_string(i);
    entries.push_back(text);
  }
  entries.push_back("/ip6/2001:db8::/ipcidr/32");
  ip_allowlist a{entries};
  CHECK(a.size() == 100001);
  CHECK(a.allows(ip("10.1.134.159"))); // entry 99999
  CHECK(a.allows(ip("10.1.134.158"), "Qm99998"));
  CHECK_FALSE(a.allows(ip("10.1.134.158"), "Qm99997"));
  CHECK_FALSE(a.allows(ip("10.1.134.160"))); // 100000: not in the list
  CHECK(a.allows(ip("2001:db8:1::1"), "QmX"));
}
