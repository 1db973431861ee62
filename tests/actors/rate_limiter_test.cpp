// The rate limiter as an actor, on the deterministic scheduler: the actor's
// clock is virtual time, so every retry_after is exact.
#include "actor_fixture.hpp"

#include "actors/rate/rate_limiter_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

rate_limits_config echo_per_peer(double rate_per_s, std::uint64_t burst,
                                 std::uint64_t max_tracked_peers = 100000) {
  rate_limits_config cfg;
  protocol_rate_config rule;
  rule.protocol = "/echo/1";
  rule.per_peer = bucket_config{rate_per_s, burst};
  cfg.protocols.push_back(rule);
  cfg.max_tracked_peers = max_tracked_peers;
  return cfg;
}

protocol_message msg(peer_id peer, std::uint64_t cost = 1,
                     protocol_id protocol = "/echo/1") {
  return protocol_message{1, std::move(peer), std::move(protocol), cost};
}

void check_retry(const verdict& v, std::uint64_t retry_after_ms,
                 const peer_id& peer = "a") {
  REQUIRE(v.kind == verdict_kind::deny);
  CHECK(v.why->code == denial_code::rate_limit);
  CHECK(v.why->scope == rate_scope::per_peer);
  CHECK(v.why->protocol == "/echo/1");
  CHECK(v.why->peer == peer);
  CHECK(v.why->retry_after_ms == retry_after_ms);
  CHECK_FALSE(v.why->exceeds_burst);
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture, "the worked example on the actor's virtual clock") {
  auto rl = spawn_rate_limiter(sys, echo_per_peer(10, 5));
  for (int i = 0; i < 5; ++i)
    CHECK(verdict_of(rl, msg("a")).allowed());
  check_retry(verdict_of(rl, msg("a")), 100);
  advance(100ms);
  CHECK(verdict_of(rl, msg("a")).allowed());
  advance(250ms);
  CHECK(verdict_of(rl, msg("a")).allowed());
  CHECK(verdict_of(rl, msg("a")).allowed());
  check_retry(verdict_of(rl, msg("a")), 50);
  // The denial reads as the replay contract says.
  auto j = to_json(verdict_of(rl, msg("a")));
  CHECK(j == nlohmann::json::parse(R"({"verdict": "deny", "denial": {"code": "rate_limit",
          "protocol": "/echo/1", "peer": "a", "scope": "per_peer", "retry_after_ms": 50}})"));
  auto big = to_json(verdict_of(rl, msg("a", 6)));
  CHECK(big ==
        nlohmann::json::parse(R"({"verdict": "deny", "denial": {"code": "rate_limit",
          "protocol": "/echo/1", "peer": "a", "scope": "per_peer", "exceeds_burst": true,
          "cost": 6, "burst": 5}})"));
  CHECK(verdict_of(rl, msg("a", 1, "/other")).allowed());
  stop(rl);
}

TEST_CASE_FIXTURE(actor_fixture, "a batch is answered in the order of its messages") {
  auto rl = spawn_rate_limiter(sys, echo_per_peer(10, 2));
  protocol_batch batch{{msg("a"), msg("b"), msg("a"), msg("a"), msg("c", 3), msg("b"),
                        msg("b", 1, "/free")}};
  auto out = ask<std::vector<verdict>>(rl, batch);
  REQUIRE(out.size() == 7);
  CHECK(out[0].allowed());
  CHECK(out[1].allowed());
  CHECK(out[2].allowed());
  check_retry(out[3], 100);
  REQUIRE(out[4].denied());
  CHECK(out[4].why->exceeds_burst);
  CHECK(out[4].why->cost == 3);
  CHECK(out[4].why->burst == 2);
  CHECK(out[5].allowed());
  CHECK(out[6].allowed());
  CHECK(ask<std::vector<verdict>>(rl, protocol_batch{}).empty());
  // The batch took its tokens: b is empty now, and so is a.
  check_retry(verdict_of(rl, msg("b")), 100, "b");
  stop(rl);
}

