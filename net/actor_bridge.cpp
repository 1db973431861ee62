#include "net/actor_bridge.hpp"

#include <algorithm>
#include <utility>

#include <caf/sec.hpp>

namespace rcmgr::net {

// -- bridge_asks ------------------------------------------------------------------------

correlation_id bridge_asks::add(const caf::actor_addr& dest, verdict_reply back) {
  auto id = ++next_;
  ask a;
  a.dest = dest;
  a.one = std::move(back);
  asks_.emplace(id, std::move(a));
  return id;
}

correlation_id bridge_asks::add(const caf::actor_addr& dest,
                                std::vector<verdict_reply> backs) {
  auto id = ++next_;
  ask a;
  a.dest = dest;
  a.many = std::move(backs);
  a.batch = true;
  asks_.emplace(id, std::move(a));
  return id;
}

void bridge_asks::answer(const event_verdict& v) {
  auto i = asks_.find(v.id);
  if (i == asks_.end() || i->second.batch)
    return;
  auto back = std::move(i->second.one);
  asks_.erase(i);
  if (back)
    back(v.result);
}

void bridge_asks::answer(batch_verdicts& vs) {
  auto i = asks_.find(vs.id);
  if (i == asks_.end() || !i->second.batch)
    return;
  auto backs = std::move(i->second.many);
  asks_.erase(i);
  vs.results.drain([&](std::size_t k, verdict&& v) {
    if (k < backs.size() && backs[k])
      backs[k](std::move(v));
  });
  // A gate that broke the batch contract: too few verdicts.
  for (std::size_t k = vs.results.size(); k < backs.size(); ++k)
    if (backs[k])
      backs[k](caf::make_error(caf::sec::unexpected_response));
}

void bridge_asks::fail(const caf::actor_addr& dest, const caf::error& err) {
  if (!gone(dest))
    gone_.push_back(dest);
  // Collected first: a reply may not run while the map is walked.
  std::vector<ask> failed;
  for (auto i = asks_.begin(); i != asks_.end();) {
    if (i->second.dest == dest) {
      failed.push_back(std::move(i->second));
      i = asks_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& a : failed) {
    if (a.one)
      a.one(err);
    for (auto& b : a.many)
      if (b)
        b(err);
  }
}

bool bridge_asks::gone(const caf::actor_addr& dest) const {
  return std::find(gone_.begin(), gone_.end(), dest) != gone_.end();
}

// -- the actor --------------------------------------------------------------------------

namespace {

/// Registers the ask; fails it at once when `dest` is gone (the same road as
/// the asks it had out), else monitors `dest` from its first ask on.
template <class Replies>
std::optional<correlation_id> expect_of(bridge_self self, const caf::actor_addr& dest,
                                        Replies backs) {
  auto& st = self->state;
  auto id = st.asks.add(dest, std::move(backs));
  if (!dest || st.asks.gone(dest)) {
    st.asks.fail(dest, caf::make_error(caf::sec::request_receiver_down));
    return std::nullopt;
  }
  if (std::find(st.monitored.begin(), st.monitored.end(), dest) == st.monitored.end()) {
    // A monitor of an actor already gone sends its down message at once.
    self->monitor(dest);
    st.monitored.push_back(dest);
  }
  return id;
}

} // namespace

std::optional<correlation_id> expect(bridge_self self, const caf::actor_addr& dest,
                                     verdict_reply back) {
  return expect_of(self, dest, std::move(back));
}

std::optional<correlation_id> expect(bridge_self self, const caf::actor_addr& dest,
                                     std::vector<verdict_reply> backs) {
  return expect_of(self, dest, std::move(backs));
}

caf::behavior actor_bridge(bridge_self self, std::string) {
  self->set_down_handler([self](const caf::down_msg& dm) {
    self->state.asks.fail(dm.source, caf::make_error(caf::sec::request_receiver_down));
  });
  return {
      [self](bridge_job& job) {
        if (job.run)
          job.run(self);
      },
      [self](const event_verdict& v) { self->state.asks.answer(v); },
      [self](batch_verdicts& vs) { self->state.asks.answer(vs); },
  };
}

} // namespace rcmgr::net
