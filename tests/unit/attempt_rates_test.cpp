// Connection-attempt rates with go-libp2p's numbers (conn_rate_limiter_test.go,
// x/rate): global, network-prefix and subnet buckets on a time parameter.
#include <doctest/doctest.h>

#include "actors/gate/ip/attempt_rates.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms = 1000000;
constexpr time_ns s = 1000 * ms;

ip_address ip(const std::string& text) {
  auto r = parse_ip(text);
  REQUIRE(r.ok());
  return *r;
}

attempt_rates_config global(double rate, std::uint64_t burst) {
  attempt_rates_config c;
  c.present = true;
  c.global = {rate, burst};
  return c;
}

} // namespace

TEST_CASE("a global attempt rate of burst 2: two attempts, then refused") {
  attempt_rates r{global(1, 2)};
  CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  CHECK_FALSE(r.attempt(ip("5.6.7.8"), 0));
  auto no = r.attempt(ip("9.9.9.9"), 0);
  REQUIRE(no);
  CHECK(no->prefix == "global");
  CHECK(no->retry_after_ms == 1000);
  auto later = r.attempt(ip("9.9.9.9"), 400 * ms);
  REQUIRE(later);
  CHECK(later->retry_after_ms == 600);
  CHECK_FALSE(r.attempt(ip("9.9.9.9"), 1000 * ms)); // one token back
  CHECK(r.allowed() == 3);
  CHECK(r.denied() == 2);
}

TEST_CASE("go's defaults: burst 16 per IPv4 address at 0.2/s, loopback exempt") {
  attempt_rates r{default_attempt_rates()};
  for (int i = 0; i < 16; ++i)
    CHECK_FALSE(r.attempt(ip("192.0.2.1"), 0));
  auto no = r.attempt(ip("192.0.2.1"), 0);
  REQUIRE(no);
  CHECK(no->prefix == "192.0.2.1/32");
  CHECK(no->retry_after_ms == 5000);
  CHECK_FALSE(r.attempt(ip("192.0.2.2"), 0)); // another address
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(r.attempt(ip("127.0.0.1"), 0));
    CHECK_FALSE(r.attempt(ip("::1"), 0));
  }
  CHECK_FALSE(r.attempt(ip("192.0.2.1"), 5 * s)); // one token back
}

TEST_CASE("go's defaults for IPv6: 16 per /56, 80 per /48") {
  attempt_rates r{default_attempt_rates()};
  for (int i = 0; i < 16; ++i)
    CHECK_FALSE(r.attempt(ip("2001:db8:0:1::1"), 0));
  auto no = r.attempt(ip("2001:db8:0:2::1"), 0); // same /56
  REQUIRE(no);
  CHECK(no->prefix == "2001:db8::/56");
  CHECK(no->retry_after_ms == 5000);
  // The /48 had 16 taken (the refused attempt took its /56's none and
  // stopped there); 64 more from other /56s, then the /48 refuses.
  for (int i = 1; i <= 64; ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "2001:db8:0:%x00::1", i);
    CHECK_FALSE(r.attempt(ip(text), 0));
  }
  auto full = r.attempt(ip("2001:db8:0:ff00::1"), 0);
  REQUIRE(full);
  CHECK(full->prefix == "2001:db8::/48");
  CHECK(full->retry_after_ms == 2000); // 0.5/s
}

TEST_CASE("the most specific network prefix decides alone, global untouched") {
  attempt_rates_config c = global(1, 1);
  c.network_prefix = {{"10.0.0.0/8", {1, 3}, false}, {"10.1.0.0/16", {1, 1}, false}};
  c.subnet_v4 = {{32, {1, 1}}};
  attempt_rates r{c};
  CHECK_FALSE(r.attempt(ip("10.1.0.1"), 0));
  auto no = r.attempt(ip("10.1.0.1"), 0);
  REQUIRE(no);
  CHECK(no->prefix == "10.1.0.0/16");
  for (int i = 0; i < 3; ++i)
    CHECK_FALSE(r.attempt(ip("10.2.0.1"), 0)); // 10/8's burst, not the /32's
  CHECK(r.attempt(ip("10.2.0.1"), 0)->prefix == "10.0.0.0/8");
  CHECK_FALSE(r.attempt(ip("11.0.0.1"), 0)); // the global bucket is still full
}

TEST_CASE("a bucket that allowed keeps its token when a later one refuses") {
  attempt_rates_config c = global(1, 2);
  c.subnet_v4 = {{32, {0.001, 3}}};
  attempt_rates r{c};
  CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  CHECK(r.attempt(ip("1.2.3.4"), 0)->prefix == "global");
  // The /32 gave its third token to the refused attempt.
  auto no = r.attempt(ip("1.2.3.4"), 10 * s);
  REQUIRE(no);
  CHECK(no->prefix == "1.2.3.4/32");
  CHECK(no->retry_after_ms == 990000);
}

TEST_CASE("buckets expire once full again, under a hard cap") {
  attempt_rates r{default_attempt_rates(), 3};
  CHECK_FALSE(r.attempt(ip("192.0.2.1"), 0));
  CHECK(r.live_buckets() == 1);
  r.expire(5 * s - 1);
  CHECK(r.live_buckets() == 1);
  r.expire(5 * s);
  CHECK(r.live_buckets() == 0);
  for (int i = 1; i <= 5; ++i)
    CHECK_FALSE(r.attempt(ip("192.0.2." + std::to_string(i)), 6 * s));
  CHECK(r.live_subnet_buckets() == 3);
  CHECK(r.evictions() == 2);
  // IPv6: two buckets per attempt, the same cap.
  CHECK_FALSE(r.attempt(ip("2001:db8::1"), 6 * s));
  CHECK(r.live_subnet_buckets() == 3);
}

TEST_CASE("a changed config starts every bucket full; the same config keeps them") {
  attempt_rates r{global(1, 1)};
  CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  r.configure(global(1, 1));
  CHECK(r.attempt(ip("1.2.3.4"), 0));
  r.configure(global(1, 2));
  CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  r.configure({});
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(r.attempt(ip("1.2.3.4"), 0));
  CHECK(r.live_buckets() == 0);
}
