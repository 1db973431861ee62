// Connects an outbound socket: resolve, connect, and on failure try again
// after a pause (`backoff`, doubled before each further attempt) until
// `attempts` are used up. It has its own timer for the pauses. Lives on the
// io thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

namespace rcmgr::net {

class dialer {
public:
  using tcp = asio::ip::tcp;

  /// Gets "" once connected, else why the last attempt failed.
  using done_fn = std::function<void(const std::string& error)>;

  dialer(const asio::io_context::executor_type& exec, std::string host, std::string port,
         int attempts, std::chrono::milliseconds backoff);

  /// Connects `sock`. `keep` holds whatever owns this dialer and `sock` while
  /// an operation is out; `done` runs once, unless cancel() came first.
  void start(tcp::socket& sock, std::shared_ptr<void> keep, done_fn done);
  /// Stops at once; `done` is not called.
  void cancel();

  int attempts_made() const { return attempt_; }

private:
  void attempt(std::shared_ptr<void> keep);
  void failed(std::string error, std::shared_ptr<void> keep);

  tcp::resolver resolver_;
  asio::steady_timer backoff_timer_;
  std::string host_;
  std::string port_;
  int max_attempts_;
  std::chrono::milliseconds backoff_;
  int attempt_ = 0;
  bool cancelled_ = false;
  tcp::socket* sock_ = nullptr;
  done_fn done_;
};

} // namespace rcmgr::net
