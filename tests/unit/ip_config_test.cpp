// The config keys of DESIGN §6.2: "ip_limits", "attempt_rates", "allowlist".
#include <doctest/doctest.h>

#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;
using nlohmann::json;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_config_text(text);
  REQUIRE_FALSE(r);
  return r.error().text();
}

node_config parsed(const std::string& text) {
  auto r = parse_config_text(text);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().text()));
  return *r;
}

} // namespace

TEST_CASE("absent keys: no per-IP limit, no attempt rate, an empty allowlist") {
  auto c = parsed("{}");
  CHECK_FALSE(c.ip_limits.present);
  CHECK_FALSE(c.attempt_rates.present);
  CHECK(c.allowlist.empty());
  auto j = to_json(c);
  CHECK_FALSE(j.contains("ip_limits"));
  CHECK_FALSE(j.contains("attempt_rates"));
  CHECK_FALSE(j.contains("allowlist"));
}

TEST_CASE("\"defaults\" is go-libp2p's lists") {
  auto c = parsed(R"({"ip_limits": "defaults", "attempt_rates": "defaults"})");
  CHECK(c.ip_limits == default_ip_limits());
  REQUIRE(c.ip_limits.subnet_v4.size() == 1);
  CHECK(c.ip_limits.subnet_v4[0].prefix_length == 32);
  CHECK(c.ip_limits.subnet_v4[0].conns == 8);
  REQUIRE(c.ip_limits.subnet_v6.size() == 2);
  CHECK(c.ip_limits.subnet_v6[0].prefix_length == 56);
  CHECK(c.ip_limits.subnet_v6[0].conns == 8);
  CHECK(c.ip_limits.subnet_v6[1].prefix_length == 48);
  CHECK(c.ip_limits.subnet_v6[1].conns == 64);
  REQUIRE(c.ip_limits.network_prefix.size() == 2);
  CHECK(c.ip_limits.network_prefix[0].prefix == "127.0.0.0/8");
  CHECK(c.ip_limits.network_prefix[0].conns == no_limit);
  CHECK(c.ip_limits.network_prefix[1].prefix == "::1/128");
  CHECK(c.attempt_rates == default_attempt_rates());
  REQUIRE(c.attempt_rates.subnet_v6.size() == 2);
  CHECK(c.attempt_rates.subnet_v6[1].bucket.rate_per_s == 0.5);
  CHECK(c.attempt_rates.subnet_v6[1].bucket.burst == 80);
  CHECK(c.attempt_rates.subnet_v4[0].bucket.rate_per_s == 0.2);
  CHECK(c.attempt_rates.subnet_v4[0].bucket.burst == 16);
  CHECK_FALSE(c.attempt_rates.global.present());
  auto j = to_json(c);
  CHECK(j["ip_limits"] == "defaults");
  CHECK(j["attempt_rates"] == "defaults");
}

TEST_CASE("explicit objects hold only what they name, and round-trip") {
  auto text = R"({
    "ip_limits": {"network_prefix": [{"prefix": "10.0.0.0/8", "conns": 5},
                                     {"prefix": "/ip6/::1/ipcidr/128", "conns": "unlimited"}],
                  "subnet_v4": [{"prefix_length": 32, "conns": 1}],
                  "subnet_v6": [{"prefix_length": 56, "conns": 2}]},
    "attempt_rates": {"global": {"rate_per_s": 1, "burst": 2},
                      "network_prefix": [{"prefix": "10.0.0.0/8", "rate_per_s": 5, "burst": 10}],
                      "subnet_v4": [{"prefix_length": 24, "rate_per_s": 0.5, "burst": 4}]},
    "allowlist": ["/ip4/1.2.3.4", "/ip4/1.2.3.0/ipcidr/24/p2p/QmA", "/ip6/2001:db8::/ipcidr/48"]
  })";
  auto c = parsed(text);
  CHECK(c.ip_limits.present);
  CHECK_FALSE(c.ip_limits.defaults);
  REQUIRE(c.ip_limits.network_prefix.size() == 2);
  CHECK(c.ip_limits.network_prefix[0].conns == 5);
  CHECK(c.ip_limits.network_prefix[1].conns == no_limit);
  CHECK(c.ip_limits.subnet_v4 == std::vector<ip_subnet_limit>{{32, 1}});
  CHECK(c.ip_limits.subnet_v6 == std::vector<ip_subnet_limit>{{56, 2}});
  CHECK(c.attempt_rates.global.burst == 2);
  CHECK(c.attempt_rates.subnet_v6.empty());
  CHECK(c.allowlist.size() == 3);
  auto again = parse_config(to_json(c));
  REQUIRE(again);
  CHECK(again->ip_limits == c.ip_limits);
  CHECK(again->attempt_rates == c.attempt_rates);
  CHECK(again->allowlist == c.allowlist);
  CHECK(to_json(*again) == to_json(c));
}

