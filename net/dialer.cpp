#include "net/dialer.hpp"

#include <algorithm>

#include <asio/connect.hpp>

namespace rcmgr::net {

dialer::dialer(const asio::io_context::executor_type& exec, std::string host,
               std::string port, int attempts, std::chrono::milliseconds backoff)
    : resolver_(exec), backoff_timer_(exec), host_(std::move(host)),
      port_(std::move(port)), max_attempts_(std::max(attempts, 1)), backoff_(backoff) {}

void dialer::start(tcp::socket& sock, std::shared_ptr<void> keep, done_fn done) {
  sock_ = &sock;
  done_ = std::move(done);
  attempt(std::move(keep));
}

void dialer::cancel() {
  cancelled_ = true;
  resolver_.cancel();
  backoff_timer_.cancel();
  done_ = nullptr;
}

void dialer::attempt(std::shared_ptr<void> keep) {
  ++attempt_;
  resolver_.async_resolve(
      host_, port_,
      [this, keep](std::error_code ec, tcp::resolver::results_type eps) mutable {
        if (cancelled_)
          return;
        if (ec)
          return failed("resolve " + host_ + ": " + ec.message(), std::move(keep));
        asio::async_connect(*sock_, eps,
                            [this, keep](std::error_code ec2, const tcp::endpoint&) {
                              if (cancelled_)
                                return;
                              if (ec2)
                                return failed(ec2.message(), keep);
                              auto done = std::move(done_);
                              done_ = nullptr;
                              done("");
                            });
      });
}

void dialer::failed(std::string error, std::shared_ptr<void> keep) {
  std::error_code ignore;
  sock_->close(ignore);
  if (attempt_ >= max_attempts_) {
    auto done = std::move(done_);
    done_ = nullptr;
    done(error);
    return;
  }
  auto delay = backoff_ * (1 << std::min(attempt_ - 1, 16));
  backoff_timer_.expires_after(delay);
  backoff_timer_.async_wait([this, keep](std::error_code ec) {
    if (cancelled_ || ec)
      return;
    attempt(keep);
  });
}

} // namespace rcmgr::net
