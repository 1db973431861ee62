// Dry run (DESIGN §6.3) without the actors: the "dry_run" key, each rule
// family allowing what it would deny with the denial as `would_deny`, the
// connection charged as if allowed, and the would-denials counted apart.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/gate_policy.hpp"
#include "actors/rate/rate_json.hpp"
#include "actors/rate/rate_limits.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;
using nlohmann::json;

namespace {

constexpr time_ns ms = 1000000;

struct sink {
  std::string named_peer;
  std::vector<std::string> lines;
  std::string_view peer() const { return named_peer; }
  void admitted(conn_state state, direction dir, const std::optional<peer_id>&, bool,
                time_ns) {
    lines.push_back("admitted " + to_string(state) + " " + to_string(dir));
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

  verdict on(event_kind kind, connection_id conn, std::string peer = {},
             std::string address = {}, time_ns now = 0) {
    out.named_peer = std::move(peer);
    std::vector<std::string> remote;
    if (!address.empty())
      remote.push_back(std::move(address));
    return policy.decide(kind, conn, out, now, true, text_list{remote});
  }
  verdict in(connection_id conn, std::string address = {}, time_ns now = 0) {
    return on(event_kind::pending_inbound, conn, {}, std::move(address), now);
  }
  std::uint64_t would(denial_code code) const { return policy.would_denials().of(code); }
};

memory_sample sample(std::uint64_t rss) {
  memory_sample s;
  s.rss = rss;
  s.total = 1u << 30;
  return s;
}

/// The would-denial of an allowed verdict (a default denial when none).
denial would(const verdict& v) {
  REQUIRE(v.allowed());
  REQUIRE(v.would() != nullptr);
  return *v.would();
}

} // namespace

// -- the key ---------------------------------------------------------------------

TEST_CASE("\"dry_run\": true, false, or a list of rule families") {
  CHECK(config(R"({"dry_run": true})").dry_run == all_rule_families);
  CHECK(config(R"({"dry_run": false})").dry_run == 0);
  CHECK(config("{}").dry_run == 0);
  auto c = config(R"({"dry_run": ["memory", "rate_limits", "memory"]})");
  CHECK(c.dry_run ==
        (family_bit(rule_family::memory) | family_bit(rule_family::rate_limits)));
  CHECK(c.dry(rule_family::memory));
  CHECK(!c.dry(rule_family::scopes));
  // The rate limiter reads its own bit.
  CHECK(c.rate_limits.dry_run);
  CHECK(!config(R"({"dry_run": ["memory"]})").rate_limits.dry_run);
  CHECK(config(R"({"dry_run": true})").rate_limits.dry_run);
  // Written back as read; parse(to_json(c)) == c.
  CHECK(to_json(c)["dry_run"] == json{"memory", "rate_limits"});
  CHECK(to_json(config(R"({"dry_run": true})"))["dry_run"] == true);
  CHECK(!to_json(config("{}")).contains("dry_run"));
  auto again = parse_config(to_json(c));
  REQUIRE(again);
  CHECK(again->dry_run == c.dry_run);
  CHECK(again->rate_limits.dry_run);
}

TEST_CASE("a bad \"dry_run\" names its path") {
  auto error_of = [](const char* text) {
    auto r = parse_config_text(text);
    REQUIRE(!r);
    return r.error().text();
  };
  CHECK(error_of(R"({"dry_run": "yes"})") ==
        "/dry_run: expected true, false or an array of rule families");
  CHECK(error_of(R"({"dry_run": 1})") ==
        "/dry_run: expected true, false or an array of rule families");
  CHECK(error_of(R"({"dry_run": ["memory", "bogus"]})") ==
        "/dry_run/1: expected one of connection_limits, memory, scopes, ip_limits, "
        "attempt_rates, rate_limits, blocked");
  CHECK(error_of(R"({"dry_run": [3]})") ==
        "/dry_run/0: expected one of connection_limits, memory, scopes, ip_limits, "
        "attempt_rates, rate_limits, blocked");
}

TEST_CASE("a dry-run allow in JSON: \"verdict\":\"allow\" with \"would_deny\"") {
  auto d = connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, "");
  CHECK(to_json(verdict::allow_but(d)) ==
        json{{"verdict", "allow"}, {"would_deny", to_json(d)}});
  CHECK(to_json(verdict::allow()) == json{{"verdict", "allow"}});
  CHECK(verdict::allow_but(d).would() != nullptr);
  CHECK(verdict::deny(d).would() == nullptr);
}

// -- each family -------------------------------------------------------------------

