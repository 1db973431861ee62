// A node whose gate or rate limiter is gone applies its unreachable policy
// (docs/faults.md): fail closed refuses, fail open goes on uncounted; both
// log the missing verdict. The actor is stopped with exit reason
// `unhandled_exception`, as CAF stops an actor whose handler threw.
#include "net_fixture.hpp"

#include <mutex>
#include <string>
#include <vector>

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

/// Log lines the node wrote, read from the test thread.
struct captured_log {
  std::mutex mtx;
  std::vector<std::string> lines;

  log_hook hook() {
    return [this](log_level, std::string_view text) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.emplace_back(text);
    };
  }

  bool has_line_starting(const std::string& prefix) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& l : lines)
      if (l.rfind(prefix, 0) == 0)
        return true;
    return false;
  }
};

struct fault_fixture : node_fixture {
  captured_log log;

  void start_with(unreachable_policy policy) {
    node_options opts;
    opts.when_unreachable = policy;
    opts.log = log.hook();
    start(node_config{}, opts);
  }

  template <class Handle> void crash(const Handle& h, const std::string& part) {
    caf::anon_send_exit(h, caf::exit_reason::unhandled_exception);
    REQUIRE(dump_reaches("/faults/" + part + "/reason", "unhandled_exception"));
  }
};

} // namespace

TEST_CASE_FIXTURE(fault_fixture, "no gate, fail closed: a client is closed unanswered") {
  start_with(unreachable_policy::fail_closed);
  crash(rt->handles().gate, "gate");
  wire_client c{port};
  c.send(encode_hello("client"));
  CHECK(c.next() == wire_client::status::closed);
  CHECK(eventually([&] { return log.has_line_starting("no verdict from the gate: "); }));
}

TEST_CASE_FIXTURE(fault_fixture, "no gate, fail open: a client is served") {
  start_with(unreachable_policy::fail_open);
  crash(rt->handles().gate, "gate");
  wire_client c{port};
  c.send(encode_hello("client"));
  auto hello = c.expect_frame();
  CHECK(hello.type == frame_type::hello);
  CHECK(hello.peer == "server");
  c.send(encode_data("/echo/1", "still here"));
  auto echo = c.expect_frame();
  CHECK(echo.type == frame_type::data);
  CHECK(echo.body == "still here");
  CHECK(log.has_line_starting("no verdict from the gate: "));
}

TEST_CASE_FIXTURE(fault_fixture, "no rate limiter, fail closed: messages are dropped") {
  start_with(unreachable_policy::fail_closed);
  crash(rt->handles().rate_limiter, "rate_limiter");
  wire_client c{port};
  c.send(encode_hello("client"));
  CHECK(c.expect_frame().type == frame_type::hello);
  c.send(encode_data("/echo/1", "dropped"));
  REQUIRE(eventually(
      [&] { return log.has_line_starting("no verdict from the rate limiter: "); }));
  // The message was decided when the line was logged: nothing was sent.
  CHECK(c.next(std::chrono::milliseconds{0}) == wire_client::status::timeout);
  // The connection stays open and counted; the anomaly reached the gate.
  CHECK(dump_reaches("/anomalies/rate_limiter_unreachable", 1));
  CHECK(at("/connections/established/inbound") == 1);
}

TEST_CASE_FIXTURE(fault_fixture, "no rate limiter, fail open: messages are delivered") {
  start_with(unreachable_policy::fail_open);
  crash(rt->handles().rate_limiter, "rate_limiter");
  wire_client c{port};
  c.send(encode_hello("client"));
  CHECK(c.expect_frame().type == frame_type::hello);
  c.send(encode_data("/echo/1", "delivered"));
  auto echo = c.expect_frame();
  CHECK(echo.type == frame_type::data);
  CHECK(echo.body == "delivered");
  CHECK(dump_reaches("/anomalies/rate_limiter_unreachable", 1));
}
