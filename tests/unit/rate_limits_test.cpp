// The rate-limits core (DESIGN §5 "Rate limits"): exact token arithmetic,
// both buckets, "*", bounded state, config updates, the dump part.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>

#include "actors/rate/rate_json.hpp"
#include "actors/rate/rate_limits.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms(std::int64_t x) {
  return x * 1'000'000;
}

bucket_config bucket(double rate_per_s, std::uint64_t burst) {
  return bucket_config{rate_per_s, burst};
}

const bucket_config none{};

protocol_rate_config rule(protocol_id name, bucket_config total, bucket_config per_peer) {
  return protocol_rate_config{std::move(name), total, per_peer};
}

rate_limits_config config(std::vector<protocol_rate_config> rules,
                          std::uint64_t max_tracked_peers = 100000) {
  rate_limits_config cfg;
  cfg.protocols = std::move(rules);
  cfg.max_tracked_peers = max_tracked_peers;
  return cfg;
}

protocol_message msg(peer_id peer, protocol_id protocol = "/echo/1",
                     std::uint64_t cost = 1, connection_id conn = 7) {
  return protocol_message{conn, std::move(peer), std::move(protocol), cost};
}

void check_rate_denial(const verdict& v, rate_scope scope, std::uint64_t retry_after_ms,
                       const peer_id& peer = "a",
                       const protocol_id& protocol = "/echo/1") {
  REQUIRE(v.kind == verdict_kind::deny);
  CHECK(v.why->code == denial_code::rate_limit);
  CHECK(v.why->scope == scope);
  CHECK(v.why->retry_after_ms == retry_after_ms);
  CHECK_FALSE(v.why->exceeds_burst);
  CHECK(v.why->peer == peer);
  CHECK(v.why->protocol == protocol);
}

void check_exceeds_burst(const verdict& v, rate_scope scope, std::uint64_t cost,
                         std::uint64_t burst) {
  REQUIRE(v.kind == verdict_kind::deny);
  CHECK(v.why->code == denial_code::rate_limit);
  CHECK(v.why->scope == scope);
  CHECK(v.why->exceeds_burst);
  CHECK(v.why->cost == cost);
  CHECK(v.why->burst == burst);
}

/// The worked example of the issue on one bucket of the given scope.
void worked_example(rate_scope scope) {
  auto b = bucket(10, 5);
  rate_limits core{config({scope == rate_scope::total ? rule("/echo/1", b, none)
                                                      : rule("/echo/1", none, b)})};
  for (int i = 0; i < 5; ++i)
    CHECK(core.check(msg("a"), 0).allowed());
  check_rate_denial(core.check(msg("a"), 0), scope, 100);
  CHECK(core.check(msg("a"), ms(100)).allowed());
  // 2.5 tokens at 350 ms: two pass, the third waits for the missing half.
  CHECK(core.check(msg("a"), ms(350)).allowed());
  CHECK(core.check(msg("a"), ms(350)).allowed());
  check_rate_denial(core.check(msg("a"), ms(350)), scope, 50);
  CHECK(core.check(msg("a"), ms(400)).allowed());
  auto s = core.stats("/echo/1");
  REQUIRE(s != nullptr);
  CHECK(s->allowed == 9);
  CHECK((scope == rate_scope::total ? s->denied_total : s->denied_per_peer) == 2);
  CHECK((scope == rate_scope::total ? s->denied_per_peer : s->denied_total) == 0);
}

} // namespace

TEST_CASE("worked example: rate 10/s, burst 5 on a per-peer bucket") {
  worked_example(rate_scope::per_peer);
}

TEST_CASE("worked example: rate 10/s, burst 5 on a total bucket") {
  worked_example(rate_scope::total);
}

TEST_CASE("the denial carries protocol, peer, connection and scope") {
  rate_limits core{config({rule("/echo/1", none, bucket(1, 1))})};
  CHECK(core.check(msg("QmPeer", "/echo/1", 1, 42), 0).allowed());
  auto v = core.check(msg("QmPeer", "/echo/1", 1, 43), 0);
  check_rate_denial(v, rate_scope::per_peer, 1000, "QmPeer");
  CHECK(v.why->conn == 43);
}

TEST_CASE("retry_after_ms is rounded up and retrying at that time succeeds") {
  // 3 tokens/s: one token takes 333.33... ms.
  rate_limits core{config({rule("/echo/1", bucket(3, 1), none)})};
  CHECK(core.check(msg("a"), 0).allowed());
  check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 334);
  // At 333 ms 0.999 token is back: 1/3000 of a token (333.3 us) is missing.
  check_rate_denial(core.check(msg("a"), ms(333)), rate_scope::total, 1);
  // At 334 ms the bucket is full again (never more than the burst).
  CHECK(core.check(msg("a"), ms(334)).allowed());
  check_rate_denial(core.check(msg("a"), ms(334)), rate_scope::total, 334);
}