TEST_CASE("connection limits in dry run: admitted and counted, the limit named") {
  gate g{config(R"({"connection_limits": {"max_pending_inbound": 1,
                                          "max_established_per_peer": 1},
                    "dry_run": ["connection_limits"]})")};
  CHECK(g.in(1).would() == nullptr);
  CHECK(would(g.in(2)) ==
        connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, ""));
  CHECK(would(g.in(3)) ==
        connection_limit_denial(limit_kind::pending_inbound, 1, 2, 3, ""));
  CHECK(g.policy.counts().pending_inbound == 3);
  CHECK(g.on(event_kind::established_inbound, 1, "P").would() == nullptr);
  CHECK(would(g.on(event_kind::established_inbound, 2, "P")) ==
        connection_limit_denial(limit_kind::established_per_peer, 1, 1, 2, "P"));
  CHECK(g.policy.counts().established_inbound == 2);
  CHECK(g.policy.counts().pending_inbound == 1);
  CHECK(g.policy.limits().established_of("P") == 2);
  CHECK(g.out.lines == std::vector<std::string>{
                           "admitted pending inbound", "admitted pending inbound",
                           "admitted pending inbound", "admitted established inbound",
                           "admitted established inbound"});
  CHECK(g.policy.denials().stats().by_code == denial_counts{}.by_code);
  CHECK(g.would(denial_code::connection_limit) == 3);
  CHECK(g.policy.would_denials().of(limit_kind::pending_inbound) == 2);
  CHECK(g.policy.would_denials().of(limit_kind::established_per_peer) == 1);
  // Closing gives back what the dry run charged.
  for (connection_id c : {1, 2})
    g.on(event_kind::connection_closed, c, "P");
  g.on(event_kind::listen_failure, 3);
  CHECK(g.policy.counts() == admission_counts{});
}

TEST_CASE("the memory rule in dry run; an enforced rule after it still denies") {
  auto cfg = config(R"({"memory": {"max_bytes": 1000}, "dry_run": ["memory"]})");
  gate g{cfg};
  g.policy.on_memory_sample(sample(1001));
  CHECK(would(g.in(1)) == memory_limit_denial(1001, 1000, 1));
  CHECK(g.policy.memory().denials() == 0);
  CHECK(g.policy.memory().would_denials() == 1);
  CHECK(g.policy.counts().pending_inbound == 1);
  // The pending limit is enforced: its denial stands, nothing would-denied.
  cfg.connection_limits.max_pending_inbound = 1;
  g.policy.configure(cfg);
  auto v = g.in(2);
  REQUIRE(v.denied());
  CHECK(v.why == connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, ""));
  CHECK(g.would(denial_code::memory_limit) == 1);
  CHECK(g.policy.denials().of(limit_kind::pending_inbound) == 1);
}

TEST_CASE("every rule in dry run: the first in check order is the one reported") {
  gate g{config(R"({"memory": {"max_bytes": 1000},
                    "connection_limits": {"max_pending_inbound": 0},
                    "dry_run": true})")};
  g.policy.on_memory_sample(sample(5000));
  CHECK(would(g.in(1)) == memory_limit_denial(5000, 1000, 1));
  CHECK(g.would(denial_code::memory_limit) == 1);
  CHECK(g.would(denial_code::connection_limit) == 0);
  CHECK(g.policy.counts().pending_inbound == 1);
}

TEST_CASE("a blocked peer in dry run is admitted at every stage") {
  gate g{config(R"({"dry_run": ["blocked"]})")};
  g.policy.on_peer_blocked(peer_blocked{"P", 100 * ms}, 0);
  denial b;
  b.code = denial_code::blocked;
  b.peer = "P";
  b.conn = 1;
  CHECK(would(g.on(event_kind::pending_outbound, 1, "P")) == b);
  CHECK(g.policy.counts().pending_outbound == 1);
  CHECK(would(g.on(event_kind::established_outbound, 1, "P")) == b);
  CHECK(g.policy.counts().established_outbound == 1);
  CHECK(g.policy.counts().pending_outbound == 0);
  CHECK(g.would(denial_code::blocked) == 2);
  CHECK(g.policy.denials().of(denial_code::blocked) == 0);
}

TEST_CASE("per-IP limits in dry run: counted over the limit, no denial by rule") {
  gate g{config(R"({"ip_limits": {"subnet_v4": [{"prefix_length": 32, "conns": 1}]},
                    "dry_run": ["ip_limits"]})")};
  CHECK(g.in(1, "/ip4/1.2.3.4/tcp/1").would() == nullptr);
  CHECK(would(g.in(2, "/ip4/1.2.3.4/tcp/2")) ==
        ip_limit_denial("1.2.3.4", "1.2.3.4/32", 1, 1, 2));
  CHECK(would(g.in(3, "/ip4/1.2.3.4/tcp/3")) ==
        ip_limit_denial("1.2.3.4", "1.2.3.4/32", 1, 2, 3));
  CHECK(g.policy.ip_limits().connections() == 3);
  CHECK(g.policy.ip_limits().denials_by_rule() ==
        std::vector<std::pair<std::string, std::uint64_t>>{{"ipv4/32", 0}});
  CHECK(g.would(denial_code::ip_limit) == 2);
  // A close ends the count the dry run made.
  g.on(event_kind::connection_closed, 3);
  g.on(event_kind::connection_closed, 2);
  CHECK(g.policy.ip_limits().connections() == 1);
}

