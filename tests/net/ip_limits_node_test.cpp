// Per-IP limits and attempt rates on real sockets: clients bound to distinct
// 127.0.0.x source addresses, one node, its REJECTs and its dump.
#include "net_fixture.hpp"

#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

node_config config_of(const char* text) {
  auto c = parse_config_text(text);
  REQUIRE(c);
  return *c;
}

/// Says HELLO as `peer` and expects the node's HELLO back.
void admitted(wire_client& c, const std::string& peer) {
  c.send(encode_hello(peer));
  auto f = c.expect_frame();
  REQUIRE(f.type == frame_type::hello);
  CHECK(f.peer == "server");
}

} // namespace

TEST_CASE_FIXTURE(node_fixture,
                  "two connections per /32: the third from one address gets an "
                  "ip_limit REJECT, another address gets in") {
  start(
      config_of(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 2}]}})"));
  wire_client a1{port, "127.0.0.2"};
  admitted(a1, "a1");
  wire_client a2{port, "127.0.0.2"};
  admitted(a2, "a2");
  wire_client a3{port, "127.0.0.2"};
  // Refused at the pending stage: the REJECT names the address and the subnet,
  // then the node closes. Connections are numbered in accept order.
  auto f = a3.expect_frame();
  REQUIRE(f.type == frame_type::reject);
  CHECK(f.why == ip_limit_denial("127.0.0.2", "127.0.0.2/32", 2, 2, 3));
  CHECK(a3.closed_within());
  wire_client b1{port, "127.0.0.3"};
  admitted(b1, "b1");
  CHECK(dump_reaches("/connections/established/inbound", 3));
  CHECK(at("/connections/pending/inbound") == 0);
  CHECK(at("/ip_limits/connections") == 3);
  CHECK(at("/ip_limits/denials/ip_limit") == nlohmann::json{{"ipv4/32", 1}});
  // A slot freed by a close is free again for the same address.
  a1.reset();
  CHECK(dump_reaches("/ip_limits/connections", 2));
  wire_client a4{port, "127.0.0.2"};
  admitted(a4, "a4");
  CHECK(dump_reaches("/ip_limits/connections", 3));
}

TEST_CASE_FIXTURE(node_fixture,
                  "an attempt rate of burst 2 per /32: the third attempt from one "
                  "address gets an attempt_rate REJECT with its retry time") {
  // 0.001 tokens/s: the bucket cannot refill during the test.
  start(config_of(R"({"attempt_rates": {"subnet_v4":
      [{"prefix_length": 32, "rate_per_s": 0.001, "burst": 2}]}})"));
  {
    wire_client c1{port, "127.0.0.4"};
    admitted(c1, "c1");
  } // an attempt is spent even when its connection closes again
  wire_client c2{port, "127.0.0.4"};
  admitted(c2, "c2");
  wire_client c3{port, "127.0.0.4"};
  auto f = c3.expect_frame();
  REQUIRE(f.type == frame_type::reject);
  CHECK(f.why.code == denial_code::attempt_rate);
  CHECK(f.why.ip == "127.0.0.4");
  CHECK(f.why.prefix == "127.0.0.4/32");
  CHECK(f.why.conn == 3);
  // One token at 0.001/s: 1000 s, less what has passed since the first attempt.
  CHECK(f.why.retry_after_ms > 990'000);
  CHECK(f.why.retry_after_ms <= 1'000'000);
  CHECK(c3.closed_within());
  wire_client d1{port, "127.0.0.5"};
  admitted(d1, "d1");
  CHECK(dump_reaches("/ip_limits/denials/attempt_rate", nlohmann::json{{"ipv4/32", 1}}));
  CHECK(at("/ip_limits/rate_buckets/denied") == 1);
  CHECK(at("/connections/established/inbound") == 2);
  CHECK(at("/connections/pending/inbound") == 0);
}

TEST_CASE_FIXTURE(node_fixture,
                  "an allowlisted address skips the per-IP limit on real sockets") {
  start(config_of(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 1}]},
                      "allowlist": ["/ip4/127.0.0.6"]})"));
  wire_client t1{port, "127.0.0.6"};
  admitted(t1, "t1");
  wire_client t2{port, "127.0.0.6"};
  admitted(t2, "t2");
  wire_client u1{port, "127.0.0.7"};
  admitted(u1, "u1");
  wire_client u2{port, "127.0.0.7"};
  auto f = u2.expect_frame();
  REQUIRE(f.type == frame_type::reject);
  CHECK(f.why == ip_limit_denial("127.0.0.7", "127.0.0.7/32", 1, 1, 4));
  CHECK(u2.closed_within());
  CHECK(dump_reaches("/connections/established/inbound", 3));
}

TEST_CASE_FIXTURE(node_fixture,
                  "a node dialling a node that refuses its address learns the denial") {
  start(
      config_of(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 0}]}})"));
  runtime rt_b{sys, node_config{}};
  auto& hb = rt_b.handles();
  node_options ob;
  ob.peer = "dialer";
  net::node b{sys, net::node_actors{hb.gate, hb.rate_limiter, {}}, ob};
  auto r = b.connect("127.0.0.1", port).get();
  CHECK_FALSE(r.ok);
  CHECK(r.refused_by_remote);
  REQUIRE(r.refused);
  CHECK(*r.refused == ip_limit_denial("127.0.0.1", "127.0.0.1/32", 0, 0, 1));
  b.shutdown();
  CHECK(dump_reaches("/ip_limits/denials/ip_limit", nlohmann::json{{"ipv4/32", 1}}));
  CHECK(at("/connections/total") == 0);
}