TEST_CASE("fractional and extreme rates are exact") {
  SUBCASE("0.5 token/s") {
    rate_limits core{config({rule("/echo/1", bucket(0.5, 1), none)})};
    CHECK(core.check(msg("a"), 0).allowed());
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 2000);
    check_rate_denial(core.check(msg("a"), ms(1999)), rate_scope::total, 1);
    CHECK(core.check(msg("a"), ms(2000)).allowed());
  }
  SUBCASE("the fastest rate and the largest burst") {
    rate_limits core{config({rule("/echo/1", bucket(1e9, 1000000), none)})};
    CHECK(core.check(msg("a", "/echo/1", 1000000), 0).allowed());
    // One token takes 1 ns: rounded up to 1 ms.
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1);
    CHECK(core.check(msg("a", "/echo/1", 1000000), ms(1)).allowed());
    // A huge jump in time refills to the burst, no more, without overflow.
    time_ns far = 4'000'000'000'000'000'000LL;
    CHECK(core.check(msg("a", "/echo/1", 1000000), far).allowed());
    check_rate_denial(core.check(msg("a"), far), rate_scope::total, 1);
  }
  SUBCASE("the slowest rate and the largest burst") {
    rate_limits core{config({rule("/echo/1", bucket(0.001, 1000000), none)})};
    CHECK(core.check(msg("a", "/echo/1", 1000000), 0).allowed());
    // 1e6 tokens at 0.001 token/s: 1e9 s.
    check_rate_denial(core.check(msg("a", "/echo/1", 1000000), 0), rate_scope::total,
                      1'000'000'000'000ULL);
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1'000'000);
  }
  SUBCASE("a rate below 0.001 token/s counts as 0.001 token/s") {
    rate_limits core{config({rule("/echo/1", bucket(0.0001, 1), none)})};
    CHECK(core.check(msg("a"), 0).allowed());
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1'000'000);
  }
}

TEST_CASE("a message with a cost takes that many tokens") {
  rate_limits core{config({rule("/echo/1", none, bucket(10, 5))})};
  CHECK(core.check(msg("a", "/echo/1", 3), 0).allowed());
  // 2 left, 3 needed: one token is missing.
  check_rate_denial(core.check(msg("a", "/echo/1", 3), 0), rate_scope::per_peer, 100);
  CHECK(core.check(msg("a", "/echo/1", 2), 0).allowed());
  check_rate_denial(core.check(msg("a", "/echo/1", 5), ms(20)), rate_scope::per_peer,
                    480);
  CHECK(core.check(msg("a", "/echo/1", 5), ms(500)).allowed());
  SUBCASE("a cost of 0 counts as 1") {
    check_rate_denial(core.check(msg("a", "/echo/1", 0), ms(500)), rate_scope::per_peer,
                      100);
  }
}

TEST_CASE("a cost above the burst is denied at once and changes no bucket") {
  SUBCASE("per-peer bucket") {
    rate_limits core{config({rule("/echo/1", none, bucket(10, 5))})};
    check_exceeds_burst(core.check(msg("a", "/echo/1", 6), 0), rate_scope::per_peer, 6,
                        5);
    CHECK(core.live_peer_buckets() == 0);
    for (int i = 0; i < 5; ++i)
      CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.stats("/echo/1")->denied_per_peer == 1);
  }
  SUBCASE("total bucket, while the per-peer one would fit") {
    rate_limits core{config({rule("/echo/1", bucket(10, 2), bucket(10, 5))})};
    check_exceeds_burst(core.check(msg("a", "/echo/1", 3), 0), rate_scope::total, 3, 2);
    CHECK(core.check(msg("a", "/echo/1", 2), 0).allowed());
    CHECK(core.stats("/echo/1")->denied_total == 1);
  }
  SUBCASE("both: the smaller burst is named") {
    rate_limits core{config({rule("/echo/1", bucket(10, 3), bucket(10, 2))})};
    check_exceeds_burst(core.check(msg("a", "/echo/1", 4), 0), rate_scope::per_peer, 4,
                        2);
  }
  SUBCASE("both with equal bursts: total is named") {
    rate_limits core{config({rule("/echo/1", bucket(10, 2), bucket(10, 2))})};
    check_exceeds_burst(core.check(msg("a", "/echo/1", 3), 0), rate_scope::total, 3, 2);
  }
  SUBCASE("exceeding a burst wins over an empty bucket") {
    rate_limits core{config({rule("/echo/1", bucket(10, 5), bucket(10, 2))})};
    CHECK(core.check(msg("b", "/echo/1", 2), 0).allowed());
    CHECK(core.check(msg("c", "/echo/1", 2), 0).allowed());
    CHECK(core.check(msg("d", "/echo/1", 1), 0).allowed());
    // The total bucket is empty, but cost 3 can never fit a's per-peer bucket.
    check_exceeds_burst(core.check(msg("a", "/echo/1", 3), 0), rate_scope::per_peer, 3,
                        2);
  }
}

