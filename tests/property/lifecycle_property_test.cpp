// Property tests over random event sequences with a few peers and random
// limits: on the core, and through the gate and tracker actors.
#include <array>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "actor_fixture.hpp"
#include "actors/gate/connection_limits.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

using namespace rcmgr;

namespace {

/// One random step: (what, connection 1..12, peer index 0..3, a limit 0..5).
using step = std::tuple<int, int, int, int>;

const std::array<peer_id, 4> peers{"A", "B", "C", "T"}; // "T" may get bypassed

rc::Gen<std::vector<step>> steps() {
  return rc::gen::container<std::vector<step>>(
      rc::gen::tuple(rc::gen::inRange(0, 11), rc::gen::inRange(1, 13),
                     rc::gen::inRange(0, 4), rc::gen::inRange(0, 6)));
}

connection_limits_config random_limits(int seed) {
  // Each limit from the seed's digits: small enough to be hit often.
  connection_limits_config c;
  c.max_pending_inbound = 1 + seed % 4;
  c.max_pending_outbound = 1 + (seed / 4) % 4;
  c.max_established_inbound = 1 + (seed / 16) % 4;
  c.max_established_outbound = 1 + (seed / 64) % 4;
  c.max_established_per_peer = 1 + (seed / 256) % 3;
  c.max_established_total = 1 + (seed / 768) % 6;
  return c;
}

/// Applies one step through `apply`, a callable taking each event type. Steps
/// 9 and 10 change the config (`set_limits`) or the bypass set.
template <class Apply, class SetLimits, class Bypass>
void run_step(const step& s, Apply&& apply, SetLimits&& set_limits, Bypass&& bypass) {
  auto [what, conn_i, peer_i, limit] = s;
  auto conn = static_cast<connection_id>(conn_i);
  auto& peer = peers[static_cast<std::size_t>(peer_i)];
  switch (what) {
  case 0:
    apply(pending_inbound{conn, "l", "r"});
    break;
  case 1:
    apply(pending_outbound{conn, peer, {"a"}});
    break;
  case 2:
  case 3:
    apply(established_inbound{conn, peer, "l", "r"});
    break;
  case 4:
  case 5:
    apply(established_outbound{conn, peer, "a"});
    break;
  case 6:
    apply(dial_failure{conn});
    break;
  case 7:
    apply(listen_failure{conn});
    break;
  case 8:
    apply(connection_closed{conn, "", ""});
    break;
  case 9:
    set_limits(limit);
    break;
  default:
    bypass(limit % 2 == 0);
    break;
  }
}

std::array<std::uint64_t, 6> count_vector(const connection_limits& core) {
  auto c = core.counts();
  std::uint64_t per_peer_max = 0;
  for (auto& p : peers)
    per_peer_max = std::max<std::uint64_t>(per_peer_max, core.established_of(p));
  return {c.pending_inbound,     c.pending_outbound,
          c.established_inbound, c.established_outbound,
          per_peer_max,          c.established_inbound + c.established_outbound};
}

std::array<std::uint64_t, 6> limit_vector(const connection_limits_config& l) {
  return {l.max_pending_inbound,      l.max_pending_outbound,
          l.max_established_inbound,  l.max_established_outbound,
          l.max_established_per_peer, l.max_established_total};
}

} // namespace

TEST_CASE(
    "property: no count grows past its limit; closing everything empties the core") {
  auto ok = rc::check("limits hold on the core", [] {
    auto seed = *rc::gen::inRange(0, 4608);
    auto seq = *steps();
    connection_limits core{random_limits(seed)};
    for (auto& s : seq) {
      auto before = count_vector(core);
      run_step(
          s,
          [&](const auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, pending_inbound>)
              core.on_pending_inbound(ev.conn);
            else if constexpr (std::is_same_v<T, pending_outbound>)
              core.on_pending_outbound(ev.conn, ev.peer);
            else if constexpr (std::is_same_v<T, established_inbound>)
              core.on_established(ev.conn, ev.peer, direction::inbound);
            else if constexpr (std::is_same_v<T, established_outbound>)
              core.on_established(ev.conn, ev.peer, direction::outbound);
            else if constexpr (std::is_same_v<T, dial_failure>)
              core.on_failure(ev.conn, direction::outbound);
            else if constexpr (std::is_same_v<T, listen_failure>)
              core.on_failure(ev.conn, direction::inbound);
            else
              core.on_closed(ev.conn, ev.peer);
          },
          [&](int limit) {
            auto l = core.limits();
            l.max_established_total = static_cast<std::uint64_t>(limit);
            l.max_pending_inbound = static_cast<std::uint64_t>(limit);
            core.set_limits(l);
          },
          [&](bool add) {
            if (add)
              core.add_bypass("T");
            else
              core.remove_bypass("T");
          });
      auto after = count_vector(core);
      auto limits = limit_vector(core.limits());
      for (std::size_t i = 0; i < after.size(); ++i) {
        // Over a limit only if it was lowered: then the count may not grow.
        if (after[i] > limits[i])
          RC_ASSERT(after[i] <= before[i]);
      }
    }
    for (connection_id c = 1; c <= 12; ++c)
      core.on_closed(c, "");
    RC_ASSERT(core.counts() == admission_counts{});
    RC_ASSERT(core.size() == 0u);
    RC_ASSERT(core.interned_peers() == 0u); // every peer id's text given back
  });
  CHECK(ok);
}

TEST_CASE("property: the gate's counts equal the tracker's records") {
  auto ok = rc::check("gate and tracker agree", [] {
    auto seed = *rc::gen::inRange(0, 4608);
    auto seq = *steps();
    rcmgr::test::actor_fixture fx;
    node_config cfg;
    cfg.connection_limits = random_limits(seed);
    auto gate = spawn_gate(fx.sys, cfg);
    auto tracker = spawn_tracker(fx.sys, tracker_options{});
    caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{tracker});
    fx.run();
    for (auto& s : seq) {
      run_step(
          s, [&](const auto& ev) { fx.verdict_of(gate, ev); },
          [&](int limit) {
            cfg.connection_limits.max_established_total =
                static_cast<std::uint64_t>(limit);
            fx.verdict_of(gate, cfg);
          },
          [&](bool add) {
            if (add)
              fx.verdict_of(gate, bypass_peer{"T"});
            else
              fx.verdict_of(gate, remove_bypass{"T"});
          });
      auto g = fx.ask<admission_counts>(gate, get_atom::value, counts_atom::value);
      auto t = fx.ask<admission_counts>(tracker, get_atom::value, counts_atom::value);
      RC_ASSERT(g == t);
    }
    for (connection_id c = 1; c <= 12; ++c)
      fx.verdict_of(gate, connection_closed{c, "", ""});
    RC_ASSERT(fx.ask<admission_counts>(gate, get_atom::value, counts_atom::value) ==
              admission_counts{});
    RC_ASSERT(fx.ask<admission_counts>(tracker, get_atom::value, counts_atom::value) ==
              admission_counts{});
    fx.stop(gate, tracker);
  });
  CHECK(ok);
}
