// The gate's per-IP rules without the actor (DESIGN §6.1 order, §6.2): the
// wave-1 rules first, then the attempt rate, then the per-IP limit, then the
// scopes; a denial charges nothing; an allowlisted address skips the attempt
// rate and the per-IP limit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/gate_policy.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using nlohmann::json;

namespace {

constexpr time_ns ms = 1000000;

struct sink {
  std::string named_peer;
  std::vector<std::string> lines;
  std::string_view peer() const { return named_peer; }
  void admitted(conn_state, direction, const std::optional<peer_id>&, bool, time_ns) {
    lines.push_back("admitted");
  }
  void denied(const denial& d, time_ns) {
    lines.push_back("denied " + to_string(d.code));
  }
  void released(const std::optional<peer_id>&, std::string_view, time_ns) {
    lines.push_back("released");
  }
};

node_config config(const char* text) {
  auto r = parse_config_text(text);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().text()));
  return *r;
}

struct gate {
  gate_policy policy;
  sink out;
  explicit gate(const node_config& cfg) : policy(cfg) {}

  verdict on(event_kind kind, connection_id conn, std::string address,
             std::string peer = {}, time_ns now = 0) {
    out.named_peer = std::move(peer);
    std::vector<std::string> remote;
    if (!address.empty())
      remote.push_back(std::move(address));
    return policy.decide(kind, conn, out, now, true, text_list{remote});
  }
  verdict in(connection_id conn, std::string address, time_ns now = 0) {
    return on(event_kind::pending_inbound, conn, std::move(address), {}, now);
  }
};

} // namespace

TEST_CASE("the wave-1 limits refuse first and take no attempt token") {
  gate g{config(R"({"connection_limits": {"max_pending_inbound": 1},
                    "attempt_rates": {"global": {"rate_per_s": 1, "burst": 2}}})")};
  CHECK(g.in(1, "/ip4/1.1.1.1/tcp/1").allowed());
  CHECK(g.in(2, "/ip4/1.1.1.2/tcp/1").why->code == denial_code::connection_limit);
  CHECK(g.in(3, "/ip4/1.1.1.3/tcp/1").why->code == denial_code::connection_limit);
  CHECK(g.policy.attempts().allowed() == 1);
  g.on(event_kind::connection_closed, 1, {});
  CHECK(g.in(4, "/ip4/1.1.1.4/tcp/1").allowed()); // the second token
  g.on(event_kind::connection_closed, 4, {});
  auto d = g.in(5, "/ip4/1.1.1.5/tcp/1");
  CHECK(d.why == attempt_rate_denial("1.1.1.5", "global", 1000, 5));
  CHECK(g.policy.counts().pending_inbound == 0); // the denial charges nothing
}

TEST_CASE("the attempt rate before the per-IP limit; a refusal gives back the slot") {
  gate g{config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 1}]},
                    "attempt_rates": {"subnet_v4": [{"prefix_length": 32, "rate_per_s": 1,
                                                     "burst": 2}]}})")};
  CHECK(g.in(1, "/ip4/1.2.3.4/tcp/1").allowed());
  auto per_ip = g.in(2, "/ip4/1.2.3.4/tcp/2");
  CHECK(per_ip.why == ip_limit_denial("1.2.3.4", "1.2.3.4/32", 1, 1, 2));
  // The attempt bucket kept the token the per-IP limit refused.
  auto rate = g.in(3, "/ip4/1.2.3.4/tcp/3", 500 * ms);
  CHECK(rate.why == attempt_rate_denial("1.2.3.4", "1.2.3.4/32", 500, 3));
  CHECK(g.policy.counts().pending_inbound == 1);
  CHECK(g.policy.denials().of(denial_code::ip_limit) == 1);
  CHECK(g.policy.denials().of(denial_code::attempt_rate) == 1);
  CHECK(g.out.lines ==
        std::vector<std::string>{"admitted", "denied ip_limit", "denied attempt_rate"});
}

TEST_CASE("a failure, a close or a refused establishment ends the per-IP count") {
  gate g{config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 1}]},
                    "connection_limits": {"max_established_inbound": 1}})")};
  CHECK(g.in(1, "/ip4/1.2.3.4/tcp/1").allowed());
  g.on(event_kind::listen_failure, 1, {});
  CHECK(g.in(2, "1.2.3.4:80").allowed()); // an endpoint's IP counts too
  CHECK(g.on(event_kind::pending_outbound, 3, "/ip4/5.5.5.5/tcp/1").allowed());
  g.on(event_kind::dial_failure, 3, {});
  CHECK(g.on(event_kind::pending_outbound, 3, "/ip4/5.5.5.5/tcp/1").allowed());
  CHECK(g.on(event_kind::established_outbound, 3, "/ip4/5.5.5.5/tcp/1", "B").allowed());
  g.on(event_kind::connection_closed, 3, {}, "B");
  CHECK(g.in(4, "/ip4/9.9.9.9/tcp/1").allowed());
  CHECK(g.on(event_kind::established_inbound, 4, "/ip4/9.9.9.9/tcp/1", "A").allowed());
  // Refused establishment: the connection is gone, so is its count.
  CHECK(g.in(5, "/ip4/1.2.3.5/tcp/1").allowed());
  CHECK(g.on(event_kind::established_inbound, 5, "/ip4/1.2.3.5/tcp/1", "C").denied());
  CHECK(g.policy.ip_limits().connections() == 2); // 2 and 4
  CHECK(g.in(6, "/ip4/1.2.3.5/tcp/2").allowed());
  // No IP: nothing to count against.
  CHECK(g.in(7, "/dns4/example.com/tcp/1").allowed());
  CHECK(g.in(8, "").allowed());
  CHECK(g.policy.ip_limits().connections() == 3);
}