TEST_CASE("a per-peer denial does not take from the total bucket") {
  rate_limits core{config({rule("/echo/1", bucket(1, 3), bucket(1, 1))})};
  CHECK(core.check(msg("a"), 0).allowed());
  check_rate_denial(core.check(msg("a"), 0), rate_scope::per_peer, 1000);
  check_rate_denial(core.check(msg("a"), 0), rate_scope::per_peer, 1000);
  // The total bucket still holds 2.
  CHECK(core.check(msg("b"), 0).allowed());
  CHECK(core.check(msg("c"), 0).allowed());
  check_rate_denial(core.check(msg("d"), 0), rate_scope::total, 1000, "d");
}

TEST_CASE("a total denial does not take from the per-peer bucket") {
  rate_limits core{config({rule("/echo/1", bucket(1000, 2), bucket(1, 3))})};
  CHECK(core.check(msg("a", "/echo/1", 2), 0).allowed()); // total 0, a's 1
  check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1);
  check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1);
  // 1 ms later the total bucket has 1 token; a's bucket still has its 1.
  CHECK(core.check(msg("a"), ms(1)).allowed());
}

TEST_CASE("when both buckets deny, the longer wait is reported") {
  SUBCASE("per-peer takes longer") {
    rate_limits core{config({rule("/echo/1", bucket(10, 2), bucket(1, 2))})};
    CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.check(msg("a"), 0).allowed());
    check_rate_denial(core.check(msg("a"), 0), rate_scope::per_peer, 1000);
  }
  SUBCASE("total takes longer") {
    rate_limits core{config({rule("/echo/1", bucket(1, 2), bucket(10, 2))})};
    CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.check(msg("a"), 0).allowed());
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1000);
    // At 100 ms a's bucket has a token again; the total bucket still waits.
    check_rate_denial(core.check(msg("a"), ms(100)), rate_scope::total, 900);
  }
  SUBCASE("a tie names total") {
    rate_limits core{config({rule("/echo/1", bucket(1, 1), bucket(1, 1))})};
    CHECK(core.check(msg("a"), 0).allowed());
    check_rate_denial(core.check(msg("a"), 0), rate_scope::total, 1000);
  }
}

TEST_CASE("per-peer buckets are per (protocol, peer)") {
  rate_limits core{
      config({rule("/a", none, bucket(1, 1)), rule("/b", none, bucket(1, 1))})};
  CHECK(core.check(msg("p", "/a"), 0).allowed());
  CHECK(core.check(msg("q", "/a"), 0).allowed());
  CHECK(core.check(msg("p", "/b"), 0).allowed());
  check_rate_denial(core.check(msg("p", "/a"), 0), rate_scope::per_peer, 1000, "p", "/a");
  CHECK(core.live_peer_buckets() == 3);
  SUBCASE("no two (protocol, peer) pairs share a key") {
    rate_limits c2{config({rule("*", none, bucket(1, 1))})};
    CHECK(c2.check(msg("b/c", "/a"), 0).allowed());
    CHECK(c2.check(msg("/c", "/ab"), 0).allowed());
    CHECK(c2.live_peer_buckets() == 2);
  }
}

TEST_CASE("\"*\" is the rule of every protocol not named, one bucket per protocol") {
  rate_limits core{
      config({rule("/echo/1", none, bucket(10, 5)), rule("*", bucket(1, 1), none)})};
  CHECK(core.check(msg("a", "/x"), 0).allowed());
  check_rate_denial(core.check(msg("b", "/x"), 0), rate_scope::total, 1000, "b", "/x");
  CHECK(core.check(msg("a", "/y"), 0).allowed()); // its own total bucket
  // The named protocol uses its own rule only.
  for (int i = 0; i < 5; ++i)
    CHECK(core.check(msg("a", "/echo/1"), 0).allowed());
  auto def = core.stats("*");
  REQUIRE(def != nullptr);
  CHECK(def->allowed == 2);
  CHECK(def->denied_total == 1);
  CHECK(def->live_buckets == 2);
  CHECK(core.stats("/echo/1")->allowed == 5);
  CHECK(core.stats("/x") == nullptr); // no counters for unnamed protocols
  CHECK(core.live_total_buckets() == 2);
}

