// Loopback test helpers: a threaded actor system with the runtime and one
// node, blocking clients with read deadlines, and polling with deadlines.
#pragma once

#include <poll.h>

#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/runtime.hpp"
#include "messages/json.hpp"
#include "net/frame_codec.hpp"
#include "net/node.hpp"

namespace rcmgr::test {

using namespace std::chrono_literals;

/// Polls `cond` every 5 ms until it holds or `deadline` passes.
template <class F> bool eventually(F cond, std::chrono::milliseconds deadline = 5000ms) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (cond())
      return true;
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
}

/// A blocking TCP client speaking raw bytes; reads wait with a deadline.
class wire_client {
public:
  explicit wire_client(std::uint16_t port) : sock_(io_) {
    sock_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  /// Connects from `source` (an address of this host, e.g. 127.0.0.2: Linux
  /// answers for all of 127.0.0.0/8), so a node sees distinct client IPs.
  wire_client(std::uint16_t port, const std::string& source) : sock_(io_) {
    sock_.open(asio::ip::tcp::v4());
    sock_.bind({asio::ip::make_address(source), 0});
    sock_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  /// The server side: takes the next connection `acceptor` accepts.
  explicit wire_client(asio::ip::tcp::acceptor& acceptor) : sock_(io_) {
    acceptor.accept(sock_);
  }

  void send(const std::string& bytes) {
    std::error_code ec;
    asio::write(sock_, asio::buffer(bytes), ec);
  }

  /// Writes everything; false once the connection is gone.
  bool try_send(const std::string& bytes) {
    std::error_code ec;
    asio::write(sock_, asio::buffer(bytes), ec);
    return !ec;
  }

  enum class status { frame, closed, timeout, bad_input };

  /// Waits for the next frame: status::frame with `last`, or closed/timeout.
  status next(std::chrono::milliseconds within = 5000ms) {
    auto until = std::chrono::steady_clock::now() + within;
    for (;;) {
      if (!got_.empty()) {
        last = std::move(got_.front());
        got_.pop_front();
        return status::frame;
      }
      if (closed_)
        return status::closed;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return status::timeout;
      pollfd p{sock_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char buf[4096];
      std::error_code ec;
      auto n = sock_.read_some(asio::buffer(buf), ec);
      if (ec) {
        closed_ = true;
        continue;
      }
      std::vector<net::frame> out;
      if (dec_.feed(buf, n, out))
        return status::bad_input;
      for (auto& f : out)
        got_.push_back(std::move(f));
    }
  }

  /// Expects the next frame within the deadline; fails the test otherwise.
  net::frame expect_frame(std::chrono::milliseconds within = 5000ms) {
    auto s = next(within);
    REQUIRE(s == status::frame);
    return last;
  }

  /// True when the node closes the connection (after any frames) in time.
  bool closed_within(std::chrono::milliseconds within = 5000ms) {
    for (;;) {
      auto s = next(within);
      if (s == status::closed)
        return true;
      if (s != status::frame)
        return false;
    }
  }

  /// Closes with a TCP reset (SO_LINGER 0), like a killed process.
  void reset() {
    sock_.set_option(asio::socket_base::linger(true, 0));
    std::error_code ec;
    sock_.close(ec);
  }

  net::frame last;

private:
  asio::io_context io_;
  asio::ip::tcp::socket sock_;
  net::frame_decoder dec_;
  std::deque<net::frame> got_;
  bool closed_ = false;
};

inline caf::actor_system_config& quiet(caf::actor_system_config& cfg) {
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

/// A threaded actor system, the runtime, and a node serving /echo/1.
struct node_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{quiet(cfg)};
  std::unique_ptr<runtime> rt;
  std::unique_ptr<net::node> node;
  std::uint16_t port = 0;

  void start(const node_config& config, net::node_options opts = {}) {
    if (opts.peer == "node")
      opts.peer = "server";
    rt = std::make_unique<runtime>(sys, config);
    auto& h = rt->handles();
    node = std::make_unique<net::node>(
        sys, net::node_actors{h.gate, h.rate_limiter, h.watcher}, opts);
    node->handle("/echo/1", [](const peer_id&, const std::string& body) {
      return std::optional<std::string>{body};
    });
    port = node->listen("127.0.0.1", 0);
  }

  nlohmann::json dump() {
    caf::scoped_actor self{sys};
    nlohmann::json result;
    self->request(rt->handles().dump, std::chrono::seconds{5}, dump_atom::value)
        .receive([&](std::string& text) { result = nlohmann::json::parse(text); },
                 [&](caf::error& e) { FAIL("dump failed: " << caf::to_string(e)); });
    return result;
  }

  /// The dump's value at `ptr` (JSON Pointer), or null when absent.
  nlohmann::json at(const std::string& ptr) {
    auto d = dump();
    auto p = nlohmann::json::json_pointer{ptr};
    return d.contains(p) ? d[p] : nlohmann::json{};
  }

  /// Polls the dump until the value at `ptr` equals `want`.
  bool dump_reaches(const std::string& ptr, const nlohmann::json& want) {
    return eventually([&] { return at(ptr) == want; });
  }

  ~node_fixture() {
    if (node)
      node->shutdown();
    node.reset();
    rt.reset();
  }
};

} // namespace rcmgr::test
