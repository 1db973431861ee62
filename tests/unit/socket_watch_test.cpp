// The socket watcher's core: pruning, idle and lifetime closes, bandwidth
// throttling, misbehaviour blocks, bounded state. Time is virtual.
#include <algorithm>
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include "actors/watcher/rate_window.hpp"
#include "actors/watcher/socket_probe.hpp"
#include "actors/watcher/socket_watch.hpp"
#include "actors/watcher/watcher_json.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms(std::int64_t x) {
  return x * 1'000'000;
}

using close_list = std::vector<std::pair<connection_id, std::string>>;

watcher_config config(std::uint64_t refresh, std::uint64_t idle, std::uint64_t lifetime) {
  watcher_config c;
  c.refresh_interval_ms = refresh;
  c.idle_timeout_ms = idle;
  c.max_lifetime_ms = lifetime;
  return c;
}

} // namespace

TEST_CASE("the rate window sums the last second") {
  rate_window w;
  w.add(100, ms(1000));
  w.add(50, ms(1550));
  CHECK(w.sum(ms(1550)) == 150);
  CHECK(w.sum(ms(1999)) == 150);
  CHECK(w.sum(ms(2000)) == 50); // the slot of t=1000 left the window
  CHECK(w.sum(ms(2599)) == 0);
  w.add(7, ms(9000));
  CHECK(w.sum(ms(9000)) == 7);
}

TEST_CASE("a hang-up probe sees a closed peer and reads nothing") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  REQUIRE(::write(fds[1], "x", 1) == 1);
  CHECK_FALSE(socket_hung_up(fds[0]));
  ::close(fds[1]);
  CHECK(socket_hung_up(fds[0]));
  char c = 0;
  CHECK(::read(fds[0], &c, 1) == 1); // the byte is still there: the probe consumed none
  CHECK(c == 'x');
  ::close(fds[0]);
  CHECK_FALSE(socket_hung_up(-1));
}

TEST_CASE("idle connections are probed; hung-up ones are closed once and counted") {
  socket_watch w;
  w.configure(config(1000, 0, 0));
  REQUIRE(w.watch(1, "A", 11, ms(0)));
  REQUIRE(w.watch(2, "A", 12, ms(0)));
  std::vector<int> probed;
  auto probe = [&](int fd) {
    probed.push_back(fd);
    return fd == 12;
  };
  // First refresh: both were opened after the previous one: not idle yet.
  CHECK(w.refresh(ms(1000), probe).close.empty());
  CHECK(probed.empty());
  w.on_traffic({{1, 10, 0}}, ms(1500));
  auto acts = w.refresh(ms(2000), probe);
  CHECK(probed == std::vector<int>{12});
  CHECK(acts.close == close_list{{2, "hung_up"}});
  // Ordered once: the net layer unwatches it when it is gone.
  CHECK(w.refresh(ms(3000), probe).close.empty());
  auto doc = to_json(w.stats_at(ms(3000)));
  CHECK(doc["pruned"] == 1);
  CHECK(doc["peers"]["A"]["pruned"] == 1);
  CHECK(doc["peers"]["A"]["connections"]["2"]["health"] == "hung_up");
  CHECK(w.unwatch(2));
  CHECK_FALSE(w.unwatch(2));
  CHECK(w.watched() == 1);
  CHECK(w.anomalies()[anomaly::watch_unknown_unwatch] == 1);
}

TEST_CASE("idle timeout and maximum lifetime close connections") {
  socket_watch w;
  w.configure(config(100, 500, 2000));
  w.watch(1, "A", -1, ms(0));
  w.watch(2, "B", -1, ms(0));
  auto never = [](int) { return false; };
  for (int t = 100; t <= 500; t += 100) {
    w.on_traffic({{1, 1, 0}, {2, 1, 0}}, ms(t));
    CHECK(w.refresh(ms(t), never).close.empty());
  }
  // B goes quiet at t=500; idle for more than 500 ms at t=1100.
  for (int t = 600; t <= 1000; t += 100) {
    w.on_traffic({{1, 1, 0}}, ms(t));
    CHECK(w.refresh(ms(t), never).close.empty());
  }
  w.on_traffic({{1, 1, 0}}, ms(1100));
  CHECK(w.refresh(ms(1100), never).close == close_list{{2, "idle"}});
  w.unwatch(2);
  for (int t = 1200; t <= 2000; t += 100) {
    w.on_traffic({{1, 1, 0}}, ms(t));
    CHECK(w.refresh(ms(t), never).close.empty());
  }
  CHECK(w.refresh(ms(2001), never).close == close_list{{1, "lifetime"}});
}