TEST_CASE("a protocol without a rule, and no \"*\", is unlimited") {
  rate_limits core{config({rule("/echo/1", none, bucket(1, 1))})};
  for (int i = 0; i < 1000; ++i)
    CHECK(core.check(msg("a", "/other", 1000000), 0).allowed());
  CHECK(core.unlimited_allowed() == 1000);
  CHECK(core.stats("/other") == nullptr);
  CHECK(core.live_peer_buckets() == 0);
  CHECK(core.live_total_buckets() == 0);
  SUBCASE("an empty config limits nothing") {
    rate_limits empty;
    CHECK(empty.check(msg("a"), 0).allowed());
    CHECK(empty.unlimited_allowed() == 1);
  }
}

TEST_CASE("a named protocol with an empty rule is unlimited despite \"*\"") {
  rate_limits core{config({rule("/free", none, none), rule("*", none, bucket(1, 1))})};
  for (int i = 0; i < 10; ++i)
    CHECK(core.check(msg("a", "/free"), 0).allowed());
  CHECK(core.stats("/free")->allowed == 10);
  CHECK(core.check(msg("a", "/other"), 0).allowed());
  CHECK(core.check(msg("a", "/other"), 0).denied());
}

TEST_CASE("a bucket that refilled to full is dropped") {
  rate_limits core{config({rule("/echo/1", bucket(10, 5), bucket(10, 5))})};
  CHECK(core.check(msg("a", "/echo/1", 2), 0).allowed());
  CHECK(core.check(msg("b"), ms(50)).allowed());
  CHECK(core.live_peer_buckets() == 2);
  CHECK(core.live_total_buckets() == 1);
  CHECK(core.stats("/echo/1")->live_buckets == 3);
  core.expire(ms(199)); // a's bucket is full at 200 ms, b's at 150 ms
  CHECK(core.live_peer_buckets() == 1);
  core.expire(ms(200));
  CHECK(core.live_peer_buckets() == 0);
  // The total bucket had 2 left at 0 and 3 + 0.5 - 1 = 2.5 at 50 ms: full at 300 ms.
  CHECK(core.live_total_buckets() == 1);
  core.expire(ms(300));
  CHECK(core.live_total_buckets() == 0);
  CHECK(core.stats("/echo/1")->live_buckets == 0);
  CHECK(core.evictions() == 0);
  // A dropped bucket comes back full.
  for (int i = 0; i < 5; ++i)
    CHECK(core.check(msg("a"), ms(300)).allowed());
  CHECK(core.check(msg("a"), ms(300)).denied());
}

TEST_CASE("a denied message creates no bucket") {
  rate_limits core{config({rule("/echo/1", bucket(1, 1), bucket(1, 1))})};
  CHECK(core.check(msg("a"), 0).allowed());
  for (int i = 0; i < 100; ++i)
    CHECK(core.check(msg("p" + std::to_string(i)), 0).denied());
  CHECK(core.live_peer_buckets() == 1);
}

TEST_CASE("at the cap the bucket closest to full is evicted") {
  rate_limits core{config({rule("/echo/1", none, bucket(1, 4))}, 2)};
  CHECK(core.check(msg("a", "/echo/1", 1), 0).allowed()); // full at 1 s
  CHECK(core.check(msg("b", "/echo/1", 3), 0).allowed()); // full at 3 s
  CHECK(core.check(msg("c", "/echo/1", 2), 0).allowed()); // evicts a
  CHECK(core.live_peer_buckets() == 2);
  CHECK(core.evictions() == 1);
  CHECK(core.stats("/echo/1")->evictions == 1);
  CHECK(core.stats("/echo/1")->live_buckets == 2);
  // b is still limited, a starts over with a full bucket (evicting c: 2 s).
  check_rate_denial(core.check(msg("b", "/echo/1", 2), 0), rate_scope::per_peer, 1000,
                    "b");
  CHECK(core.check(msg("a", "/echo/1", 4), 0).allowed());
  CHECK(core.evictions() == 2);
  check_rate_denial(core.check(msg("b", "/echo/1", 2), 0), rate_scope::per_peer, 1000,
                    "b");
  SUBCASE("equal full-at times: the least recently touched goes first") {
    rate_limits c2{config({rule("/echo/1", none, bucket(1, 1))}, 2)};
    CHECK(c2.check(msg("x"), 0).allowed());
    CHECK(c2.check(msg("y"), 0).allowed());
    CHECK(c2.check(msg("z"), 0).allowed()); // evicts x
    CHECK(c2.check(msg("x"), 0).allowed()); // x is fresh; evicts y
    CHECK(c2.check(msg("z"), 0).denied());  // z is still there
    CHECK(c2.evictions() == 2);
  }
  SUBCASE("full buckets are dropped before anything is evicted") {
    CHECK(core.check(msg("d"), ms(3000)).allowed());
    CHECK(core.evictions() == 2);
  }
}

