// Per-IP connection limits with go-libp2p's numbers (conn_limiter_test.go).
#include <doctest/doctest.h>

#include "actors/gate/ip/ip_conn_limits.hpp"

using namespace rcmgr;

namespace {

ip_address ip(const std::string& text) {
  auto r = parse_ip(text);
  REQUIRE(r.ok());
  return *r;
}

ip_prefix cidr(const std::string& text) {
  auto r = parse_cidr(text);
  REQUIRE(r.ok());
  return *r;
}

ip_limits_config subnets(std::vector<ip_subnet_limit> v4,
                         std::vector<ip_subnet_limit> v6) {
  ip_limits_config c;
  c.present = true;
  c.subnet_v4 = std::move(v4);
  c.subnet_v6 = std::move(v6);
  return c;
}

} // namespace

TEST_CASE("IPv4 /32 limit 1: the second connection from the address is refused") {
  ip_conn_limits l{subnets({{32, 1}}, {})};
  CHECK_FALSE(l.admit(1, ip("1.2.3.4")));
  auto r = l.admit(2, ip("1.2.3.4"));
  REQUIRE(r);
  CHECK(r->prefix == "1.2.3.4/32");
  CHECK(r->limit == 1);
  CHECK(r->current == 1);
  CHECK_FALSE(l.admit(3, ip("1.2.3.5"))); // another address
  l.remove(1);
  CHECK_FALSE(l.admit(2, ip("1.2.3.4"))); // room again
}

TEST_CASE("IPv6 /56 limit 1: the same /56 is refused, another /56 allowed") {
  ip_conn_limits l{subnets({}, {{56, 1}})};
  CHECK_FALSE(l.admit(1, ip("2001:db8:0:1::1")));
  auto r = l.admit(2, ip("2001:db8:0:2::1")); // same /56
  REQUIRE(r);
  CHECK(r->prefix == "2001:db8::/56");
  CHECK(r->limit == 1);
  CHECK(r->current == 1);
  CHECK_FALSE(l.admit(3, ip("2001:db8:0:100::1"))); // another /56
}

TEST_CASE("go's IPv6 defaults: 8 in one /56, then refused") {
  ip_conn_limits l{default_ip_limits()};
  for (connection_id c = 1; c <= 8; ++c)
    CHECK_FALSE(l.admit(c, ip("2001:db8:1:1::" + std::to_string(c))));
  auto r = l.admit(9, ip("2001:db8:1:1::9"));
  REQUIRE(r);
  CHECK(r->prefix == "2001:db8:1::/56");
  CHECK(r->limit == 8);
  CHECK(r->current == 8);
}

TEST_CASE("go's IPv6 defaults: 64 /56s in one /48, then refused") {
  ip_conn_limits l{default_ip_limits()};
  // One connection in each of 64 /56s of 2001:db8:1::/48.
  for (int i = 0; i < 64; ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "2001:db8:1:%x00::1", i);
    CHECK_FALSE(l.admit(static_cast<connection_id>(i + 1), ip(text)));
  }
  auto r = l.admit(100, ip("2001:db8:1:4000::1"));
  REQUIRE(r);
  CHECK(r->prefix == "2001:db8:1::/48");
  CHECK(r->limit == 64);
  CHECK(r->current == 64);
  CHECK(l.count_of(cidr("2001:db8:1::/48")) == 64);
  CHECK_FALSE(l.admit(101, ip("2001:db8:2::1"))); // another /48
}

TEST_CASE("go's defaults: 8 per IPv4 address, loopback exempt") {
  ip_conn_limits l{default_ip_limits()};
  for (connection_id c = 1; c <= 8; ++c)
    CHECK_FALSE(l.admit(c, ip("192.0.2.1")));
  auto r = l.admit(9, ip("192.0.2.1"));
  REQUIRE(r);
  CHECK(r->prefix == "192.0.2.1/32");
  for (connection_id c = 100; c < 1100; ++c) {
    CHECK_FALSE(l.admit(c, ip("127.0.0.1")));
    CHECK_FALSE(l.admit(c + 10000, ip("::1")));
  }
  CHECK(l.count_of(cidr("127.0.0.0/8")) == 1000);
}