TEST_CASE("attempt rates in dry run: allowed, counted apart, no token taken") {
  gate g{config(R"({"attempt_rates": {"global": {"rate_per_s": 1, "burst": 1}},
                    "dry_run": ["attempt_rates"]})")};
  CHECK(g.in(1, "/ip4/1.1.1.1/tcp/1").would() == nullptr);
  CHECK(would(g.in(2, "/ip4/1.1.1.2/tcp/1", 250 * ms)) ==
        attempt_rate_denial("1.1.1.2", "global", 750, 2));
  CHECK(g.policy.attempts().allowed() == 1);
  CHECK(g.policy.attempts().denied() == 0);
  CHECK(g.policy.attempts().would_denied() == 1);
  CHECK(g.policy.counts().pending_inbound == 2);
  // The refused attempt took nothing: the token is back at 1 s.
  CHECK(g.in(3, "/ip4/1.1.1.3/tcp/1", 1000 * ms).would() == nullptr);
  CHECK(g.would(denial_code::attempt_rate) == 1);
}

TEST_CASE("scopes in dry run: the stream over the limit is allowed and charged") {
  gate g{config(R"({"scopes": {"System": {"Streams": 1}}, "dry_run": ["scopes"]})")};
  scope_event s;
  s.kind = event_kind::stream_opened;
  s.peer = "P";
  s.dir = direction::inbound;
  s.stream = 1;
  CHECK(g.policy.decide_scope(s, 0).would() == nullptr);
  s.stream = 2;
  auto v = g.policy.decide_scope(s, 0);
  auto d = would(v);
  CHECK(d.code == denial_code::scope_limit);
  CHECK(d.scope_name == "system");
  CHECK(d.resource == scope_resource::streams);
  CHECK(d.limit == 1);
  CHECK(d.current == 1);
  CHECK(d.stream == 2);
  CHECK(g.would(denial_code::scope_limit) == 1);
  CHECK(g.policy.denials().of(denial_code::scope_limit) == 0);
  auto part = g.policy.scopes_json(0, 10);
  CHECK(part["dry_run"] == true);
  CHECK(part["system"]["usage"]["streams_inbound"] == 2);
}

TEST_CASE("the gate's dump: limits/would_deny has the shape of limits/denials") {
  gate g{config(R"({"memory": {"max_bytes": 1000},
                    "connection_limits": {"max_pending_inbound": 1},
                    "dry_run": ["connection_limits", "memory"]})")};
  g.policy.on_memory_sample(sample(10));
  g.in(1);
  g.in(2);
  g.policy.on_memory_sample(sample(2000));
  g.in(3);
  auto part = json::parse(gate_dump_part(g.policy.stats(0), 0));
  CHECK(part["limits"]["would_deny"] ==
        json{{"connection_limit", {{"total", 1}, {"by_kind", {{"pending_inbound", 1}}}}},
             {"memory_limit", 1}});
  CHECK(part["limits"]["denials"] == json::object());
  CHECK(part["memory"]["would_denials"] == 1);
  CHECK(part["memory"]["denials"] == 0);
}

// -- the rate limiter -----------------------------------------------------------------

TEST_CASE("rate limits in dry run: allowed with the denial, no token taken") {
  rate_limits_config cfg;
  protocol_rate_config p;
  p.protocol = "/echo/1";
  p.total.rate_per_s = 1;
  p.total.burst = 1;
  cfg.protocols.push_back(p);
  cfg.dry_run = true;
  rate_limits core{cfg};
  protocol_message m;
  m.conn = 1;
  m.peer = "P";
  m.protocol = "/echo/1";
  CHECK(core.check(m, 0).would() == nullptr);
  auto v = core.check(m, 400 * ms);
  REQUIRE(v.would() != nullptr);
  CHECK(v.would()->code == denial_code::rate_limit);
  CHECK(v.would()->scope == rate_scope::total);
  CHECK(v.would()->retry_after_ms == 600);
  auto stats = *core.stats("/echo/1");
  CHECK(stats.would_deny_total == 1);
  CHECK(stats.denied_total == 0);
  CHECK(stats.allowed == 1);
  auto part = rate_dump_part(core.stats_at(400 * ms));
  json by_kind{{"total", 1}, {"per_peer", 0}};
  json rate_limit{{"total", 1}, {"by_kind", by_kind}};
  json would_deny{{"rate_limit", rate_limit}};
  CHECK(part["limits"] == json{{"would_deny", would_deny}});
  CHECK(part["rate_limits"]["protocols"]["/echo/1"]["would_deny"] ==
        json{{"total", 1}, {"per_peer", 0}});
  // Enforcing again changes no bucket: the same message is denied now.
  cfg.dry_run = false;
  CHECK(!core.configure(cfg));
  auto enforced = core.check(m, 500 * ms);
  REQUIRE(enforced.denied());
  CHECK(enforced.why->retry_after_ms == 500);
  // No would-denial: the part has no "limits".
  rate_limits quiet{cfg};
  CHECK(!rate_dump_part(quiet.stats_at(0)).contains("limits"));
}