TEST_CASE("the cap counts per-peer buckets of all protocols together") {
  rate_limits core{
      config({rule("/a", none, bucket(1, 1)), rule("*", none, bucket(1, 1))}, 3)};
  CHECK(core.check(msg("p", "/a"), 0).allowed());
  CHECK(core.check(msg("p", "/b"), 0).allowed());
  CHECK(core.check(msg("p", "/c"), 0).allowed());
  CHECK(core.check(msg("p", "/d"), 0).allowed()); // evicts (/a, p)
  CHECK(core.live_peer_buckets() == 3);
  CHECK(core.stats("/a")->evictions == 1);
  CHECK(core.stats("*")->evictions == 0);
  CHECK(core.stats("*")->live_buckets == 3);
  CHECK(core.check(msg("p", "/a"), 0).allowed()); // evicts (/b, p)
  CHECK(core.stats("*")->evictions == 1);
}

TEST_CASE("total buckets of protocols under \"*\" are capped too") {
  rate_limits core{
      config({rule("/named", bucket(1, 1), none), rule("*", bucket(1, 1), none)}, 2)};
  CHECK(core.check(msg("p", "/named"), 0).allowed());
  for (int i = 0; i < 10; ++i)
    CHECK(core.check(msg("p", "/x" + std::to_string(i)), 0).allowed());
  CHECK(core.live_total_buckets() == 3); // the named one and 2 under "*"
  CHECK(core.evictions() == 8);
  // The named protocol's bucket was never evicted.
  CHECK(core.check(msg("p", "/named"), 0).denied());
}

TEST_CASE("a flood of 1,000,000 distinct peers stays within the cap") {
  const int flood = 1'000'000;
  SUBCASE("cap 1000, all at one instant") {
    // The total bucket gets a token back every nanosecond: one message a ns
    // never runs it dry.
    rate_limits core{config({rule("/echo/1", bucket(1e9, 10), bucket(1, 1))}, 1000)};
    for (int i = 0; i < flood; ++i) {
      REQUIRE(core.check(msg("peer" + std::to_string(i)), i).allowed());
      if (i % 1000 == 0)
        REQUIRE(core.live_peer_buckets() <= 1000);
    }
    CHECK(core.live_peer_buckets() == 1000);
    CHECK(core.evictions() == flood - 1000);
    CHECK(core.stats("/echo/1")->live_buckets == 1000 + 1);
    // The newest peers are still limited.
    check_rate_denial(core.check(msg("peer" + std::to_string(flood - 1)), flood - 1),
                      rate_scope::per_peer, 1000, "peer" + std::to_string(flood - 1));
  }
  SUBCASE("the default cap of 100000") {
    rate_limits core{config({rule("*", none, bucket(1, 1))})};
    REQUIRE(core.config().max_tracked_peers == 100000);
    for (int i = 0; i < flood; ++i)
      REQUIRE(core.check(msg("peer" + std::to_string(i)), 0).allowed());
    CHECK(core.live_peer_buckets() == 100000);
    CHECK(core.evictions() == flood - 100000);
    CHECK(core.stats("*")->live_buckets == 100000);
    core.expire(ms(1000));
    CHECK(core.live_peer_buckets() == 0);
    CHECK(core.stats("*")->live_buckets == 0);
  }
  SUBCASE("spread over time: full buckets go away without eviction") {
    rate_limits core{config({rule("*", none, bucket(1000, 1))}, 2000)};
    for (int i = 0; i < flood; ++i) // one new peer every microsecond
      REQUIRE(core.check(msg("peer" + std::to_string(i)), i * 1000LL).allowed());
    // A bucket is full 1 ms after its message: about 1000 are live.
    CHECK(core.live_peer_buckets() <= 1000);
    CHECK(core.evictions() == 0);
  }
}

TEST_CASE("batches are decided in order") {
  rate_limits core{config({rule("/echo/1", none, bucket(10, 2))})};
  auto out = core.check_batch(
      {msg("a"), msg("b"), msg("a"), msg("a"), msg("a", "/free"), msg("b", "/echo/1", 3)},
      0);
  REQUIRE(out.size() == 6);
  CHECK(out[0].allowed());
  CHECK(out[1].allowed());
  CHECK(out[2].allowed());
  check_rate_denial(out[3], rate_scope::per_peer, 100);
  CHECK(out[4].allowed());
  check_exceeds_burst(out[5], rate_scope::per_peer, 3, 2);
  CHECK(core.check_batch({}, 0).empty());
}

