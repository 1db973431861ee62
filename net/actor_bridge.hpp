// The bridge between the Asio io thread and the actors.
//
// Asio handlers must never block on an actor. They hand a `bridge_job` to one
// small bridge actor per node; the job runs inside that actor, where it may
// `request(...).then(...)` a resource actor. The answer is posted back into
// Asio through a `loop_handle`, which refuses posts once the node shuts its
// io_context down (so no callback ever touches a destroyed io_context).
//
// Every message a node sends to the gate goes through its one bridge, so the
// gate sees them in the order the node sent them (CAF keeps per-sender order).
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>

namespace rcmgr::net {

/// Work to run inside the bridge actor. A local message only: it holds a
/// callable, so it can never cross a node boundary.
struct bridge_job {
  std::function<void(caf::event_based_actor*)> run;
};

/// The bridge actor: runs each job it receives. `name` is for logs only (CAF
/// 0.17 wants function-based actors spawned with at least one argument).
caf::behavior actor_bridge(caf::event_based_actor* self, std::string name);

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
