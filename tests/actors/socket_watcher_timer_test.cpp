// The socket watcher's timer on the deterministic scheduler: a refresh
// interval far beyond a day still ticks once a day, never in the past.
#include <chrono>
#include <string>
#include <vector>

#include "actor_fixture.hpp"
#include "actors/watcher/socket_watcher_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

struct order_log {
  std::vector<std::string> lines;
};

/// A net layer that writes down every order of the watcher.
net_control::behavior_type order_recorder(net_control::pointer, order_log* log) {
  return {
      [log](pause_atom, connection_id c) {
        log->lines.push_back("pause " + std::to_string(c));
      },
      [log](resume_atom, connection_id c) {
        log->lines.push_back("resume " + std::to_string(c));
      },
      [log](close_atom, connection_id c, const std::string& reason) {
        log->lines.push_back("close " + std::to_string(c) + " " + reason);
      },
      [](throttle_atom, connection_id, std::uint64_t) {},
  };
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "a refresh interval of 1e13 ms is clamped to a day on the timer") {
  watcher_config cfg;
  cfg.refresh_interval_ms = 10'000'000'000'000; // about 317 years
  cfg.idle_timeout_ms = 1;
  auto watcher = spawn_socket_watcher(sys, cfg, gate_actor{});
  order_log log;
  auto net = sys.spawn(order_recorder, &log);
  caf::anon_send(watcher, subscribe_atom::value, net);
  caf::anon_send(watcher, watch_socket{1, "A", -1});
  run();
  // A timer that wrapped into the past would fire here and close the
  // connection, idle for more than 1 ms.
  advance(10ms);
  CHECK(log.lines.empty());
  advance(std::chrono::milliseconds(24h) - 11ms);
  CHECK(log.lines.empty());
  advance(1ms);
  CHECK(log.lines == std::vector<std::string>{"close 1 idle"});
  stop(watcher, net);
}
