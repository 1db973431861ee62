// The transport over loopback: real sockets, the real actors, deadlines only.
#include "net_fixture.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

node_config with_inbound_limit(std::uint64_t n) {
  node_config c;
  c.connection_limits.max_established_inbound = n;
  return c;
}

node_config with_echo_burst(std::uint64_t burst, double rate) {
  node_config c;
  protocol_rate_config p;
  p.protocol = "/echo/1";
  p.per_peer = bucket_config{rate, burst};
  c.rate_limits.protocols.push_back(p);
  return c;
}

} // namespace

TEST_CASE_FIXTURE(node_fixture,
                  "five clients, room for three: three HELLOs, two REJECTs") {
  start(with_inbound_limit(3));
  std::vector<std::unique_ptr<wire_client>> clients;
  for (int i = 1; i <= 5; ++i) {
    auto id = "client-" + std::to_string(i);
    clients.push_back(std::make_unique<wire_client>(port));
    auto& c = *clients.back();
    c.send(encode_hello(id));
    auto f = c.expect_frame();
    if (i <= 3) {
      CHECK(f.type == frame_type::hello);
      CHECK(f.peer == "server");
    } else {
      REQUIRE(f.type == frame_type::reject);
      // Connections are numbered in accept order: client i is connection i.
      CHECK(f.why == connection_limit_denial(limit_kind::established_inbound, 3, 3,
                                             static_cast<connection_id>(i), id));
      CHECK(c.closed_within());
    }
  }
  CHECK(dump_reaches("/connections/established/inbound", 3));
  CHECK(at("/connections/pending/inbound") == 0);
  CHECK(at("/limits/denials/connection_limit/by_kind/established_inbound") == 2);
  // Every client gone: every count back to 0, and no close was reported twice.
  clients.clear();
  CHECK(dump_reaches("/connections/established/inbound", 0));
  CHECK(at("/connections/total") == 0);
  CHECK(at("/anomalies/unknown_connection").is_null());
}

TEST_CASE_FIXTURE(node_fixture, "a silent client is closed after the handshake timeout") {
  node_options o;
  o.handshake_timeout = 200ms;
  start({}, o);
  wire_client silent{port};
  CHECK(silent.closed_within());
  CHECK(dump_reaches("/anomalies/handshake_timeout", 1));
  CHECK(dump_reaches("/connections/total", 0));
  // The node goes on serving.
  wire_client next{port};
  next.send(encode_hello("B"));
  CHECK(next.expect_frame().peer == "server");
}

TEST_CASE_FIXTURE(node_fixture,
                  "an oversized length or garbage closes that client only") {
  start({});
  wire_client big{port};
  // Announces 2 GiB: refused on the header, nothing is buffered.
  big.send(std::string{"\x7f\xff\xff\xff", 4});
  CHECK(big.closed_within());
  wire_client junk{port};
  junk.send(std::string{"\x00\x00\x00\x01\x09", 5}); // unknown frame type 9
  CHECK(junk.closed_within());
  wire_client early{port};
  early.send(encode_data("/echo/1", "no hello first"));
  CHECK(early.closed_within());
  wire_client good{port};
  good.send(encode_hello("C"));
  auto f = good.expect_frame();
  CHECK(f.type == frame_type::hello);
  CHECK(f.peer == "server");
  CHECK(dump_reaches("/anomalies/oversized_frame", 1));
  CHECK(at("/anomalies/bad_frame") == 2);
  CHECK(dump_reaches("/connections/total", 1));
  CHECK(at("/connections/established/inbound") == 1);
}

