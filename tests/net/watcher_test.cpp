// The transport driven by the socket watcher: reset peers, idle peers.
#include "net_fixture.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

node_config watched(std::uint64_t refresh_ms, std::uint64_t idle_ms) {
  node_config c;
  c.watcher.refresh_interval_ms = refresh_ms;
  c.watcher.idle_timeout_ms = idle_ms;
  return c;
}

} // namespace

TEST_CASE_FIXTURE(node_fixture, "clients killed abruptly (RST) are released") {
  start(watched(100, 60000));
  std::vector<std::unique_ptr<wire_client>> clients;
  for (int i = 1; i <= 3; ++i) {
    clients.push_back(std::make_unique<wire_client>(port));
    clients.back()->send(encode_hello("K" + std::to_string(i)));
    CHECK(clients.back()->expect_frame().type == frame_type::hello);
  }
  CHECK(dump_reaches("/connections/established/inbound", 3));
  // Connection 3 is paused (no more frames are delivered); its reset is
  // still noticed and released.
  node->pause(3);
  node->send(3, "/note/1", "paused");
  CHECK(clients[2]->expect_frame().body == "paused");
  for (auto& c : clients)
    c->reset();
  CHECK(dump_reaches("/connections/total", 0));
  CHECK(dump_reaches("/watcher/watched", 0));
  CHECK(at("/anomalies/unknown_connection").is_null());
  // The last bytes of each connection reach the watcher before its unwatch.
  CHECK(at("/anomalies/watch_unknown_traffic").is_null());
  CHECK(at("/anomalies/watch_unknown_unwatch").is_null());
}

TEST_CASE_FIXTURE(node_fixture,
                  "the watcher closes an idle connection through the node") {
  start(watched(100, 300));
  wire_client idle{port};
  idle.send(encode_hello("I"));
  CHECK(idle.expect_frame().type == frame_type::hello);
  CHECK(dump_reaches("/connections/established/inbound", 1));
  CHECK(idle.closed_within());
  CHECK(dump_reaches("/connections/total", 0));
}

namespace {

/// Counts the bytes a sink handler receives (on the io thread only) and
/// reports how long the bytes between two marks took to arrive.
struct rate_probe {
  std::uint64_t total = 0;
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::chrono::steady_clock::time_point started;
  bool done = false;
  std::promise<double> seconds;

  void add(std::size_t n) {
    if (done)
      return;
    auto before = total;
    total += n;
    if (before < from && total >= from)
      started = std::chrono::steady_clock::now();
    if (total >= to) {
      done = true;
      seconds.set_value(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
              .count());
    }
  }
};

} // namespace

// The watcher throttles each connection of a peer to its share of the
// budget, and the connection's read bucket holds it there. The first bytes
// may come before the throttle (and then the one-second window pauses the
// peer until they leave it): measure 3 MB after the first 2 MB.
TEST_CASE_FIXTURE(node_fixture, "a greedy peer is held near its bandwidth budget") {
  constexpr std::uint64_t budget = 1000000; // bytes per second
  auto probe = std::make_shared<rate_probe>();
  probe->from = 2000000;
  probe->to = 5000000;
  auto config = watched(100, 60000);
  config.watcher.peer_bandwidth_bytes_per_s = budget;
  rt = std::make_unique<runtime>(sys, config);
  auto& h = rt->handles();
  node_options o;
  o.peer = "server";
  node = std::make_unique<net::node>(
      sys, net::node_actors{h.gate, h.rate_limiter, h.watcher}, o);
  node->handle("/sink/1", [probe](const peer_id&, const std::string& body) {
    probe->add(body.size() + 5 + 1 + 7); // the whole frame, as the watcher counts it
    return std::optional<std::string>{};
  });
  port = node->listen("127.0.0.1", 0);
  wire_client greedy{port};
  greedy.send(encode_hello("G"));
  CHECK(greedy.expect_frame().type == frame_type::hello);
  // The writer blocks whenever the node stops reading; it ends when the
  // node closes the connection.
  std::thread writer{[&greedy] {
    auto chunk = encode_data("/sink/1", std::string(16384, 'x'));
    while (greedy.try_send(chunk)) {
    }
  }};
  auto measured = probe->seconds.get_future();
  auto ready = measured.wait_for(30s) == std::future_status::ready;
  node->close(1, "test over");
  writer.join();
  REQUIRE(ready);
  auto rate = static_cast<double>(probe->to - probe->from) / measured.get();
  MESSAGE("achieved " << rate << " bytes/s for a budget of " << budget);
  CHECK(rate >= budget * 0.85);
  CHECK(rate <= budget * 1.15);
}
