// Accounting at one scope and along paths, with go-libp2p's numbers
// (scope_test.go: TestResources, TestCheckMemory, TestResourceScopeSimple,
// TestResourceScopeDAG).
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "actors/gate/scopes/scope_accounting.hpp"

using namespace rcmgr;

namespace {

scope_limits all_of(std::uint64_t counts, std::uint64_t memory) {
  return scope_limits{counts, counts, counts, counts, counts, counts, counts, memory};
}

/// One scope alone: a path of one.
struct lone_scope {
  scope_limits limits;
  scope_node node;
  explicit lone_scope(scope_limits l) : limits(l) { node.limits = &limits; }
  bool reserve(const scope_request& r) {
    scope_node* path[] = {&node};
    return !rcmgr::reserve(path, 1, r).refusal;
  }
  void release(const scope_usage& u) {
    scope_node* path[] = {&node};
    rcmgr::release(path, 1, u);
  }
  bool memory_ok(std::uint64_t size, std::uint8_t priority) const {
    return !check(node.use, limits, scope_request::memory(size, priority));
  }
};

scope_usage memory_of(std::uint64_t n) {
  scope_usage u;
  u.memory = n;
  return u;
}

} // namespace

TEST_CASE("memory priorities at Low/Medium/High/Always (go's TestResources)") {
  lone_scope s{all_of(1, 4096)};
  CHECK(s.memory_ok(1024, priority_always));
  CHECK(s.memory_ok(2048, priority_always));
  CHECK(s.memory_ok(3072, priority_always));
  CHECK(s.memory_ok(4096, priority_always));
  CHECK_FALSE(s.memory_ok(8192, priority_always));
  CHECK(s.memory_ok(1024, priority_low));
  CHECK_FALSE(s.memory_ok(2048, priority_low));
  CHECK(s.memory_ok(2048, priority_medium));
  CHECK_FALSE(s.memory_ok(3072, priority_medium));
  CHECK(s.memory_ok(3072, priority_high));
  CHECK_FALSE(s.memory_ok(3584, priority_high));
  // The thresholds behind them: 4096 * (p + 1) / 256.
  CHECK(memory_threshold(4096, priority_low) == 1632);
  CHECK(memory_threshold(4096, priority_medium) == 2448);
  CHECK(memory_threshold(4096, priority_high) == 3264);
  CHECK(memory_threshold(4096, priority_always) == 4096);
  CHECK(memory_threshold(4096, 0) == 16);

  REQUIRE(s.reserve(scope_request::memory(1024, priority_always)));
  REQUIRE(s.reserve(scope_request::memory(1024, priority_always)));
  REQUIRE(s.reserve(scope_request::memory(1024, priority_always)));
  REQUIRE(s.reserve(scope_request::memory(512, priority_always)));
  CHECK(s.node.use.memory == 3584);
  CHECK_FALSE(s.reserve(scope_request::memory(4096, priority_always)));
  CHECK(s.node.use.memory == 3584);
  s.release(memory_of(2560));
  CHECK(s.node.use.memory == 1024);
  REQUIRE(s.reserve(scope_request::memory(2048, priority_always)));
  CHECK(s.node.use.memory == 3072);
  s.release(memory_of(3072));
  CHECK(s.node.use == scope_usage{});

  CHECK(s.reserve(scope_request::memory(1024, priority_low)));
  CHECK_FALSE(s.reserve(scope_request::memory(1024, priority_low)));
  CHECK(s.reserve(scope_request::memory(1024, priority_medium)));
  CHECK_FALSE(s.reserve(scope_request::memory(1024, priority_medium)));
  CHECK(s.reserve(scope_request::memory(1024, priority_high)));
  CHECK_FALSE(s.reserve(scope_request::memory(512, priority_high)));
  CHECK(s.reserve(scope_request::memory(512, priority_always)));
  CHECK(s.node.use.memory == 3584);
  s.release(memory_of(3584));
  CHECK(s.node.use == scope_usage{});
}

TEST_CASE("streams and connections at one scope (go's TestResources)") {
  lone_scope s{all_of(1, 4096)};
  CHECK(s.reserve(scope_request::stream(direction::inbound)));
  CHECK(s.node.use.streams_inbound == 1);
  CHECK_FALSE(s.reserve(scope_request::stream(direction::inbound)));
  // The total (1) refuses an outbound one too.
  scope_node* path[] = {&s.node};
  auto r = reserve(path, 1, scope_request::stream(direction::outbound));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::streams);
  CHECK(r.refusal->why.current == 1);
  CHECK(r.refusal->why.attempted == 1);
  CHECK(r.refusal->why.limit == 1);
  s.release(stream_usage(direction::inbound, 0));
  CHECK(s.node.use == scope_usage{});

  CHECK(s.reserve(scope_request::conn(direction::inbound, false)));
  CHECK(s.node.use == conn_usage(direction::inbound, false, 0));
  CHECK_FALSE(s.reserve(scope_request::conn(direction::inbound, false)));
  s.release(conn_usage(direction::inbound, false, 0));
  CHECK(s.reserve(scope_request::conn(direction::inbound, true)));
  CHECK(s.node.use.fd == 1);
  CHECK_FALSE(s.reserve(scope_request::conn(direction::outbound, true)));
  s.release(conn_usage(direction::inbound, true, 0));
  CHECK(s.node.use == scope_usage{});
}