TEST_CASE_FIXTURE(node_fixture,
                  "/echo/1 round-trips; over its rate limit: REJECT, still open") {
  // Burst 2, and a refill so slow that no token comes back during the test.
  start(with_echo_burst(2, 0.001));
  wire_client c{port};
  c.send(encode_hello("P"));
  CHECK(c.expect_frame().type == frame_type::hello);
  c.send(encode_data("/echo/1", "one") + encode_data("/echo/1", "two") +
         encode_data("/echo/1", "three"));
  auto a = c.expect_frame();
  CHECK(a.type == frame_type::data);
  CHECK(a.protocol == "/echo/1");
  CHECK(a.body == "one");
  auto b = c.expect_frame();
  CHECK(b.type == frame_type::data);
  CHECK(b.body == "two");
  auto r = c.expect_frame();
  REQUIRE(r.type == frame_type::reject);
  CHECK(r.why.code == denial_code::rate_limit);
  CHECK(r.why.protocol == "/echo/1");
  CHECK(r.why.peer == "P");
  CHECK(r.why.scope == rate_scope::per_peer);
  // One token takes 1000 s at 0.001/s: the wait is about that, never more.
  CHECK(r.why.retry_after_ms > 990000);
  CHECK(r.why.retry_after_ms <= 1000000);
  // Still open: a fourth message gets its own REJECT on the same socket.
  c.send(encode_data("/echo/1", "four"));
  auto r2 = c.expect_frame();
  CHECK(r2.type == frame_type::reject);
  CHECK(r2.why.code == denial_code::rate_limit);
  CHECK(at("/connections/established/inbound") == 1);
}

TEST_CASE_FIXTURE(node_fixture,
                  "a DATA frame for an unknown protocol is counted, not fatal") {
  start({});
  wire_client c{port};
  c.send(encode_hello("Q"));
  CHECK(c.expect_frame().type == frame_type::hello);
  c.send(encode_data("/nobody/1", "x") + encode_data("/echo/1", "after"));
  auto f = c.expect_frame();
  CHECK(f.body == "after");
  CHECK(dump_reaches("/anomalies/unknown_protocol", 1));
}

TEST_CASE_FIXTURE(node_fixture, "pause stops delivery, resume starts it again") {
  start({});
  wire_client c{port};
  c.send(encode_hello("R"));
  CHECK(c.expect_frame().type == frame_type::hello);
  node->pause(1);
  // This DATA goes out after the pause took effect on the io thread (same
  // path, later post), so its arrival proves the pause is on.
  node->send(1, "/note/1", "paused");
  CHECK(c.expect_frame().body == "paused");
  c.send(encode_data("/echo/1", "held"));
  // A bounded negative check: nothing comes back while paused.
  CHECK(c.next(150ms) == wire_client::status::timeout);
  node->resume(1);
  auto f = c.expect_frame();
  CHECK(f.body == "held");
}

TEST_CASE_FIXTURE(node_fixture,
                  "node to node: echo, a remote refusal, reuse, a failed dial") {
  start(with_inbound_limit(1));
  runtime rt_b{sys, node_config{}};
  auto& hb = rt_b.handles();
  node_options ob;
  ob.peer = "dialer";
  ob.dial_backoff = 10ms;
  net::node b{sys, net::node_actors{hb.gate, hb.rate_limiter, {}}, ob};
  std::promise<std::string> echoed;
  b.on_response([&echoed](connection_id, const peer_id& from, const protocol_id& p,
                          const std::string& body) {
    echoed.set_value(from + " " + p + " " + body);
  });
  auto first = b.connect("127.0.0.1", port).get();
  REQUIRE(first.ok);
  CHECK(first.peer == "server");
  b.send(first.conn, "/echo/1", "over tcp");
  auto reply = echoed.get_future();
  REQUIRE(reply.wait_for(5s) == std::future_status::ready);
  CHECK(reply.get() == "server /echo/1 over tcp");
  // The connector pool hands back the established connection...
  auto again = b.get_or_connect("127.0.0.1", port).get();
  CHECK(again.ok);
  CHECK(again.conn == first.conn);
  // ...while a new dial meets the remote's limit of one.
  auto second = b.connect("127.0.0.1", port).get();
  CHECK_FALSE(second.ok);
  CHECK(second.refused_by_remote);
  REQUIRE(second.refused);
  CHECK(second.refused->code == denial_code::connection_limit);
  CHECK(second.refused->kind == limit_kind::established_inbound);
  CHECK(second.refused->limit == 1);
  CHECK(second.refused->current == 1);
  // A port nobody listens on: three attempts, then dial_failure.
  std::uint16_t dead_port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a{io, {asio::ip::make_address("127.0.0.1"), 0}};
    dead_port = a.local_endpoint().port();
  }
  auto dead = b.connect("127.0.0.1", dead_port).get();
  CHECK_FALSE(dead.ok);
  CHECK_FALSE(dead.refused);
  CHECK(dead.error.rfind("connect to 127.0.0.1:" + std::to_string(dead_port) +
                             " failed after 3 attempt(s): ",
                         0) == 0);
  auto b_total = [&] {
    caf::scoped_actor self{sys};
    nlohmann::json d;
    self->request(hb.dump, 5s, dump_atom::value)
        .receive([&](std::string& t) { d = nlohmann::json::parse(t); },
                 [&](caf::error&) {});
    return d;
  };
  CHECK(eventually([&] {
    auto d = b_total();
    return d["connections"]["total"] == 1 &&
           d["connections"]["established"]["outbound"] == 1;
  }));
  CHECK(dump_reaches("/connections/established/inbound", 1));
  // Shutting the dialer down reports its close: the server's count drops to 0.
  b.shutdown();
  CHECK(eventually([&] { return b_total()["connections"]["total"] == 0; }));
  CHECK(dump_reaches("/connections/total", 0));
  CHECK(at("/anomalies/unknown_connection").is_null());
}

