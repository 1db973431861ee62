// The connector (get_or_connect) and a shutdown that races a verdict.
#include <mutex>

#include "net_fixture.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

TEST_CASE_FIXTURE(node_fixture,
                  "the connector reuses an idle connection and dials up to its cap") {
  start({});
  runtime rt_b{sys, node_config{}};
  auto& hb = rt_b.handles();
  node_options ob;
  ob.peer = "dialer";
  ob.max_connections_per_peer = 2;
  net::node b{sys, net::node_actors{hb.gate, hb.rate_limiter, {}}, ob};
  auto queued = [&](connection_id c) { return b.queued_bytes(c).get(); };
  auto get = [&] { return b.get_or_connect("127.0.0.1", port).get(); };
  // Eight 1,000,000-byte frames: more than loopback's socket buffers hold
  // while the server does not read.
  auto flood = [&](connection_id c) {
    for (int i = 0; i < 8; ++i)
      b.send(c, "/echo/1", std::string(1000000, 'x'));
  };

  auto c1 = get();
  REQUIRE(c1.ok);
  CHECK(c1.peer == "server");
  CHECK(eventually([&] { return queued(c1.conn) == 0; }));
  CHECK(get().conn == c1.conn); // idle: reused
  // The server stops reading connection 1 (its first inbound): c1 backs up.
  node->pause(1);
  flood(c1.conn);
  CHECK(eventually([&] { return queued(c1.conn) > 0; }));
  auto c2 = get(); // busy and under the cap: a new dial
  REQUIRE(c2.ok);
  CHECK(c2.conn != c1.conn);
  CHECK(eventually([&] { return queued(c2.conn) == 0; }));
  CHECK(get().conn == c2.conn); // the idle one
  node->pause(2);
  flood(c2.conn);
  CHECK(eventually([&] { return queued(c2.conn) > 0; }));
  // Both busy, the cap reached: the least busy of the two, no third dial.
  for (int i = 0; i < 3; ++i) {
    auto r = get();
    CHECK(r.ok);
    CHECK((r.conn == c1.conn || r.conn == c2.conn));
  }
  CHECK(at("/connections/established/inbound") == 2);
  CHECK(at("/connections/pending/inbound") == 0);
  CHECK(b.queued_bytes(999).get() == 0); // unknown: nothing queued
  // A paused connection does not read, so it would not see the dialer's
  // close behind the unread megabytes: the server closes them.
  node->close(1, "test over");
  node->close(2, "test over");
  CHECK(dump_reaches("/connections/total", 0));
  b.shutdown();
}

namespace {

/// What a gate that never answers pending_inbound was told.
struct silent_gate_log {
  std::mutex mtx;
  std::vector<connection_id> pending;
  std::vector<connection_id> closed;
  std::vector<connection_id> pending_now() {
    std::lock_guard<std::mutex> guard{mtx};
    return pending;
  }
  std::vector<connection_id> closed_now() {
    std::lock_guard<std::mutex> guard{mtx};
    return closed;
  }
};

caf::behavior silent_gate(caf::event_based_actor* self,
                          std::shared_ptr<silent_gate_log> log) {
  // A node sends its events as one-way lifecycle batches: a batch holding a
  // pending_inbound is never answered; any other is answered in full.
  return {
      [self, log](oneway_batch& ow) {
        bool hold = false;
        {
          std::lock_guard<std::mutex> guard{log->mtx};
          for (auto& e : ow.batch.events) {
            if (e.kind == event_kind::pending_inbound) {
              log->pending.push_back(e.conn());
              hold = true;
            } else if (e.kind == event_kind::connection_closed) {
              log->closed.push_back(e.conn());
            }
          }
        }
        if (!hold && ow.reply_to)
          self->send(ow.reply_to,
                     batch_verdicts{ow.id, std::vector<verdict>(ow.batch.events.size(),
                                                                verdict::ok())});
      },
      [](const anomaly_report&) {},
  };
}

} // namespace

/// A node (verdict timeout 200 ms) in front of a silent gate, and one client.
struct silent_gate_node {
  caf::actor_system_config cfg;
  caf::actor_system sys{quiet(cfg)};
  std::shared_ptr<silent_gate_log> log = std::make_shared<silent_gate_log>();
  caf::actor gate = sys.spawn(silent_gate, log);
  std::unique_ptr<net::node> n;
  std::uint16_t port = 0;

  silent_gate_node() {
    node_options o;
    o.peer = "server";
    o.verdict_timeout = 200ms;
    n = std::make_unique<net::node>(
        sys, net::node_actors{caf::actor_cast<gate_actor>(gate), {}, {}}, o);
    port = n->listen("127.0.0.1", 0);
  }

  ~silent_gate_node() {
    n->shutdown();
    caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
  }
};

const std::vector<connection_id> just_one{1};

TEST_CASE_FIXTURE(silent_gate_node,
                  "a shutdown while a verdict is out still reports the close") {
  wire_client c{port};
  REQUIRE(eventually([&] { return log->pending_now() == just_one; }));
  // The gate may have counted the connection: it must hear of the close,
  // though its verdict never comes (the request times out during shutdown).
  n->shutdown();
  CHECK(c.closed_within());
  CHECK(eventually([&] { return log->closed_now() == just_one; }));
}

TEST_CASE_FIXTURE(silent_gate_node,
                  "a verdict that does not come in time closes the connection, "
                  "reported once") {
  wire_client c{port};
  // No shutdown: the node's own timeout closes the socket. The verdict it
  // gave up on may have counted the connection, so the close is reported.
  CHECK(c.closed_within());
  CHECK(eventually([&] { return log->closed_now() == just_one; }));
  CHECK(log->pending_now() == just_one);
  n->shutdown();
  CHECK(log->closed_now() == just_one); // not again at shutdown
}
