// Asks the resource actors for a connection's verdicts: the gate (through
// the node's gate channel, in order with every other lifecycle event) or the
// rate limiter (through the bridge). One ask at a time, each numbered and
// with its own deadline; the answer, or `request_timeout` once the deadline
// passes, comes back on the io thread to the owner. An answer that arrives
// after its deadline is dropped: the timeout already decided.
//
// The deadline is an Asio timer on the io thread, not CAF's: in CAF 0.17 a
// request timeout goes through the clock thread (a lock and a wake-up of
// that thread to set it, the same again to cancel it), for every request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <caf/expected.hpp>

#include "messages/events.hpp"
#include "messages/verdict.hpp"

namespace rcmgr::net {

struct node_context;

class verdict_client {
public:
  /// What an ask was about.
  enum class topic : std::uint8_t { pending, established, message };

  class owner {
  public:
    virtual void on_verdict(topic t, caf::expected<verdict> v) = 0;

  protected:
    ~owner() = default;
  };

  verdict_client(owner& o, const asio::io_context::executor_type& exec);

  /// Asks the gate about `ev`. `alive` refers to the owner, so an answer
  /// for an owner that is gone is dropped.
  void ask_gate(const node_context& ctx, lifecycle_event ev, topic t,
                std::weak_ptr<void> alive);
  /// Asks the rate limiter about `msg`.
  void ask_rate_limiter(const node_context& ctx, protocol_message msg,
                        std::weak_ptr<void> alive);

  /// True while an ask is out (answered neither by a verdict nor a timeout).
  bool waiting() const { return waiting_; }

private:
  /// Starts ask number ++seq_ with its deadline.
  std::uint64_t begin(const node_context& ctx, topic t, const std::weak_ptr<void>& alive);
  /// What carries the answer to ask `seq` back to the io thread.
  std::function<void(caf::expected<verdict>)>
  answer_path(const node_context& ctx, std::uint64_t seq, std::weak_ptr<void> alive);
  /// Takes the answer to ask `seq`, unless that ask is over.
  void take(std::uint64_t seq, caf::expected<verdict> v);

  owner& owner_;
  asio::steady_timer deadline_;
  std::uint64_t seq_ = 0; // the number of the latest ask
  topic topic_ = topic::pending;
  bool waiting_ = false;
};

} // namespace rcmgr::net