TEST_CASE("the most specific network prefix decides alone") {
  ip_limits_config c = subnets({{32, 1}}, {});
  c.network_prefix = {{"10.0.0.0/8", 5}, {"10.1.0.0/16", 2}};
  ip_conn_limits l{c};
  // 10.1/16 decides: two, though the /32 limit is 1.
  CHECK_FALSE(l.admit(1, ip("10.1.0.1")));
  CHECK_FALSE(l.admit(2, ip("10.1.0.1")));
  auto r = l.admit(3, ip("10.1.0.1"));
  REQUIRE(r);
  CHECK(r->prefix == "10.1.0.0/16");
  CHECK(r->limit == 2);
  CHECK(r->current == 2);
  // 10/8 counts only what 10.1/16 does not.
  for (connection_id id = 10; id < 15; ++id)
    CHECK_FALSE(l.admit(id, ip("10.2.0.1")));
  CHECK(l.admit(15, ip("10.3.0.1"))->prefix == "10.0.0.0/8");
  // Outside every prefix: the subnet limits.
  CHECK_FALSE(l.admit(20, ip("11.0.0.1")));
  CHECK(l.admit(21, ip("11.0.0.1"))->prefix == "11.0.0.1/32");
}

TEST_CASE("every subnet limit must pass, and a refusal counts nothing") {
  ip_conn_limits l{subnets({{32, 2}, {24, 3}}, {})};
  CHECK_FALSE(l.admit(1, ip("1.2.3.1")));
  CHECK_FALSE(l.admit(2, ip("1.2.3.1")));
  CHECK_FALSE(l.admit(3, ip("1.2.3.2")));
  auto r = l.admit(4, ip("1.2.3.3")); // its /32 is empty, its /24 full
  REQUIRE(r);
  CHECK(r->prefix == "1.2.3.0/24");
  CHECK(r->current == 3);
  CHECK(l.count_of(cidr("1.2.3.3/32")) == 0);
  CHECK(l.count_of(cidr("1.2.3.0/24")) == 3);
  CHECK(l.connections() == 3);
}

TEST_CASE("removal returns counts to zero and frees the entries") {
  ip_conn_limits l{default_ip_limits()};
  CHECK_FALSE(l.admit(1, ip("2001:db8::1")));
  CHECK_FALSE(l.admit(2, ip("192.0.2.1")));
  CHECK_FALSE(l.admit(3, ip("127.0.0.1")));
  CHECK(l.live_entries() == 4); // /56, /48, /32, 127/8
  l.remove(1);
  l.remove(2);
  l.remove(3);
  l.remove(3); // twice: nothing
  l.remove(99);
  CHECK(l.live_entries() == 0);
  CHECK(l.connections() == 0);
}

TEST_CASE("a config update counts the live connections under the new limits") {
  ip_conn_limits l{subnets({{32, 8}}, {})};
  for (connection_id c = 1; c <= 3; ++c)
    CHECK_FALSE(l.admit(c, ip("1.2.3.4")));
  l.configure(subnets({{32, 2}}, {}));
  CHECK(l.count_of(cidr("1.2.3.4/32")) == 3); // kept, over the new limit
  CHECK(l.admit(4, ip("1.2.3.4"))->current == 3);
  l.configure({});
  CHECK_FALSE(l.admit(4, ip("1.2.3.4"))); // no limit
  CHECK(l.connections() == 4);
  CHECK(l.live_entries() == 0);
}

TEST_CASE("the dump's lists: highest counts first, capped; denials by rule") {
  ip_conn_limits l{default_ip_limits()};
  CHECK_FALSE(l.admit(1, ip("192.0.2.1")));
  CHECK_FALSE(l.admit(2, ip("192.0.2.2")));
  CHECK_FALSE(l.admit(3, ip("192.0.2.2")));
  for (connection_id c = 10; c < 18; ++c)
    l.admit(c, ip("192.0.2.3"));
  CHECK(l.admit(20, ip("192.0.2.3")));
  std::size_t total = 0;
  auto top = l.top_counts(2, total);
  CHECK(total == 3);
  REQUIRE(top.size() == 2);
  CHECK(top[0].prefix == "192.0.2.3/32");
  CHECK(top[0].conns == 8);
  CHECK(top[0].limit == 8);
  CHECK(top[1].prefix == "192.0.2.2/32");
  CHECK(top[1].conns == 2);
  auto d = l.denials_by_rule();
  REQUIRE(d.size() == 5);
  CHECK(d[0] == std::make_pair(std::string{"::1/128"}, std::uint64_t{0}));
  CHECK(d[1] == std::make_pair(std::string{"127.0.0.0/8"}, std::uint64_t{0}));
  CHECK(d[2] == std::make_pair(std::string{"ipv4/32"}, std::uint64_t{1}));
  CHECK(d[3] == std::make_pair(std::string{"ipv6/56"}, std::uint64_t{0}));
  CHECK(d[4] == std::make_pair(std::string{"ipv6/48"}, std::uint64_t{0}));
}