TEST_CASE_FIXTURE(node_fixture,
                  "shutdown closes every connection and reports each once") {
  start({});
  std::vector<std::unique_ptr<wire_client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<wire_client>(port));
    clients.back()->send(encode_hello("S" + std::to_string(i)));
    CHECK(clients.back()->expect_frame().type == frame_type::hello);
  }
  wire_client silent{port}; // admitted as pending, never says HELLO
  CHECK(dump_reaches("/connections/established/inbound", 4));
  CHECK(dump_reaches("/connections/pending/inbound", 1));
  node->shutdown();
  for (auto& c : clients)
    CHECK(c->closed_within());
  CHECK(silent.closed_within());
  CHECK(dump_reaches("/connections/total", 0));
  CHECK(at("/anomalies/unknown_connection").is_null());
  node.reset(); // destroying a node that is shut down returns at once
}

TEST_CASE_FIXTURE(
    node_fixture,
    "a pending-inbound denial is a REJECT with the denial, then the close") {
  node_config c;
  c.connection_limits.max_pending_inbound = 0;
  start(c);
  wire_client refused{port};
  // The HELLO may still be unread when the node closes: the close is then a
  // reset, which comes after the REJECT.
  refused.send(encode_hello("Z"));
  auto f = refused.expect_frame();
  REQUIRE(f.type == frame_type::reject);
  CHECK(f.why == connection_limit_denial(limit_kind::pending_inbound, 0, 0, 1, ""));
  CHECK(refused.closed_within());
  CHECK(dump_reaches("/limits/denials/connection_limit/by_kind/pending_inbound", 1));
  CHECK(at("/connections/total") == 0);
}

TEST_CASE_FIXTURE(node_fixture,
                  "DATA sent right behind HELLO is served after the handshake") {
  start({});
  wire_client c{port};
  c.send(encode_hello("E") + encode_data("/echo/1", "eager"));
  auto h = c.expect_frame();
  CHECK(h.type == frame_type::hello);
  auto d = c.expect_frame();
  CHECK(d.type == frame_type::data);
  CHECK(d.body == "eager");
  c.send(encode_hello("E"));
  CHECK(c.closed_within()); // a second HELLO is a violation
  CHECK(dump_reaches("/anomalies/bad_frame", 1));
}

TEST_CASE_FIXTURE(node_fixture,
                  "many small frames queued at once arrive whole, in order") {
  start({});
  wire_client c{port};
  c.send(encode_hello("O"));
  CHECK(c.expect_frame().type == frame_type::hello);
  for (int i = 0; i < 2000; ++i)
    node->send(1, "/note/1", std::to_string(i));
  for (int i = 0; i < 2000; ++i) {
    auto f = c.expect_frame();
    CHECK(f.protocol == "/note/1");
    CHECK(f.body == std::to_string(i));
  }
  CHECK(eventually([&] { return node->queued_bytes(1).get() == 0; }));
}
