// Attacks on a running node over loopback: hostile frames, a client that
// never reads, long peer ids, REJECT floods, a slow HELLO.
#include <atomic>

#include "net_fixture.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

/// A rate-limit denial as a REJECT frame would carry it.
denial rate_denial_for(const peer_id& peer) {
  denial d;
  d.code = denial_code::rate_limit;
  d.protocol = "/echo/1";
  d.peer = peer;
  d.scope = rate_scope::per_peer;
  d.retry_after_ms = 10;
  return d;
}

/// A HELLO built by hand, so it may carry what encode_hello() refuses.
std::string raw_hello(const std::string& peer) {
  return encode_frame(frame_type::hello, nlohmann::json{{"peer", peer}}.dump());
}

} // namespace

TEST_CASE_FIXTURE(node_fixture,
                  "a REJECT with a null field is a bad frame: counted and closed") {
  start({});
  wire_client c{port};
  c.send(encode_hello("N"));
  CHECK(c.expect_frame().type == frame_type::hello);
  // 47 bytes on the wire; a typed read of the null would throw.
  auto bad =
      encode_frame(frame_type::reject, R"({"code":"rate_limit","exceeds_burst":null})");
  REQUIRE(bad.size() == 47);
  c.send(bad);
  CHECK(c.closed_within());
  CHECK(dump_reaches("/anomalies/bad_frame", 1));
  CHECK(dump_reaches("/connections/total", 0));
  // The node goes on serving.
  wire_client next{port};
  next.send(encode_hello("M"));
  CHECK(next.expect_frame().peer == "server");
}

TEST_CASE_FIXTURE(node_fixture, "a peer id longer than 128 bytes is refused") {
  start({});
  wire_client longest{port};
  longest.send(raw_hello(std::string(max_peer_id, 'p')));
  CHECK(longest.expect_frame().type == frame_type::hello);
  wire_client too_long{port};
  too_long.send(raw_hello(std::string(max_peer_id + 1, 'p')));
  CHECK(too_long.closed_within());
  CHECK(dump_reaches("/anomalies/bad_frame", 1));
  CHECK(dump_reaches("/connections/total", 1));
  // A HELLO payload over 4096 bytes is refused on its header, unread.
  wire_client huge{port};
  huge.send(std::string{"\x00\x00\x10\x02\x01", 5});
  CHECK(huge.closed_within());
  CHECK(dump_reaches("/anomalies/bad_frame", 2));
}

TEST_CASE_FIXTURE(node_fixture,
                  "a client that never reads is not read while its answers wait") {
  constexpr std::size_t mark = 2'000'000;
  node_options o;
  o.write_high_water = mark;
  start({}, o);
  wire_client c{port};
  c.send(encode_hello("W"));
  CHECK(c.expect_frame().type == frame_type::hello);
  const auto frame_bytes = encode_data("/echo/1", std::string(1'000'000, 'x'));
  // 64 MB: far more than loopback's socket buffers hold on both sides.
  constexpr int count = 64;
  std::atomic<int> sent{0};
  std::thread writer{[&] {
    for (int i = 0; i < count && c.try_send(frame_bytes); ++i)
      ++sent;
  }};
  auto queued = [&] { return node->queued_bytes(1).get(); };
  std::size_t most = 0;
  auto watch_queue = [&] {
    auto q = queued();
    most = std::max(most, q);
    return q;
  };
  // The node reaches the mark: the client reads none of its answers.
  CHECK(eventually([&] { return watch_queue() > mark; }));
  // A bounded negative check: the queue never passes the mark by more than
  // one answer, and the writer, no longer read, cannot get its 64 MB out.
  CHECK_FALSE(eventually(
      [&] { return watch_queue() > mark + frame_bytes.size() || sent == count; },
      1500ms));
  CHECK(most <= mark + frame_bytes.size());
  CHECK(sent < count);
  // Once the client reads, the node reads again: every frame comes back.
  int echoed = 0;
  while (echoed < count) {
    auto s = c.next();
    REQUIRE(s == wire_client::status::frame);
    CHECK(c.last.body.size() == 1'000'000);
    ++echoed;
  }
  writer.join();
  CHECK(sent == count);
  CHECK(eventually([&] { return queued() == 0; }));
  CHECK(most <= mark + frame_bytes.size());
}

TEST_CASE_FIXTURE(node_fixture,
                  "a REJECT from a client after it sent DATA is a violation") {
  start({});
  wire_client c{port};
  c.send(encode_hello("U"));
  CHECK(c.expect_frame().type == frame_type::hello);
  c.send(encode_data("/echo/1", "hi"));
  CHECK(c.expect_frame().body == "hi");
  c.send(encode_reject(rate_denial_for("server")));
  CHECK(c.closed_within());
  CHECK(dump_reaches("/anomalies/unsolicited_reject", 1));
  CHECK(dump_reaches("/connections/total", 0));
  CHECK(dump_reaches("/watcher/peers/U/violations", 1));
}

