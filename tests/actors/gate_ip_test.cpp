// The gate's per-IP limits, attempt rates and allowlist (DESIGN §6.2) as an
// actor, on the deterministic scheduler: typed events and batches carry the
// addresses, subscribers hear the denials, config updates replace the rules,
// and the dump part `ip_limits`.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include "actors/gate/gate_actor.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

using nlohmann::json;

node_config config(const char* text) {
  auto r = parse_config_text(text);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture, "typed events: per-IP refusals reach the subscribers") {
  outcome_log log;
  auto [gate, rec] = spawn_recorded(
      *this,
      config(R"({"ip_limits": {"subnet_v6": [{"prefix_length": 56, "conns": 1}]}})"),
      &log);
  CHECK(
      verdict_of(gate, pending_inbound{1, "l", "/ip6/2001:db8:0:1::1/tcp/1"}).allowed());
  auto same = verdict_of(gate, pending_inbound{2, "l", "/ip6/2001:db8:0:2::1/tcp/1"});
  CHECK(same.why == ip_limit_denial("2001:db8:0:2::1", "2001:db8::/56", 1, 1, 2));
  CHECK(
      verdict_of(gate, pending_outbound{3, "P", {"/ip6/2001:db8:1::1/tcp/1"}}).allowed());
  CHECK(verdict_of(gate, connection_closed{1, "", ""}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, pending_inbound{2, "l", "[2001:db8:0:2::1]:4001"}).allowed());
  CHECK(log.lines == std::vector<std::string>{"admitted 1 pending inbound",
                                              "denied 2 pending_inbound ip_limit",
                                              "admitted 3 pending outbound",
                                              "released 1 connection_closed",
                                              "admitted 2 pending inbound"});
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture, "a batch: each event's addresses, in order") {
  auto gate = spawn_gate(
      sys, config(R"({"attempt_rates": {"global": {"rate_per_s": 1, "burst": 2}},
                      "allowlist": ["/ip4/10.0.0.1"]})"));
  lifecycle_batch b;
  batch_writer w{b};
  std::vector<std::string> a1{"/ip4/1.1.1.1/tcp/1"}, a2{"/ip4/1.1.1.2/tcp/1"},
      a3{"/ip4/1.1.1.3/tcp/1"}, a4{"/ip4/10.0.0.1/tcp/1"};
  w.add(event_kind::pending_inbound, 1, {}, "l", text_list{a1}, {});
  w.add(event_kind::pending_inbound, 2, {}, "l", text_list{a2}, {});
  w.add(event_kind::pending_inbound, 3, {}, "l", text_list{a3}, {});
  w.add(event_kind::pending_inbound, 4, {}, "l", text_list{a4}, {});
  w.add(event_kind::pending_outbound, 5, "P", {}, text_list{a3}, {});
  auto vs = ask<std::vector<verdict>>(gate, std::move(b));
  REQUIRE(vs.size() == 5);
  CHECK(vs[0].allowed());
  CHECK(vs[1].allowed());
  CHECK(vs[2].why == attempt_rate_denial("1.1.1.3", "global", 1000, 3));
  CHECK(vs[3].allowed()); // allowlisted: no attempt token needed
  CHECK(vs[4].why == attempt_rate_denial("1.1.1.3", "global", 1000, 5));
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["ip_limits"]["rate_buckets"]["allowed"] == 2);
  CHECK(part["ip_limits"]["rate_buckets"]["denied"] == 2);
  CHECK(part["ip_limits"]["denials"]["attempt_rate"]["global"] == 2);
  CHECK(part["limits"]["denials"]["attempt_rate"] == 2);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture, "config updates replace the rules; the counts stay") {
  auto gate = spawn_gate(
      sys,
      config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 2}]}})"));
  CHECK(verdict_of(gate, pending_inbound{1, "l", "/ip4/1.2.3.4/tcp/1"}).allowed());
  CHECK(verdict_of(gate, pending_inbound{2, "l", "/ip4/1.2.3.4/tcp/2"}).allowed());
  CHECK(verdict_of(gate, pending_inbound{3, "l", "/ip4/1.2.3.4/tcp/3"}).denied());
  CHECK(verdict_of(gate, config(R"({"ip_limits": "defaults"})")).kind ==
        verdict_kind::ok);
  CHECK(verdict_of(gate, pending_inbound{3, "l", "/ip4/1.2.3.4/tcp/3"}).allowed());
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["ip_limits"]["counts"] ==
        json::array({json{{"prefix", "1.2.3.4/32"}, {"conns", 3}, {"limit", 8}}}));
  CHECK(verdict_of(gate, node_config{}).kind == verdict_kind::ok);
  part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part.count("ip_limits") == 0);
  stop(gate);
}