TEST_CASE_FIXTURE(actor_fixture, "config updates replace the rules") {
  auto rl = spawn_rate_limiter(sys, echo_per_peer(1, 1));
  CHECK(verdict_of(rl, msg("a")).allowed());
  check_retry(verdict_of(rl, msg("a")), 1000);
  SUBCASE("an update of another section keeps the buckets") {
    node_config c;
    c.rate_limits = echo_per_peer(1, 1);
    c.connection_limits.max_pending_inbound = 3;
    CHECK(verdict_of(rl, c).kind == verdict_kind::ok);
    check_retry(verdict_of(rl, msg("a")), 1000);
  }
  SUBCASE("new rules start from full buckets") {
    node_config c;
    c.rate_limits = echo_per_peer(1, 3);
    CHECK(verdict_of(rl, c).kind == verdict_kind::ok);
    for (int i = 0; i < 3; ++i)
      CHECK(verdict_of(rl, msg("a")).allowed());
    check_retry(verdict_of(rl, msg("a")), 1000);
  }
  SUBCASE("no rules: nothing is limited") {
    CHECK(verdict_of(rl, node_config{}).kind == verdict_kind::ok);
    for (int i = 0; i < 10; ++i)
      CHECK(verdict_of(rl, msg("a")).allowed());
  }
  SUBCASE("an invalid update is an error and changes nothing") {
    node_config c;
    c.rate_limits = echo_per_peer(-1, 3);
    auto v = verdict_of(rl, c);
    REQUIRE(v.kind == verdict_kind::error);
    CHECK(v.error ==
          "invalid rate_limits: /rate_limits/~1echo~11/per_peer/rate_per_s: must be "
          "greater than 0");
    check_retry(verdict_of(rl, msg("a")), 1000);
  }
  stop(rl);
}

TEST_CASE_FIXTURE(actor_fixture, "the dump part counts per rule and drops full buckets") {
  auto cfg = echo_per_peer(10, 2, 3);
  protocol_rate_config def;
  def.protocol = "*";
  def.total = bucket_config{1, 1};
  cfg.protocols.push_back(def);
  auto rl = spawn_rate_limiter(sys, cfg);
  for (auto peer : {"a", "b", "c", "d"})
    CHECK(verdict_of(rl, msg(peer)).allowed()); // d evicts a
  CHECK(verdict_of(rl, msg("b")).allowed());
  CHECK(verdict_of(rl, msg("b")).denied());
  CHECK(verdict_of(rl, msg("a", 1, "/x")).allowed());
  CHECK(verdict_of(rl, msg("a", 1, "/x")).denied());
  auto part = nlohmann::json::parse(ask<std::string>(rl, dump_part_atom::value));
  CHECK(part == nlohmann::json::parse(R"({"rate_limits": {
    "protocols": {
      "/echo/1": {"allowed": 5, "denied": {"total": 0, "per_peer": 1},
                  "would_deny": {"total": 0, "per_peer": 0},
                  "live_buckets": 3, "evictions": 1,
                  "retry_after_ms": {"bounds": [1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000],
                                     "counts": [0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
                                     "count": 1, "sum": 100}},
      "*": {"allowed": 1, "denied": {"total": 1, "per_peer": 0},
            "would_deny": {"total": 0, "per_peer": 0},
            "live_buckets": 1, "evictions": 0,
            "retry_after_ms": {"bounds": [1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000],
                               "counts": [0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
                               "count": 1, "sum": 1000}}},
    "live_peer_buckets": 3, "live_total_buckets": 1, "max_tracked_peers": 3,
    "evictions": 1, "unlimited_allowed": 0}})"));
  // c and d are full again at 100 ms, b at 200 ms, /x's total bucket at 1 s.
  advance(150ms);
  part = nlohmann::json::parse(ask<std::string>(rl, dump_part_atom::value));
  CHECK(part["rate_limits"]["live_peer_buckets"] == 1);
  CHECK(part["rate_limits"]["protocols"]["/echo/1"]["live_buckets"] == 1);
  advance(1000ms);
  part = nlohmann::json::parse(ask<std::string>(rl, dump_part_atom::value));
  CHECK(part["rate_limits"]["live_peer_buckets"] == 0);
  CHECK(part["rate_limits"]["live_total_buckets"] == 0);
  CHECK(part["rate_limits"]["protocols"]["/echo/1"]["allowed"] == 5);
  stop(rl);
}
