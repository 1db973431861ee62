// The bridge between the Asio io thread and the actors.
//
// Asio handlers must never block on an actor. They hand a `bridge_job` to one
// small bridge actor per node; the job runs inside that actor, where it sends
// to a resource actor. Verdicts are asked one way (messages/oneway.hpp): the
// bridge numbers each ask, keeps its reply, and is itself the reply-to of the
// answer. The answer is posted back into Asio through a `loop_handle`, which
// refuses posts once the node shuts its io_context down (so no callback ever
// touches a destroyed io_context).
//
// Every message a node sends to the gate goes through its one bridge, so the
// gate sees them in the order the node sent them (CAF keeps per-sender order).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/oneway.hpp"
#include "messages/verdict.hpp"

namespace rcmgr::net {

/// Gets an asked event's verdict, or the error that took its place. Runs
/// inside the bridge actor: it must only hand the value on (e.g. post it to
/// Asio).
using verdict_reply = std::function<void(caf::expected<verdict>)>;

/// The asks a bridge has out, each waiting for its answer.
class bridge_asks {
public:
  /// An ask of one verdict from `dest`; its id.
  correlation_id add(const caf::actor_addr& dest, verdict_reply back);
  /// An ask of a batch's verdicts from `dest`, one reply per entry (an empty
  /// one for an entry nobody waits for); its id.
  correlation_id add(const caf::actor_addr& dest, std::vector<verdict_reply> backs);

  /// Hands an answer to the replies of its ask. An unknown id (an answer
  /// counted twice, or to an ask already failed) is dropped.
  void answer(const event_verdict& v);
  void answer(batch_verdicts& vs);
  /// `dest` is gone: every ask it has out gets `err`, as will every later one
  /// (see `gone`).
  void fail(const caf::actor_addr& dest, const caf::error& err);
  /// True once `dest` was failed: an ask of it would never be answered.
  bool gone(const caf::actor_addr& dest) const;

  /// Asks out (for tests).
  std::size_t size() const { return asks_.size(); }

private:
  struct ask {
    caf::actor_addr dest;
    verdict_reply one;               // an ask of one verdict
    std::vector<verdict_reply> many; // an ask of a batch's verdicts
    bool batch = false;
  };
  correlation_id next_ = 0;
  std::unordered_map<correlation_id, ask> asks_;
  std::vector<caf::actor_addr> gone_;
};

struct bridge_state {
  bridge_asks asks;
  /// The destinations this bridge monitors (a node's gate and rate limiter).
  std::vector<caf::actor_addr> monitored;
  static inline const char* name = "rcmgr.bridge";
};

using bridge_self = caf::stateful_actor<bridge_state>*;

/// Work to run inside the bridge actor. A local message only: it holds a
/// callable, so it can never cross a node boundary.
struct bridge_job {
  std::function<void(bridge_self)> run;
};

/// The bridge actor: runs each job it receives and hands each answer to its
/// ask. `name` is for logs only (CAF 0.17 wants function-based actors spawned
/// with at least one argument).
caf::behavior actor_bridge(bridge_self self, std::string name);

/// Registers an ask of `dest` (monitoring `dest` from its first ask on, so
/// that its asks fail once it is gone). The id to send with, or none when
/// `dest` is already gone: then the replies already have their error.
std::optional<correlation_id> expect(bridge_self self, const caf::actor_addr& dest,
                                     verdict_reply back);
std::optional<correlation_id> expect(bridge_self self, const caf::actor_addr& dest,
                                     std::vector<verdict_reply> backs);

/// Posts into an io_context for as long as it is open. Shared between the
/// node and every callback in flight in the actors; close() is called by the
/// node before it stops its io_context.
class loop_handle {
public:
  explicit loop_handle(asio::io_context& io) : io_(&io) {}

  /// Posts `f` to the io_context; false (and `f` dropped) once closed.
  template <class F> bool post(F&& f) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (io_ == nullptr)
      return false;
    asio::post(*io_, std::forward<F>(f));
    return true;
  }

  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    io_ = nullptr;
  }

private:
  std::mutex mtx_;
  asio::io_context* io_;
};

} // namespace rcmgr::net

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rcmgr::net::bridge_job)
