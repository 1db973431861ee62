// Property tests of the scope graph (DESIGN §6.1) over random mixes of
// connection, stream and memory events with small random limits: no scope
// ever holds more than a limit in force (a lowered limit may only be over
// while usage does not grow), every scope's usage is the sum of what its
// connections and streams hold at every step, and once everything is closed
// every scope is back at zero and no peer, protocol or service scope is left.
#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "actors/gate/scopes/resource_scopes.hpp"

using namespace rcmgr;

namespace {

const std::array<std::string, 4> peers{"A", "B", "C", "D"};
const std::array<std::string, 2> protocols{"/p0", "/p1"};
const std::array<std::string, 2> services{"s0", "s1"};

/// (what, id 1..8, peer 0..3, direction 0..1, bytes, priority, flag)
using step = std::tuple<int, int, int, int, int, int, int>;

rc::Gen<std::vector<step>> steps() {
  return rc::gen::container<std::vector<step>>(rc::gen::tuple(
      rc::gen::inRange(0, 14), rc::gen::inRange(1, 9), rc::gen::inRange(0, 4),
      rc::gen::inRange(0, 2), rc::gen::inRange(0, 3000), rc::gen::inRange(0, 256),
      rc::gen::inRange(0, 4)));
}

/// Small limits, so that every one of them is hit often.
scope_limits small_limits(std::uint64_t& seed) {
  auto next = [&](std::uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  scope_limits l;
  l.streams = next(5);
  l.streams_inbound = next(4);
  l.streams_outbound = next(4);
  l.conns = next(5);
  l.conns_inbound = next(4);
  l.conns_outbound = next(4);
  l.fd = next(4);
  l.memory = next(3) == 0 ? scope_unlimited : next(6000);
  return l;
}

scope_limit_config random_limits(std::uint64_t seed) {
  scope_limit_config c;
  for (auto* l :
       {&c.system, &c.transient, &c.allowlisted_system, &c.allowlisted_transient,
        &c.service_default, &c.service_peer_default, &c.protocol_default,
        &c.protocol_peer_default, &c.peer_default, &c.conn, &c.stream})
    *l = small_limits(seed);
  // Connections and streams need room in their own scope most of the time.
  c.conn.conns = c.conn.conns_inbound = c.conn.conns_outbound = c.conn.fd = 1;
  c.stream.streams = c.stream.streams_inbound = c.stream.streams_outbound = 1;
  if (seed % 3 == 0)
    c.peer["A"] = small_limits(seed);
  if (seed % 5 == 0)
    c.protocol["/p1"] = small_limits(seed);
  if (seed % 7 == 0)
    c.protocol_peer["/p0"] = small_limits(seed);
  if (seed % 2 == 0)
    c.service_peer["s1"] = small_limits(seed);
  return c;
}

std::array<std::uint64_t, 8> amounts(const scope_usage& u) {
  return {u.conns_inbound,
          u.conns_outbound,
          u.conns_inbound + u.conns_outbound,
          u.streams_inbound,
          u.streams_outbound,
          u.streams_inbound + u.streams_outbound,
          u.fd,
          u.memory};
}

std::array<std::uint64_t, 8> bounds(const scope_limits& l) {
  return {l.conns_inbound,    l.conns_outbound, l.conns, l.streams_inbound,
          l.streams_outbound, l.streams,        l.fd,    l.memory};
}

/// Every scope the steps can reach, with the limits in force for it.
struct observed {
  std::string name;
  std::optional<scope_usage> use;
  scope_limits limits;
};

std::vector<observed> observe(const resource_scopes& s) {
  auto& c = s.limits();
  std::vector<observed> out{
      {"system", s.system(), c.system},
      {"transient", s.transient(), c.transient},
      {"allowlisted_system", s.allowlisted_system(), c.allowlisted_system},
      {"allowlisted_transient", s.allowlisted_transient(), c.allowlisted_transient}};
  for (auto& p : peers) {
    out.push_back({"peer:" + p, s.peer(p), c.peer_limits(p)});
    for (auto& pr : protocols)
      out.push_back({"protocol:" + pr + ".peer:" + p, s.protocol_peer(pr, p),
                     c.protocol_peer_limits(pr)});
    for (auto& sv : services)
      out.push_back({"service:" + sv + ".peer:" + p, s.service_peer(sv, p),
                     c.service_peer_limits(sv)});
  }
  for (auto& pr : protocols)
    out.push_back({"protocol:" + pr, s.protocol(pr), c.protocol_limits(pr)});
  for (auto& sv : services)
    out.push_back({"service:" + sv, s.service(sv), c.service_limits(sv)});
  return out;
}

scope_result apply(resource_scopes& s, const step& st, std::uint64_t& seed) {
  auto [what, id_i, peer_i, dir_i, bytes_i, priority_i, flag] = st;
  auto id = static_cast<std::uint64_t>(id_i);
  auto& peer = peers[static_cast<std::size_t>(peer_i)];
  auto dir = dir_i == 0 ? direction::inbound : direction::outbound;
  auto bytes = static_cast<std::uint64_t>(bytes_i);
  auto priority = static_cast<std::uint8_t>(priority_i);
  auto holder = [&] {
    return holder_ref{
        flag % 2 == 0 ? holder_ref::kind_t::conn : holder_ref::kind_t::stream, id};
  };
  switch (what) {
  case 0:
  case 1:
    return s.open_conn(id, dir, flag != 0, 0, flag == 3, flag == 2 && peer_i == 3);
  case 2:
  case 3:
    return s.establish_conn(id, peer, dir, flag != 0, 0, flag % 2 == 0,
                            peer_i == 3 && flag == 1);
  case 4:
    return s.close_conn(id);
  case 5:
  case 6:
    return s.open_stream(id, peer, dir, 0, std::nullopt, peer_i == 3 && flag == 1);
  case 7:
    return s.set_stream_protocol(id, protocols[static_cast<std::size_t>(flag % 2)]);
  case 8:
    return s.set_stream_service(id, services[static_cast<std::size_t>(flag % 2)]);
  case 9:
    return s.close_stream(id);
  case 10:
  case 11:
    return s.reserve_memory(holder(), bytes, priority);
  case 12:
    return s.release_memory(holder(), bytes);
  default:
    // A config update: other limits, other named scopes.
    seed = seed * 31 + static_cast<std::uint64_t>(bytes_i);
    s.set_limits(random_limits(seed));
    return scope_result{};
  }
}

/// A denial's figures must show why it refused.
void check_denial(const scope_result& r) {
  if (!r.denied())
    return;
  RC_ASSERT(r.denial.has_value());
  auto& d = *r.denial;
  if (d.resource == scope_resource::memory) {
    RC_ASSERT(d.priority.has_value());
    RC_ASSERT(d.current + d.attempted > memory_threshold(d.limit, *d.priority));
  } else {
    RC_ASSERT(d.dir.has_value());
    RC_ASSERT(d.current + d.attempted > d.limit);
  }
}

/// Closes everything and checks that nothing is left.
void close_all(resource_scopes& s) {
  for (std::uint64_t id = 1; id <= 8; ++id) {
    s.close_conn(id);
    s.close_stream(id);
  }
  RC_ASSERT(s.conn_count() == 0u);
  RC_ASSERT(s.stream_count() == 0u);
  for (auto& o : observe(s))
    if (o.use)
      RC_ASSERT(o.use->is_zero());
  // Only the scopes the config names remain.
  auto& c = s.limits();
  RC_ASSERT(s.dynamic_scope_count() ==
            c.peer.size() + c.protocol.size() + c.service.size());
  s.set_limits(scope_limit_config{});
  RC_ASSERT(s.dynamic_scope_count() == 0u);
  RC_ASSERT(s.audit() == "");
}

} // namespace

TEST_CASE("property: no scope holds more than a limit in force; all back to zero") {
  auto ok = rc::check("scope limits hold and usage adds up", [] {
    auto seed = static_cast<std::uint64_t>(*rc::gen::inRange(0, 1 << 30));
    auto seq = *steps();
    resource_scopes s{random_limits(seed)};
    for (auto& st : seq) {
      auto before = observe(s);
      check_denial(apply(s, st, seed));
      auto after = observe(s);
      for (std::size_t i = 0; i < after.size(); ++i) {
        if (!after[i].use)
          continue;
        auto now = amounts(*after[i].use);
        auto was = before[i].use ? amounts(*before[i].use) : decltype(now){};
        auto limit = bounds(after[i].limits);
        for (std::size_t r = 0; r < now.size(); ++r)
          if (now[r] > limit[r]) {
            // Over a limit only if it was lowered: then usage may not grow.
            RC_ASSERT(now[r] <= was[r]);
          }
      }
      auto text = s.audit();
      RC_ASSERT(text == "");
    }
    close_all(s);
  });
  CHECK(ok);
}

TEST_CASE("property: in a dry run usage still adds up and returns to zero") {
  auto ok = rc::check("dry-run accounting", [] {
    auto seed = static_cast<std::uint64_t>(*rc::gen::inRange(0, 1 << 30));
    auto seq = *steps();
    resource_scopes s{random_limits(seed)};
    s.set_dry_run(true);
    for (auto& st : seq) {
      // In a dry run nothing is denied; out of it, denials are as usual.
      auto dry = s.dry_run();
      auto r = apply(s, st, seed);
      if (dry)
        RC_ASSERT(r.kind != verdict_kind::deny);
      else
        check_denial(r);
      RC_ASSERT(s.audit() == "");
      if (std::get<0>(st) == 4)
        s.set_dry_run(!s.dry_run());
    }
    close_all(s);
  });
  CHECK(ok);
}