TEST_CASE("check order at a scope: direction, then total, then FD") {
  scope_limits l = all_of(10, 4096);
  l.conns_inbound = 1;
  l.conns = 1;
  l.fd = 0;
  lone_scope s{l};
  scope_node* path[] = {&s.node};
  // The direction's limit first.
  s.node.use.conns_inbound = 1;
  auto r = reserve(path, 1, scope_request::conn(direction::inbound, true));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::conns_inbound);
  // Then the total.
  r = reserve(path, 1, scope_request::conn(direction::outbound, true));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::conns);
  CHECK(r.refusal->why.current == 1);
  // Then FD, and only for a connection that uses one.
  s.node.use.conns_inbound = 0;
  r = reserve(path, 1, scope_request::conn(direction::outbound, true));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::fd);
  CHECK(r.refusal->why.limit == 0);
  CHECK_FALSE(reserve(path, 1, scope_request::conn(direction::outbound, false)).refusal);
  // A move checks memory first, at priority 255.
  scope_limits tight = all_of(0, 100);
  lone_scope m{tight};
  scope_node* mpath[] = {&m.node};
  auto held = stream_usage(direction::inbound, 200);
  r = reserve(mpath, 1, scope_request::move(held));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::memory);
  CHECK(r.refusal->why.limit == 100);
  CHECK(r.refusal->why.attempted == 200);
  held.memory = 100;
  r = reserve(mpath, 1, scope_request::move(held));
  REQUIRE(r.refusal);
  CHECK(r.refusal->why.resource == scope_resource::streams_inbound);
}

TEST_CASE("memory overflow (go's TestCheckMemory)") {
  auto max = scope_unlimited;
  lone_scope s{all_of(1, max - 1)};
  s.node.use.memory = max - 1;
  CHECK_FALSE(s.memory_ok(2, priority_always));
  s.node.use.memory = 1024;
  CHECK(s.memory_ok(1, priority_always));
  // Unlimited allows any size whose sum fits go's int64, at any priority.
  lone_scope u{all_of(1, max)};
  u.node.use.memory = max - 10;
  CHECK(u.memory_ok(10, 0));
  CHECK_FALSE(u.memory_ok(11, priority_always));
  u.node.use.memory = 0;
  CHECK_FALSE(u.memory_ok(max + 1, priority_always));
  CHECK_FALSE(u.memory_ok(UINT64_MAX, priority_always));
  // A limit near 2^63 and priority 255 does not overflow the threshold.
  CHECK(memory_threshold(max - 1, priority_always) == max - 1);
  CHECK(memory_threshold(max, priority_low) ==
        static_cast<std::uint64_t>(
            (static_cast<unsigned __int128>(max) * (priority_low + 1)) >> 8));
}

TEST_CASE(
    "memory threshold and rule against exact 128-bit arithmetic (go's quick check)") {
  std::mt19937_64 rng{20240601};
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t limit = std::max<std::uint64_t>(rng() % scope_unlimited + 1, 1024);
    std::uint64_t current = rng() % limit;
    std::uint64_t size = rng() >> 14;
    auto priority = static_cast<std::uint8_t>(rng() % 256);
    auto exact = static_cast<std::uint64_t>(
        (static_cast<unsigned __int128>(limit) * (priority + 1u)) >> 8);
    REQUIRE(memory_threshold(limit, priority) == exact);
    bool fits = static_cast<unsigned __int128>(current) + size <= exact;
    if (limit >= scope_unlimited)
      continue;
    REQUIRE(memory_allowed(current, size, limit, priority) == fits);
  }
}

