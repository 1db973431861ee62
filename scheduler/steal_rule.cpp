#include "scheduler/steal_rule.hpp"

namespace rcmgr {

bool steal_rule::may_steal(std::size_t victim, std::uint64_t emptied, std::int64_t now) {
  if (victim >= looks_.size())
    looks_.resize(victim + 1);
  auto& l = looks_[victim];
  if (!l.seen || l.emptied != emptied) {
    // Emptied since the last look (or never looked at): its jobs have not
    // been waiting; the wait counts from here.
    l = look{emptied, now, true};
    return false;
  }
  return now - l.since >= patience_;
}

} // namespace rcmgr