TEST_CASE("bad values are errors naming their JSON path") {
  CHECK(error_of(R"({"ip_limits": "default"})") ==
        "/ip_limits: expected an object or \"defaults\"");
  CHECK(error_of(R"({"ip_limits": 3})") == "/ip_limits: expected an object");
  CHECK(error_of(R"({"ip_limits": {"subnet": []}})") == "/ip_limits/subnet: unknown key");
  CHECK(error_of(R"({"ip_limits": {"subnet_v4": {}}})") ==
        "/ip_limits/subnet_v4: expected an array");
  CHECK(
      error_of(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 33, "conns": 1}]}})") ==
      "/ip_limits/subnet_v4/0/prefix_length: must be at most 32");
  CHECK(
      error_of(R"({"ip_limits": {"subnet_v6": [{"prefix_length": 129, "conns": 1}]}})") ==
      "/ip_limits/subnet_v6/0/prefix_length: must be at most 128");
  CHECK(error_of(R"({"ip_limits": {"subnet_v6": [{"prefix_length": 48}]}})") ==
        "/ip_limits/subnet_v6/0/conns: missing");
  CHECK(
      error_of(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": -1}]}})") ==
      "/ip_limits/subnet_v4/0/conns: must not be negative");
  CHECK(
      error_of(
          R"({"ip_limits": {"network_prefix": [{"prefix": "10.0.0.0/33", "conns": 1}]}})") ==
      "/ip_limits/network_prefix/0/prefix: '10.0.0.0/33' is not a CIDR prefix "
      "(\"10.0.0.0/8\", \"2001:db8::/32\" or \"/ip4/10.0.0.0/ipcidr/8\")");
  CHECK(
      error_of(
          R"({"ip_limits": {"network_prefix": [{"prefix": "10.0.0.0/8", "conns": "lots"}]}})") ==
      "/ip_limits/network_prefix/0/conns: expected a non-negative integer or "
      "\"unlimited\"");
  CHECK(error_of(R"({"attempt_rates": {"global": {"rate_per_s": 1}}})") ==
        "/attempt_rates/global/burst: missing");
  CHECK(error_of(R"({"attempt_rates": {"global": {"rate_per_s": 0, "burst": 1}}})") ==
        "/attempt_rates/global/rate_per_s: must be greater than 0");
  CHECK(error_of(R"({"attempt_rates": {"global": {"rate_per_s": 1, "burst": 0}}})") ==
        "/attempt_rates/global/burst: must be at least 1");
  CHECK(
      error_of(
          R"({"attempt_rates": {"subnet_v4": [{"prefix_length": 24, "rate_per_s": -1, "burst": 1}]}})") ==
      "/attempt_rates/subnet_v4/0/rate_per_s: must be greater than 0");
  CHECK(
      error_of(
          R"({"attempt_rates": {"network_prefix": [{"prefix": "x", "rate_per_s": 1, "burst": 1}]}})")
          .rfind("/attempt_rates/network_prefix/0/prefix: 'x' is not a CIDR prefix", 0) ==
      0);
  CHECK(
      error_of(
          R"({"attempt_rates": {"global": {"rate_per_s": 1, "burst": 1, "x~/": 1}}})") ==
      "/attempt_rates/global/x~0~1: unknown key");
  CHECK(error_of(R"({"allowlist": "/ip4/1.2.3.4"})") == "/allowlist: expected an array");
  CHECK(error_of(R"({"allowlist": ["/ip4/1.2.3.4", 7]})") ==
        "/allowlist/1: expected a multiaddr string");
  CHECK(
      error_of(R"({"allowlist": ["/ip4/1.2.3.4", "/ip4/1.2.3.4/tcp/1"]})") ==
      "/allowlist/1: '/ip4/1.2.3.4/tcp/1' is not an allowlist multiaddr (/ip4/<address> "
      "or /ip6/<address>, optionally /ipcidr/<length>, optionally /p2p/<peer>)");
}

TEST_CASE("the denials ip_limit and attempt_rate round-trip through their JSON form") {
  auto d = ip_limit_denial("1.2.3.4", "1.2.3.4/32", 1, 1, 2);
  auto j = to_json(d);
  CHECK(j == json{{"code", "ip_limit"},
                  {"ip", "1.2.3.4"},
                  {"prefix", "1.2.3.4/32"},
                  {"limit", 1},
                  {"current", 1},
                  {"conn", 2}});
  auto back = denial_from_json(j);
  REQUIRE(back);
  CHECK(*back == d);
  auto r = attempt_rate_denial("2001:db8::1", "2001:db8::/56", 5000, 9);
  auto k = to_json(r);
  CHECK(k == json{{"code", "attempt_rate"},
                  {"ip", "2001:db8::1"},
                  {"prefix", "2001:db8::/56"},
                  {"retry_after_ms", 5000},
                  {"conn", 9}});
  auto again = denial_from_json(k);
  REQUIRE(again);
  CHECK(*again == r);
  auto bad = denial_from_json(json{{"code", "ip_limit"}, {"ip", 5}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "field 'ip' must be a string");
}
