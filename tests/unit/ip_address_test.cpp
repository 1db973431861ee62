// IP addresses, CIDR prefixes and allowlist entries from their texts.
#include <doctest/doctest.h>

#include "messages/ip_address.hpp"

using namespace rcmgr;

namespace {

ip_address ip(const char* text) {
  auto r = parse_ip(text);
  REQUIRE(r.ok());
  return *r;
}

} // namespace

TEST_CASE("addresses of both families parse and print") {
  CHECK(to_string(ip("1.2.3.4")) == "1.2.3.4");
  CHECK_FALSE(ip("1.2.3.4").v6);
  CHECK(to_string(ip("2001:db8:0:0::1")) == "2001:db8::1");
  CHECK(ip("::1").v6);
  // An IPv4-mapped IPv6 address is the IPv4 address.
  CHECK(ip("::ffff:10.0.0.1") == ip("10.0.0.1"));
  CHECK(ip("127.0.0.9").is_loopback());
  CHECK(ip("::1").is_loopback());
  CHECK_FALSE(ip("::2").is_loopback());
  CHECK_FALSE(ip("128.0.0.1").is_loopback());
}

TEST_CASE("bad address text is an error naming it") {
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "1.2.3.4.5", "::g", "hello",
                          "1.2.3.4/24", " 1.2.3.4"}) {
    auto r = parse_ip(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "'" + std::string{bad} + "' is not an IP address");
  }
  auto long_text = std::string(500, '1');
  auto r = parse_ip(long_text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.size() < 120); // the text is cut short
}

TEST_CASE("CIDR strings and /ipcidr multiaddrs are masked prefixes") {
  auto p = parse_cidr("10.1.2.3/8");
  REQUIRE(p.ok());
  CHECK(to_string(*p) == "10.0.0.0/8");
  CHECK(p->contains(ip("10.255.0.1")));
  CHECK_FALSE(p->contains(ip("11.0.0.1")));
  CHECK_FALSE(p->contains(ip("::a00:1"))); // another family
  auto m = parse_cidr("/ip4/1.2.3.0/ipcidr/24");
  REQUIRE(m.ok());
  CHECK(to_string(*m) == "1.2.3.0/24");
  auto v6 = parse_cidr("2001:db8:ab:cd::/56");
  REQUIRE(v6.ok());
  CHECK(to_string(*v6) == "2001:db8:ab::/56");
  auto bare = parse_cidr("::1");
  REQUIRE(bare.ok());
  CHECK(to_string(*bare) == "::1/128");
  CHECK(to_string(*parse_cidr("0.0.0.0/0")) == "0.0.0.0/0");
  CHECK(to_string(*parse_cidr("1.2.3.4/31")) == "1.2.3.4/31");
  CHECK(to_string(*parse_cidr("1.2.3.5/31")) == "1.2.3.4/31");
  for (const char* bad : {"1.2.3.0/33", "::/129", "1.2.3.0/", "1.2.3.0/-1", "1.2.3.0/2a",
                          "/ip4/1.2.3.0/ipcidr/40", "/ip4/::1", "/ip6/1.2.3.4",
                          "/ip4/1.2.3.0/tcp/80", "x/8"}) {
    auto r = parse_cidr(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("'" + std::string{bad} + "' is not a CIDR prefix", 0) ==
          0);
  }
}

TEST_CASE("the IP of a connection's address") {
  CHECK(ip_of_address("/ip4/1.2.3.4/tcp/80") == ip("1.2.3.4"));
  CHECK(ip_of_address("/ip6/::1/tcp/80") == ip("::1"));
  CHECK(ip_of_address("/ip6/2001:db8::5/udp/1/quic-v1") == ip("2001:db8::5"));
  CHECK(ip_of_address("1.2.3.4:80") == ip("1.2.3.4"));
  CHECK(ip_of_address("[2001:db8::1]:443") == ip("2001:db8::1"));
  CHECK(ip_of_address("10.0.0.1") == ip("10.0.0.1"));
  CHECK(ip_of_address("fe80::1") == ip("fe80::1"));
  CHECK_FALSE(ip_of_address("/dns4/example.com/tcp/80"));
  CHECK_FALSE(ip_of_address("/ip4/999.1.1.1/tcp/80"));
  CHECK_FALSE(ip_of_address("[::1"));
  CHECK_FALSE(ip_of_address(""));
  CHECK_FALSE(ip_of_address("garbage"));
}

TEST_CASE("allowlist entries as go reads them") {
  auto a = parse_allowlist_entry("/ip4/1.2.3.4");
  REQUIRE(a.ok());
  CHECK(to_string(a->network) == "1.2.3.4/32");
  CHECK(a->peer.empty());
  auto b = parse_allowlist_entry("/ip4/1.2.3.0/ipcidr/24/p2p/QmPeer");
  REQUIRE(b.ok());
  CHECK(to_string(b->network) == "1.2.3.0/24");
  CHECK(b->peer == "QmPeer");
  auto c = parse_allowlist_entry("/ip6/2001:db8::/ipcidr/48");
  REQUIRE(c.ok());
  CHECK(to_string(c->network) == "2001:db8::/48");
  for (const char* bad : {"1.2.3.4", "/ip4/1.2.3.4/tcp/80", "/ip4/1.2.3.4/p2p/",
                          "/ip4/1.2.3.4/p2p/a/b", "/dns4/x", "/ip4/1.2.3.4/ipcidr/33"}) {
    auto r = parse_allowlist_entry(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("'" + std::string{bad} + "' is not an allowlist", 0) ==
          0);
  }
}