TEST_CASE("a config update replaces the rules and resets the buckets") {
  auto first = config({rule("/echo/1", none, bucket(1, 1))});
  rate_limits core{first};
  CHECK(core.check(msg("a"), 0).allowed());
  CHECK(core.check(msg("a"), 0).denied());
  SUBCASE("an identical section changes nothing") {
    CHECK_FALSE(core.configure(first));
    CHECK(core.check(msg("a"), 0).denied());
    CHECK(core.stats("/echo/1")->allowed == 1);
    CHECK(core.stats("/echo/1")->denied_per_peer == 2);
  }
  SUBCASE("a new section starts from full buckets and zero counters") {
    CHECK(core.configure(config({rule("/echo/1", none, bucket(1, 2))})));
    CHECK(core.live_peer_buckets() == 0);
    CHECK(core.stats("/echo/1")->allowed == 0);
    CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.check(msg("a"), 0).denied());
  }
  SUBCASE("removing the rule makes the protocol unlimited") {
    CHECK(core.configure(config({})));
    CHECK(core.stats("/echo/1") == nullptr);
    for (int i = 0; i < 10; ++i)
      CHECK(core.check(msg("a"), 0).allowed());
  }
  SUBCASE("a protocol named twice: the last entry wins") {
    CHECK(core.configure(config(
        {rule("/echo/1", none, bucket(1, 1)), rule("/echo/1", none, bucket(1, 3))})));
    for (int i = 0; i < 3; ++i)
      CHECK(core.check(msg("a"), 0).allowed());
    CHECK(core.check(msg("a"), 0).denied());
  }
}

TEST_CASE("validate uses the parser's bounds") {
  CHECK(
      rate_limits::validate(config({rule("/a", bucket(1e9, 1000000), bucket(0.001, 1))}))
          .empty());
  CHECK(rate_limits::validate(config({rule("/a", none, none)})).empty());
  CHECK(rate_limits::validate(config({rule("/a", bucket(0, 1), none)})) ==
        "/rate_limits/~1a/total/rate_per_s: must be greater than 0");
  CHECK(rate_limits::validate(config({rule("/a", none, bucket(-1, 1))})) ==
        "/rate_limits/~1a/per_peer/rate_per_s: must be greater than 0");
  CHECK(rate_limits::validate(config({rule("/a", none, bucket(2e9, 1))})) ==
        "/rate_limits/~1a/per_peer/rate_per_s: must be at most 1e9");
  CHECK(rate_limits::validate(config({rule("/a", none, bucket(1, 1000001))})) ==
        "/rate_limits/~1a/per_peer/burst: must be at most 1000000");
  CHECK(rate_limits::validate(config({rule("", none, bucket(1, 1))})) ==
        "/rate_limits: a protocol name must not be empty");
  CHECK(rate_limits::validate(config({}, 0)) ==
        "/rate_limits/max_tracked_peers: must be at least 1");
}

TEST_CASE("time that goes back counts as the latest time seen") {
  rate_limits core{config({rule("/echo/1", bucket(10, 1), none)})};
  CHECK(core.check(msg("a"), ms(1000)).allowed());
  check_rate_denial(core.check(msg("a"), ms(500)), rate_scope::total, 100);
  check_rate_denial(core.check(msg("a"), ms(1050)), rate_scope::total, 50);
  CHECK(core.check(msg("a"), ms(1100)).allowed());
}