TEST_CASE("the diamond DAG: memory (go's TestResourceScopeDAG)") {
  // s1 <- s2 <- s5; s1 <- s3 <- s6; s4 under s2, s3 and s1 (a diamond).
  scope_limits l1 = all_of(4, 4096);
  scope_limits l2 = all_of(2, 2048);
  scope_node s1, s2, s3, s4, s5, s6;
  s1.limits = &l1;
  for (auto* s : {&s2, &s3, &s4, &s5, &s6})
    s->limits = &l2;
  scope_node* p4[] = {&s4, &s2, &s3, &s1};
  scope_node* p5[] = {&s5, &s2, &s1};
  scope_node* p6[] = {&s6, &s3, &s1};
  auto mem = [](std::uint64_t n) { return scope_request::memory(n, priority_always); };
  auto memory_is = [&](std::vector<std::uint64_t> want) {
    std::vector<std::uint64_t> have{s6.use.memory, s5.use.memory, s4.use.memory,
                                    s3.use.memory, s2.use.memory, s1.use.memory};
    CHECK(have == want);
  };
  CHECK_FALSE(reserve(p4, 4, mem(1024)).refusal);
  memory_is({0, 0, 1024, 1024, 1024, 1024});
  CHECK_FALSE(reserve(p5, 3, mem(1024)).refusal);
  memory_is({0, 1024, 1024, 1024, 2048, 2048});
  CHECK_FALSE(reserve(p6, 3, mem(1024)).refusal);
  memory_is({1024, 1024, 1024, 2048, 2048, 3072});
  auto r4 = reserve(p4, 4, mem(1024));
  REQUIRE(r4.refusal);
  CHECK(r4.refusal->index == 1); // s2, the first on s4's path that is full
  CHECK(r4.refusal->why.current == 2048);
  auto r5 = reserve(p5, 3, mem(1024));
  REQUIRE(r5.refusal);
  CHECK(r5.refusal->index == 1);
  auto r6 = reserve(p6, 3, mem(1024));
  REQUIRE(r6.refusal);
  CHECK(r6.refusal->index == 1); // s3
  // Nothing was charged by the refusals.
  memory_is({1024, 1024, 1024, 2048, 2048, 3072});
  release(p4, 4, memory_of(1024));
  memory_is({1024, 1024, 0, 1024, 1024, 2048});
  release(p5, 3, memory_of(1024));
  release(p6, 3, memory_of(1024));
  memory_is({0, 0, 0, 0, 0, 0});
}

TEST_CASE("the diamond DAG: connections (go's TestResourceScopeDAG)") {
  scope_limits l1 = all_of(4, 4096);
  scope_limits l2 = all_of(2, 2048);
  scope_node s1, s2, s3, s4, s5, s6;
  s1.limits = &l1;
  for (auto* s : {&s2, &s3, &s4, &s5, &s6})
    s->limits = &l2;
  scope_node* p4[] = {&s4, &s2, &s3, &s1};
  scope_node* p5[] = {&s5, &s2, &s1};
  scope_node* p6[] = {&s6, &s3, &s1};
  auto in = scope_request::conn(direction::inbound, true);
  auto conns_are = [&](std::vector<std::uint64_t> want) {
    std::vector<std::uint64_t> have{s6.use.conns_inbound, s5.use.conns_inbound,
                                    s4.use.conns_inbound, s3.use.conns_inbound,
                                    s2.use.conns_inbound, s1.use.conns_inbound};
    CHECK(have == want);
  };
  CHECK_FALSE(reserve(p4, 4, in).refusal);
  CHECK_FALSE(reserve(p5, 3, in).refusal);
  CHECK_FALSE(reserve(p6, 3, in).refusal);
  conns_are({1, 1, 1, 2, 2, 3});
  CHECK(s1.use.fd == 3);
  for (auto r : {reserve(p4, 4, in), reserve(p5, 3, in), reserve(p6, 3, in)}) {
    REQUIRE(r.refusal);
    CHECK(r.refusal->why.resource == scope_resource::conns_inbound);
  }
  conns_are({1, 1, 1, 2, 2, 3});
  auto one = conn_usage(direction::inbound, true, 0);
  release(p4, 4, one);
  conns_are({1, 1, 0, 1, 1, 2});
  release(p5, 3, one);
  conns_are({1, 0, 0, 1, 0, 1});
  release(p6, 3, one);
  conns_are({0, 0, 0, 0, 0, 0});
  CHECK(s1.use == scope_usage{});
}

TEST_CASE("a forced reservation (dry run) charges, reports, and never overflows") {
  scope_limits l = all_of(0, 10);
  scope_node a, b;
  a.limits = &l;
  b.limits = &l;
  scope_node* path[] = {&a, &b};
  auto r = reserve(path, 2, scope_request::stream(direction::outbound), true);
  CHECK(r.applied);
  REQUIRE(r.refusal);
  CHECK(r.refusal->index == 0);
  CHECK(r.refusal->why.resource == scope_resource::streams_outbound);
  CHECK(a.use.streams_outbound == 1);
  CHECK(b.use.streams_outbound == 1);
  b.use.memory = scope_unlimited - 1;
  r = reserve(path, 2, scope_request::memory(2, priority_always), true);
  CHECK_FALSE(r.applied);
  REQUIRE(r.refusal);
  CHECK(r.refusal->index == 1); // b refused, and its sum would not fit go's int64
  CHECK(a.use.memory == 0);
  CHECK(b.use.memory == scope_unlimited - 1);
  // Releases clamp at 0.
  scope_usage lots;
  lots.streams_outbound = 5;
  lots.memory = UINT64_MAX;
  release(path, 2, lots);
  CHECK(a.use == scope_usage{});
  CHECK(b.use == scope_usage{});
}
