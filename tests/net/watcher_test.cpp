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
  CHECK(at("/anomalies/unknown_connection").is_null());
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