TEST_CASE("the dump part") {
  rate_limits core{config(
      {rule("/echo/1", bucket(1, 3), bucket(10, 2)), rule("*", none, bucket(1, 1))}, 5)};
  CHECK(core.check(msg("a"), 0).allowed());
  CHECK(core.check(msg("a"), 0).allowed());
  CHECK(core.check(msg("a"), 0).denied()); // a's bucket is empty
  CHECK(core.check(msg("b"), 0).allowed());
  CHECK(core.check(msg("c"), 0).denied()); // the total bucket is empty
  CHECK(core.check(msg("b", "/x"), 0).allowed());
  CHECK(core.check(msg("b", "/x"), 0).denied());
  CHECK(core.check(msg("b", "/y"), 0).allowed());
  CHECK(core.configure(core.config()) == false);
  auto expected = nlohmann::json::parse(R"({
    "protocols": {
      "/echo/1": {"allowed": 3, "denied": {"total": 1, "per_peer": 1},
                  "would_deny": {"total": 0, "per_peer": 0},
                  "live_buckets": 3, "evictions": 0,
                  "retry_after_ms": {"bounds": [1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000],
                                     "counts": [0, 0, 0, 0, 1, 0, 1, 0, 0, 0],
                                     "count": 2, "sum": 1100}},
      "*": {"allowed": 2, "denied": {"total": 0, "per_peer": 1},
            "would_deny": {"total": 0, "per_peer": 0},
            "live_buckets": 2, "evictions": 0,
            "retry_after_ms": {"bounds": [1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000],
                               "counts": [0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
                               "count": 1, "sum": 1000}}
    },
    "live_peer_buckets": 4, "live_total_buckets": 1, "max_tracked_peers": 5,
    "evictions": 0, "unlimited_allowed": 0
  })");
  CHECK(to_json(core.stats_at(ms(50))) == expected);
  // b's /echo/1 bucket is full at 100 ms, a's at 200 ms, the /x and /y ones
  // at 1 s, the total one at 3 s. Counters stay.
  auto later = to_json(core.stats_at(ms(1000)));
  CHECK(later["live_peer_buckets"] == 0);
  CHECK(later["live_total_buckets"] == 1);
  CHECK(later["protocols"]["/echo/1"]["live_buckets"] == 1);
  CHECK(later["protocols"]["*"]["live_buckets"] == 0);
  CHECK(later["protocols"]["/echo/1"]["allowed"] == 3);
  CHECK(to_json(core.stats_at(ms(3000)))["live_total_buckets"] == 0);
}

TEST_CASE("the retry-after histogram: enforced denials that can succeed later") {
  rate_limits core{config({rule("/echo/1", none, bucket(1, 2))})};
  CHECK(core.check(msg("a"), 0).allowed());
  CHECK(core.check(msg("a"), 0).allowed());
  check_rate_denial(core.check(msg("a"), 0), rate_scope::per_peer, 1000);
  check_rate_denial(core.check(msg("a"), ms(999) + 1), rate_scope::per_peer, 1);
  check_rate_denial(core.check(msg("a"), ms(999) + 1), rate_scope::per_peer, 1);
  check_exceeds_burst(core.check(msg("b", "/echo/1", 3), 0), rate_scope::per_peer, 3, 2);
  auto h = core.stats("/echo/1")->retry_after;
  CHECK(h.count == 3); // the exceeds_burst denial can never succeed: not in it
  CHECK(h.sum_ms == 1002);
  CHECK(h.counts[0] == 2); // <= 1 ms
  CHECK(h.counts[6] == 1); // (500, 1000] ms
  CHECK(h.counts[10] == 0);
  h.add(60001); // above every bound
  h.add(std::numeric_limits<std::uint64_t>::max());
  CHECK(h.counts[10] == 2);
  CHECK(h.count == 5);
  CHECK(h.sum_ms == std::numeric_limits<std::uint64_t>::max()); // saturated
  // In dry run nothing is denied, so nothing is added.
  auto dry = config({rule("/echo/1", none, bucket(1, 1))});
  dry.dry_run = true;
  rate_limits trial{dry};
  CHECK(trial.check(msg("a"), 0).allowed());
  CHECK(trial.check(msg("a"), 0).would() != nullptr);
  CHECK(trial.stats("/echo/1")->retry_after.count == 0);
}

// -- against a reference model -------------------------------------------------

namespace {

/// The simplest possible token buckets: never dropped, never evicted,
/// arithmetic in 128 bits. With a cap the core never reaches, the core's
/// verdicts must be exactly these.
class reference_model {
public:
  struct spec {
    std::uint64_t rate_mtps = 0, burst = 0;
  };
  struct rule_spec {
    spec total, per_peer;
  };

  std::map<std::string, rule_spec> rules; // "*" included

