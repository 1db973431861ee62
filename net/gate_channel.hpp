// Every lifecycle event a node sends to its gate, in order, batched per turn
// of the io loop.
//
// Each event sent alone costs a message to the bridge (waking a CAF worker),
// a message to the gate and a published outcome to each subscriber. With
// many connections in flight, the events of one io-loop turn go out as one
// `oneway_batch` instead: one bridge message, one gate message and one
// answer (`batch_verdicts`, to the bridge), one outcome batch, and the gate
// decides each event exactly as if sent alone (DESIGN §4), in the order the
// connections queued them.
//
// One channel per node carries every event, asked or told, so the gate sees
// a connection's close after the verdict that admitted it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <asio/io_context.hpp>
#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "messages/events.hpp"
#include "messages/interfaces.hpp"
#include "messages/verdict.hpp"
#include "net/actor_bridge.hpp"

namespace rcmgr::net {

class gate_channel : public std::enable_shared_from_this<gate_channel> {
public:
  /// Gets the event's verdict, or the error that took its place. Runs inside
  /// the bridge actor: it must only hand the value on (e.g. post it to Asio).
  using reply = verdict_reply;

  gate_channel(asio::io_context& io, caf::actor bridge, gate_actor gate);

  /// Queues `ev` for the gate; `back` gets its verdict. Any thread.
  void ask(lifecycle_event ev, reply back);
  /// Queues `ev` for the gate; its verdict is dropped. Any thread.
  void tell(lifecycle_event ev);
  /// Sends what is queued now, on the calling thread: for a node whose io
  /// loop has stopped (the flush it posted will never run).
  void flush();

  /// Batches sent, and events in them (for tests and the benchmark).
  std::uint64_t batches() const;
  std::uint64_t events() const;

private:
  void queue(lifecycle_event ev, reply back);

  asio::io_context& io_;
  caf::actor bridge_;
  gate_actor gate_;

  mutable std::mutex mtx_;
  lifecycle_batch pending_; // the events queued since the last flush
  batch_writer writer_{pending_};
  std::vector<reply> replies_; // one per event; empty for a told one
  bool flush_posted_ = false;
  std::uint64_t batches_sent_ = 0;
  std::uint64_t events_sent_ = 0;
};

} // namespace rcmgr::net