TEST_CASE("a peer over its bandwidth budget is paused, then resumed") {
  socket_watch w;
  auto c = config(1000, 0, 0);
  c.peer_bandwidth_bytes_per_s = 1000;
  w.configure(c);
  w.watch(1, "greedy", -1, ms(0));
  w.watch(2, "greedy", -1, ms(0));
  w.watch(3, "calm", -1, ms(0));
  CHECK(w.on_traffic({{1, 400, 0}, {3, 100, 0}}, ms(100)).pause.empty());
  // 1100 bytes in the window: what a throttled peer may move (budget plus
  // its bucket's burst), not yet a pause.
  CHECK(w.on_traffic({{2, 700, 0}}, ms(200)).pause.empty());
  CHECK_FALSE(w.paused(1));
  auto acts = w.on_traffic({{2, 100, 0}}, ms(200)); // 1200 > 1100
  CHECK(acts.pause == std::vector<connection_id>{1, 2});
  CHECK(w.throttling());
  CHECK(w.paused(1));
  CHECK_FALSE(w.paused(3));
  // A new connection of a paused peer starts paused.
  watcher_actions on_watch;
  w.watch(4, "greedy", -1, ms(300), on_watch);
  CHECK(w.paused(4));
  CHECK(on_watch.pause == std::vector<connection_id>{4});
  CHECK(w.throttle(ms(1000)).resume.empty()); // t=100 and 200 still in the window
  // At t=1100 the 400 bytes of t=100 left the window: 800 < 1000.
  CHECK(w.throttle(ms(1100)).resume == std::vector<connection_id>{1, 2, 4});
  CHECK_FALSE(w.paused(3));
  // The exact moment: a slot leaves the window one second after it began.
  socket_watch v;
  v.configure(c);
  v.watch(1, "g", -1, ms(0));
  v.on_traffic({{1, 1200, 0}}, ms(150));
  CHECK(v.paused(1));
  CHECK(v.throttle(ms(1099)).resume.empty());
  CHECK(v.throttle(ms(1100)).resume == std::vector<connection_id>{1});
  CHECK_FALSE(v.throttling());
}

TEST_CASE("each connection of a peer is throttled to its share of the budget") {
  using throttles = std::vector<std::pair<connection_id, std::uint64_t>>;
  socket_watch w;
  auto c = config(1000, 0, 0);
  c.peer_bandwidth_bytes_per_s = 3000;
  w.configure(c);
  watcher_actions a;
  REQUIRE(w.watch(1, "A", -1, ms(0), a));
  CHECK(a.throttle == throttles{{1, 3000}});
  watcher_actions b;
  REQUIRE(w.watch(2, "A", -1, ms(0), b));
  CHECK(b.throttle == throttles{{1, 1500}, {2, 1500}});
  watcher_actions other_peer;
  REQUIRE(w.watch(3, "B", -1, ms(0), other_peer));
  CHECK(other_peer.throttle == throttles{{3, 3000}});
  watcher_actions third;
  REQUIRE(w.watch(4, "A", -1, ms(0), third));
  CHECK(third.throttle == throttles{{1, 1000}, {2, 1000}, {4, 1000}});
  CHECK(w.read_limit(4) == 1000);
  // A connection gone: the others' shares grow.
  watcher_actions gone;
  REQUIRE(w.unwatch(1, gone));
  CHECK(gone.throttle == throttles{{2, 1500}, {4, 1500}});
  // No budget any more: every throttle is lifted; a new budget re-shares.
  // (Peers are visited in hash order: compare sorted.)
  auto sorted = [](throttles t) {
    std::sort(t.begin(), t.end());
    return t;
  };
  c.peer_bandwidth_bytes_per_s = 0;
  CHECK(sorted(w.reconfigure(c, ms(10)).throttle) == throttles{{2, 0}, {3, 0}, {4, 0}});
  CHECK(w.read_limit(2) == 0);
  c.peer_bandwidth_bytes_per_s = 10;
  CHECK(sorted(w.reconfigure(c, ms(20)).throttle) == throttles{{2, 5}, {3, 10}, {4, 5}});
  // An unchanged budget orders nothing.
  CHECK(w.reconfigure(c, ms(30)).throttle.empty());
  // Never below one byte per second, whatever the number of connections.
  c.peer_bandwidth_bytes_per_s = 1;
  CHECK(sorted(w.reconfigure(c, ms(40)).throttle) == throttles{{2, 1}, {3, 1}, {4, 1}});
}