  verdict check(const protocol_message& m, time_ns now) {
    auto i = rules.find(m.protocol.str());
    if (i == rules.end())
      i = rules.find("*");
    if (i == rules.end())
      return verdict::allow();
    auto& r = i->second;
    const unsigned __int128 unit = 1'000'000'000'000ULL;
    auto level = [&](const spec& s, const std::string& key) -> unsigned __int128 {
      auto b = buckets.find(key);
      unsigned __int128 cap = s.burst * unit;
      if (b == buckets.end())
        return cap;
      unsigned __int128 refill =
          static_cast<unsigned __int128>(now - b->second.second) * s.rate_mtps;
      auto t = b->second.first + refill;
      return t > cap ? cap : t;
    };
    std::string tkey = "T" + m.protocol.str();
    std::string pkey = "P" + m.protocol.str() + '\n' + m.peer.str();
    if (r.total.burst > 0 && m.cost > r.total.burst &&
        !(r.per_peer.burst > 0 && m.cost > r.per_peer.burst &&
          r.per_peer.burst < r.total.burst))
      return too_big(m, rate_scope::total, r.total.burst);
    if (r.per_peer.burst > 0 && m.cost > r.per_peer.burst)
      return too_big(m, rate_scope::per_peer, r.per_peer.burst);
    unsigned __int128 need = m.cost * unit;
    unsigned __int128 tl = r.total.burst ? level(r.total, tkey) : 0;
    unsigned __int128 pl = r.per_peer.burst ? level(r.per_peer, pkey) : 0;
    auto wait = [&](const spec& s, unsigned __int128 l) -> unsigned __int128 {
      if (s.burst == 0 || l >= need)
        return 0;
      return (need - l + s.rate_mtps - 1) / s.rate_mtps;
    };
    auto tw = wait(r.total, tl), pw = wait(r.per_peer, pl);
    if (tw > 0 || pw > 0) {
      denial d;
      d.code = denial_code::rate_limit;
      d.conn = m.conn;
      d.peer = m.peer;
      d.protocol = m.protocol;
      d.scope = pw > tw ? rate_scope::per_peer : rate_scope::total;
      auto w = pw > tw ? pw : tw;
      d.retry_after_ms = static_cast<std::uint64_t>((w + 999'999) / 1'000'000);
      return verdict::deny(d);
    }
    if (r.total.burst)
      buckets[tkey] = {tl - need, now};
    if (r.per_peer.burst)
      buckets[pkey] = {pl - need, now};
    return verdict::allow();
  }

private:
  static verdict too_big(const protocol_message& m, rate_scope scope,
                         std::uint64_t burst) {
    denial d;
    d.code = denial_code::rate_limit;
    d.conn = m.conn;
    d.peer = m.peer;
    d.protocol = m.protocol;
    d.scope = scope;
    d.exceeds_burst = true;
    d.cost = m.cost;
    d.burst = burst;
    return verdict::deny(d);
  }

  std::map<std::string, std::pair<unsigned __int128, time_ns>> buckets;
};

} // namespace

TEST_CASE("random traffic: the core decides exactly like the reference model") {
  auto cfg =
      config({rule("/a", bucket(7, 6), bucket(2.5, 3)), rule("/b", none, bucket(0.75, 2)),
              rule("/c", bucket(13, 4), none), rule("*", bucket(3, 5), bucket(1, 2))});
  reference_model ref;
  ref.rules["/a"] = {{7000, 6}, {2500, 3}};
  ref.rules["/b"] = {{0, 0}, {750, 2}};
  ref.rules["/c"] = {{13000, 4}, {0, 0}};
  ref.rules["*"] = {{3000, 5}, {1000, 2}};
  for (unsigned seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    rate_limits core{cfg};
    reference_model model = ref;
    std::mt19937_64 rng{seed};
    const char* protocols[] = {"/a", "/b", "/c", "/d", "/e"};
    time_ns now = 0;
    for (int step = 0; step < 5000; ++step) {
      CAPTURE(step);
      now +=
          static_cast<time_ns>(rng() % 3 == 0 ? rng() % 400'000'000 : rng() % 3'000'000);
      auto m = msg("p" + std::to_string(rng() % 6), protocols[rng() % 5], 1 + rng() % 6,
                   rng() % 100);
      auto got = core.check(m, now);
      auto want = model.check(m, now);
      REQUIRE(got.kind == want.kind);
      if (want.denied())
        REQUIRE(got.why == want.why);
    }
  }
}

TEST_CASE("random traffic with a small cap never holds more buckets than the cap") {
  auto cfg = config(
      {rule("/a", bucket(50, 20), bucket(2, 3)), rule("*", bucket(5, 5), bucket(1, 2))},
      16);
  rate_limits core{cfg};
  std::mt19937_64 rng{99};
  time_ns now = 0;
  for (int step = 0; step < 100000; ++step) {
    now += static_cast<time_ns>(rng() % 5'000'000);
    auto protocol = rng() % 2 ? std::string{"/a"} : "/p" + std::to_string(rng() % 40);
    core.check(msg("peer" + std::to_string(rng() % 200), protocol, 1 + rng() % 3), now);
    REQUIRE(core.live_peer_buckets() <= 16);
    REQUIRE(core.live_total_buckets() <= 17);
    auto a = core.stats("/a");
    auto def = core.stats("*");
    REQUIRE(a->live_buckets + def->live_buckets ==
            core.live_peer_buckets() + core.live_total_buckets());
  }
  CHECK(core.evictions() > 0);
}
