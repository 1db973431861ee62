#include "net/gate_channel.hpp"

#include <asio/post.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

namespace rcmgr::net {

gate_channel::gate_channel(asio::io_context& io, caf::actor bridge, gate_actor gate)
    : io_(io), bridge_(std::move(bridge)), gate_(std::move(gate)) {
  // nop
}

void gate_channel::ask(lifecycle_event ev, reply back) {
  queue(std::move(ev), std::move(back));
}

void gate_channel::tell(lifecycle_event ev) {
  queue(std::move(ev), nullptr);
}

void gate_channel::queue(lifecycle_event ev, reply back) {
  bool post = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    writer_.add(ev);
    replies_.push_back(std::move(back));
    if (!flush_posted_) {
      flush_posted_ = true;
      post = true;
    }
  }
  // Posted, not run now: handlers already queued in this turn of the loop
  // (other connections' reads and verdicts) add their events first.
  if (post)
    asio::post(io_, [self = shared_from_this()] { self->flush(); });
}

void gate_channel::flush() {
  lifecycle_batch batch;
  std::vector<reply> backs;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    flush_posted_ = false;
    if (pending_.events.empty())
      return;
    batch = std::move(pending_);
    pending_ = lifecycle_batch{};
    writer_ = batch_writer{pending_};
    backs.swap(replies_);
    ++batches_sent_;
    events_sent_ += batch.events.size();
  }
  auto gate = gate_;
  caf::anon_send(
      bridge_, bridge_job{[gate, batch = std::move(batch),
                           backs = std::move(backs)](bridge_self self) mutable {
        // Sent one way, the bridge the reply-to. No timeout: each
        // asking connection keeps its own (an Asio timer); a gate
        // that is gone fails the ask.
        auto id = expect(self, caf::actor_cast<caf::actor_addr>(gate), std::move(backs));
        if (id)
          self->send(gate,
                     oneway_batch{*id, caf::actor_cast<batch_verdict_listener>(self),
                                  std::move(batch)});
      }});
}

std::uint64_t gate_channel::batches() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return batches_sent_;
}

std::uint64_t gate_channel::events() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return events_sent_;
}

} // namespace rcmgr::net