TEST_CASE_FIXTURE(node_fixture,
                  "a client's REJECT right after HELLO refuses the connection") {
  rt = std::make_unique<runtime>(sys, node_config{});
  auto& h = rt->handles();
  node_options o;
  o.peer = "server";
  node = std::make_unique<net::node>(
      sys, net::node_actors{h.gate, h.rate_limiter, h.watcher}, o);
  std::atomic<int> rejects{0};
  node->on_reject([&](connection_id, const peer_id&, const denial&) { ++rejects; });
  port = node->listen("127.0.0.1", 0);
  wire_client c{port};
  c.send(encode_hello("V"));
  CHECK(c.expect_frame().type == frame_type::hello);
  auto why = connection_limit_denial(limit_kind::established_outbound, 1, 1, 9, "server");
  // The client refuses, then floods: only the first REJECT is read.
  std::string flood;
  for (int i = 0; i < 100; ++i)
    flood += encode_reject(why);
  c.send(flood);
  CHECK(c.closed_within());
  CHECK(dump_reaches("/connections/total", 0));
  CHECK(rejects == 1);
  CHECK(at("/anomalies/unsolicited_reject").is_null());
}

TEST_CASE_FIXTURE(node_fixture,
                  "each REJECT a dialer gets must answer a DATA frame it sent") {
  start({});
  runtime rt_b{sys, node_config{}};
  auto& hb = rt_b.handles();
  node_options ob;
  ob.peer = "dialer";
  net::node b{sys, net::node_actors{hb.gate, hb.rate_limiter, {}}, ob};
  std::atomic<int> rejects{0};
  b.on_reject([&](connection_id, const peer_id&, const denial&) { ++rejects; });
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  auto dialed = b.connect("127.0.0.1", acceptor.local_endpoint().port());
  wire_client server{acceptor};
  CHECK(server.expect_frame().peer == "dialer");
  server.send(encode_hello("raw-server"));
  REQUIRE(dialed.wait_for(5s) == std::future_status::ready);
  auto r = dialed.get();
  REQUIRE(r.ok);
  b.send(r.conn, "/echo/1", "x");
  CHECK(server.expect_frame().body == "x");
  // The answer to that DATA frame: delivered.
  server.send(encode_reject(rate_denial_for("dialer")));
  CHECK(eventually([&] { return rejects == 1; }));
  // A second one answers nothing: a violation, and the dialer closes.
  server.send(encode_reject(rate_denial_for("dialer")));
  CHECK(server.closed_within());
  CHECK(rejects == 1);
  auto b_anomaly = [&] {
    caf::scoped_actor self{sys};
    nlohmann::json d;
    self->request(hb.dump, 5s, dump_atom::value)
        .receive([&](std::string& t) { d = nlohmann::json::parse(t); },
                 [&](caf::error&) {});
    return d["anomalies"].value("unsolicited_reject", 0);
  };
  CHECK(eventually([&] { return b_anomaly() == 1; }));
  b.shutdown();
}

TEST_CASE_FIXTURE(node_fixture,
                  "bytes of a slow HELLO are not traffic of an unknown connection") {
  node_config c;
  c.watcher.refresh_interval_ms = 100;
  start(c);
  auto hello = encode_hello("S");
  wire_client slow{port};
  slow.send(hello.substr(0, hello.size() - 1));
  CHECK(dump_reaches("/connections/pending/inbound", 1));
  // Another client's traffic reaches the watcher: traffic was collected
  // while the slow client's bytes were in, and it was still pending.
  wire_client other{port};
  other.send(encode_hello("T"));
  CHECK(other.expect_frame().type == frame_type::hello);
  other.send(encode_data("/echo/1", "tick"));
  CHECK(other.expect_frame().body == "tick");
  CHECK(eventually([&] { return at("/watcher/peers/T/connections/2/bytes_in") > 0; }));
  CHECK(at("/anomalies/watch_unknown_traffic").is_null());
  // Its last byte: established, and the watcher gets all its bytes.
  slow.send(hello.substr(hello.size() - 1));
  CHECK(slow.expect_frame().type == frame_type::hello);
  CHECK(eventually(
      [&] { return at("/watcher/peers/S/connections/1/bytes_in") == hello.size(); }));
  CHECK(at("/anomalies/watch_unknown_traffic").is_null());
}
