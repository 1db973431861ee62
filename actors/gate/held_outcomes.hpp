// Held outcomes: plain C++, no CAF.
//
// A single event's outcome is not published at once: it joins the held
// outcome batch, and its reply waits with it. When the gate has read
// everything in its mailbox (or holds `max_outcomes` outcomes), it publishes
// what it holds in one message per subscriber, then sends the replies in the
// order the events came. Under load this turns one outcome message per event
// into one per mailbox's worth (the lifecycle benchmark lost a third of its
// rate to the per-event outcome messages); when the gate is idle, every
// event is published alone, in the single form (`admitted`, `denied`,
// `released`).
//
// Replies wait for the outcomes so that a caller who has its verdict also
// finds the outcome at every subscriber: a query sent to the tracker after
// the verdict arrived is read after the outcome (messages between two actors
// keep their order, and the outcome was sent first). An event without an
// outcome (an error, a close of an unknown id) is answered at once unless
// replies are held before it: replies keep the order of the requests.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "messages/batches.hpp"
#include "messages/outcomes.hpp"

namespace rcmgr {

/// `Reply` is what the gate answers once the outcomes are out (a response
/// promise and its verdict).
template <class Reply> class held_outcomes {
public:
  /// At most this many outcomes are held: a bound on the wait of the first
  /// reply and on the held memory.
  static constexpr std::size_t max_outcomes = 64;

  /// What `take` hands over: the outcomes in event order, the replies in
  /// request order.
  struct taken {
    outcome_batch outcomes;
    std::vector<Reply> replies;
  };

  /// Nothing held: no outcome, no reply.
  bool empty() const { return outcomes_.empty() && replies_.empty(); }
  /// How many outcomes are held.
  std::size_t size() const { return outcomes_.order.size(); }
  std::size_t replies() const { return replies_.size(); }

  /// Opens a single event (an `event_view` or a `lifecycle_event`): copies
  /// its texts in and returns the event referring to them. Its outcome goes
  /// through `writer()`; `close` ends it.
  template <class Event> batch_event open(const Event& e) {
    mark_ = mark{outcomes_.texts.size(), outcomes_.lists.size(), size()};
    return writer().add_texts(e);
  }
  outcome_writer writer() { return outcome_writer{outcomes_}; }

  /// Closes the event opened last. Returns whether its reply must be held:
  /// it has an outcome, or replies are held before it. Without an outcome
  /// its texts go again.
  bool close() {
    if (size() != mark_.outcomes)
      return true;
    outcomes_.texts.truncate(mark_.texts);
    outcomes_.lists.resize(mark_.lists);
    return !replies_.empty();
  }
  void hold(Reply r) { replies_.push_back(std::move(r)); }

  /// Whether to publish now: something is held, and `max_outcomes` are
  /// held or `idle()` (the gate has nothing left to read) says so.
  template <class Idle> bool publish_due(Idle&& idle) const {
    return !empty() && (size() >= max_outcomes || idle());
  }

  /// Everything held, leaving nothing. The held batch starts empty again and
  /// grows as it fills (no reserve per publication).
  taken take() {
    taken out{std::move(outcomes_), std::move(replies_)};
    outcomes_ = outcome_batch{};
    replies_.clear();
    return out;
  }

  /// Gives back the replies' vector once they are sent, to hold the next
  /// replies with its capacity (unless some are held already): a gate under
  /// load holds up to 64 replies a publication, and a vector grown anew each
  /// time moved every reply (a response promise and a verdict) up to six times.
  void recycle(std::vector<Reply>&& used) {
    if (!replies_.empty())
      return;
    used.clear();
    replies_ = std::move(used);
  }

private:
  struct mark {
    std::size_t texts = 0;
    std::size_t lists = 0;
    std::size_t outcomes = 0;
  };

  outcome_batch outcomes_;
  std::vector<Reply> replies_;
  mark mark_;
};

/// Calls `f` with the one outcome of `b` in its single form (`admitted`,
/// `denied` or `released`), its texts copied out. `b` holds exactly one
/// outcome.
template <class F> void with_single_form(outcome_batch& b, F&& f) {
  auto take = [&b](text_ref r) {
    return r == no_text ? std::string{} : std::string{b.texts[r]};
  };
  switch (b.order.front()) {
  case outcome_kind::admitted: {
    auto& x = b.admits.front();
    admitted a;
    a.conn = x.conn;
    a.state = x.state;
    a.dir = x.dir;
    a.peer = take(x.peer);
    a.local = take(x.local);
    a.remote.reserve(x.remote_count);
    for (std::uint32_t i = 0; i < x.remote_count; ++i)
      a.remote.push_back(take(b.lists[x.remote_at + i]));
    a.bypassed = x.bypassed;
    a.at = x.at;
    if (x.would_deny != admitted_entry::no_would_deny)
      a.would_deny.push_back(std::move(b.would_denials[x.would_deny]));
    f(std::move(a));
    break;
  }
  case outcome_kind::denied:
    f(std::move(b.denials.front()));
    break;
  case outcome_kind::released: {
    auto& x = b.releases.front();
    f(released{x.conn, x.cause, take(x.peer), take(x.reason), x.at});
    break;
  }
  }
}

} // namespace rcmgr