TEST_CASE("a bypassed peer's dial and an allowlisted address skip both rules") {
  gate g{config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 1}]},
                    "attempt_rates": {"global": {"rate_per_s": 0.001, "burst": 1}},
                    "bypass_peers": ["QmBypass"],
                    "allowlist": ["/ip4/10.0.0.0/ipcidr/8"]})")};
  for (connection_id c = 1; c <= 5; ++c) {
    CHECK(g.in(c, "/ip4/10.1.1.1/tcp/1").allowed());
    CHECK(g.on(event_kind::pending_outbound, 100 + c, "/ip4/2.2.2.2/tcp/1", "QmBypass")
              .allowed());
  }
  CHECK(g.policy.attempts().allowed() == 0);
  CHECK(g.policy.ip_limits().connections() == 0);
  CHECK(g.in(6, "/ip4/3.3.3.3/tcp/1").allowed());
  CHECK(g.in(7, "/ip4/3.3.3.4/tcp/1").why->code == denial_code::attempt_rate);
}

TEST_CASE("a scope refusal gives back the per-IP count; the allowlisted scopes") {
  gate g{config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 2}]},
                    "allowlist": ["/ip4/10.8.8.8/p2p/QmRight"],
                    "scopes": {"System": {"Conns": 1}, "AllowlistedSystem": {"Conns": 2}},
                    "scopes_scale": {"memory_bytes": 1073741824, "fds": 1024}})")};
  CHECK(g.in(1, "/ip4/1.2.3.4/tcp/1").allowed());
  CHECK(g.in(2, "/ip4/1.2.3.4/tcp/2").why->code == denial_code::scope_limit);
  CHECK(g.policy.ip_limits().connections() == 1);
  // Allowlisted (any peer before the peer is known): the allowlisted scopes.
  CHECK(g.in(3, "/ip4/10.8.8.8/tcp/1").allowed());
  CHECK(g.in(4, "/ip4/10.8.8.8/tcp/2").allowed());
  REQUIRE(g.policy.scopes());
  CHECK(g.policy.scopes()->allowlisted_system().conns_inbound == 2);
  // The right peer stays allowlisted; the wrong one must fit the normal
  // scopes, which are full.
  CHECK(g.on(event_kind::established_inbound, 3, "/ip4/10.8.8.8/tcp/1", "QmRight")
            .allowed());
  auto wrong = g.on(event_kind::established_inbound, 4, "/ip4/10.8.8.8/tcp/2", "QmWrong");
  REQUIRE(wrong.denied());
  CHECK(wrong.why->code == denial_code::scope_limit);
  CHECK(wrong.why->scope_name == "system");
  CHECK(g.policy.scopes()->allowlisted_system().conns_inbound == 1);
}

TEST_CASE("the dump part ip_limits: only with one of the keys") {
  gate none{node_config{}};
  CHECK(none.policy.ip_limits_json(0, 10).is_null());
  CHECK(json::parse(gate_dump_part(none.policy.stats(0), 0)).count("ip_limits") == 0);
  gate g{config(R"({"ip_limits": "defaults", "attempt_rates": "defaults",
                    "allowlist": ["/ip4/10.0.0.1", "/ip4/10.0.0.2", "/ip4/10.0.0.3"]})")};
  for (connection_id c = 1; c <= 9; ++c)
    g.in(c, "/ip4/192.0.2.1/tcp/1");
  CHECK(g.in(20, "/ip4/192.0.2.2/tcp/1").allowed());
  CHECK(g.in(21, "/ip4/127.0.0.1/tcp/1").allowed());
  auto part = g.policy.ip_limits_json(0, 2);
  CHECK(part["connections"] == 10);
  CHECK(part["counts"] ==
        json::array({json{{"prefix", "192.0.2.1/32"}, {"conns", 8}, {"limit", 8}},
                     json{{"prefix", "192.0.2.2/32"}, {"conns", 1}, {"limit", 8}}}));
  CHECK(part["counts_total"] == 3);
  CHECK(part["truncated"] == true);
  CHECK(part["denials"]["ip_limit"]["ipv4/32"] == 1);
  CHECK(part["denials"]["ip_limit"]["127.0.0.0/8"] == 0);
  CHECK(part["denials"]["attempt_rate"]["ipv4/32"] == 0);
  CHECK(part["rate_buckets"]["live"] == 2);
  CHECK(part["rate_buckets"]["allowed"] == 11);
  CHECK(part["allowlist"] == json{{"entries", {"/ip4/10.0.0.1", "/ip4/10.0.0.2"}},
                                  {"size", 3},
                                  {"truncated", true}});
  auto whole = json::parse(gate_dump_part(g.policy.stats(0), 0, nullptr, part));
  CHECK(whole["ip_limits"] == part);
  CHECK(whole["limits"]["denials"]["ip_limit"] == 1);
}