TEST_CASE("misbehaviour above the threshold blocks the peer for the cooldown") {
  socket_watch w;
  auto c = config(1000, 0, 0);
  c.misbehaviour_threshold = 2;
  c.cooldown_ms = 5000;
  w.configure(c);
  CHECK(w.on_violation("bad", "bad_frame", ms(10)).block.empty());
  CHECK(w.on_violation("bad", "rate_limited", ms(20)).block.empty());
  auto acts = w.on_violation("bad", "bad_frame", ms(30));
  REQUIRE(acts.block.size() == 1);
  CHECK(acts.block[0].peer == "bad");
  CHECK(acts.block[0].until == ms(5030));
  auto doc = to_json(w.stats_at(ms(40)));
  CHECK(doc["peers"]["bad"]["violations"] == 2);
  CHECK(doc["peers"]["bad"]["rate_limit_denials"] == 1);
  CHECK(doc["peers"]["bad"]["blocked"] == true);
  CHECK(doc["blocks"] == 1);
  // The score starts over after a block.
  CHECK(w.on_violation("bad", "bad_frame", ms(50)).block.empty());
}

TEST_CASE("a flood of fresh peer ids keeps the health records bounded") {
  socket_watch w;
  w.configure(config(1000, 0, 0));
  w.watch(1, "keeper", -1, ms(0)); // a peer with a live connection is never dropped
  w.on_violation("gone", "bad_frame", ms(0));
  w.watch(2, "gone", -1, ms(0));
  w.unwatch(2); // idle again: evictable
  for (int i = 0; i < 30000; ++i)
    w.on_violation("peer-" + std::to_string(i), "bad_frame", ms(i + 1));
  auto doc = to_json(w.stats_at(ms(30001)));
  CHECK(doc["peers"].size() == socket_watch::max_idle_peer_records + 1);
  CHECK(doc["peers"].contains("keeper"));
  CHECK(doc["peers"].contains("peer-29999"));
  CHECK(doc["peers"].contains("peer-20000"));
  CHECK_FALSE(doc["peers"].contains("peer-19999"));
  CHECK_FALSE(doc["peers"].contains("gone"));
}

TEST_CASE("idle health records are bounded by the bytes of their peer ids") {
  socket_watch w;
  w.configure(config(1000, 0, 0));
  const std::string big(64 * 1024, 'x');
  w.watch(1, big + "live", -1, ms(0)); // live: kept whatever its size
  for (int i = 100; i < 300; ++i)
    w.on_violation(big + std::to_string(i), "bad_frame", ms(i));
  // 1 MiB holds 15 ids of 65,539 bytes (16 would be 1,048,624).
  CHECK(w.idle_peer_records() == 15);
  CHECK(w.idle_peer_id_bytes() == 15 * (big.size() + 3));
  auto doc = to_json(w.stats_at(ms(1000)));
  CHECK(doc["peers"].size() == 16);
  CHECK(doc["peers"].contains(big + "live"));
  CHECK(doc["peers"].contains(big + "299"));
  CHECK(doc["peers"].contains(big + "285"));
  CHECK_FALSE(doc["peers"].contains(big + "284"));
  // The live peer's record joins the idle ones when its connection goes,
  // within the same bound.
  w.unwatch(1);
  CHECK(w.idle_peer_records() == 15);
  CHECK(w.idle_peer_id_bytes() == 14 * (big.size() + 3) + big.size() + 4);
  CHECK(to_json(w.stats_at(ms(1000)))["peers"].contains(big + "live"));
}

TEST_CASE("bad input from the net layer is counted, not fatal") {
  socket_watch w;
  CHECK(w.watch(1, "A", -1, 0));
  CHECK_FALSE(w.watch(1, "A", -1, 0));
  w.on_traffic({{42, 10, 10}}, ms(1));
  auto& a = w.anomalies();
  CHECK(a[anomaly::watch_duplicate] == 1);
  CHECK(a[anomaly::watch_unknown_traffic] == 1);
  CHECK(w.watched() == 1);
}
