// Peers the watcher found misbehaving, refused until their cooldown ends:
// plain C++. Bounded by the watcher's bounded health records; entries expire
// lazily when asked about and are swept when the table grows.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>

#include "messages/ids.hpp"

namespace rcmgr {

class peer_blocklist {
public:
  void block(const peer_id& peer, time_ns until, time_ns now) {
    if (until <= now)
      return;
    if (until_.size() >= sweep_at_)
      sweep(now);
    auto& u = until_[peer];
    u = std::max(u, until);
  }

  bool blocked(std::string_view peer, time_ns now) {
    if (until_.empty()) // the common case, without making a string to look up
      return false;
    auto i = until_.find(std::string{peer});
    if (i == until_.end())
      return false;
    if (i->second > now)
      return true;
    until_.erase(i);
    return false;
  }

  std::size_t size(time_ns now) {
    sweep(now);
    return until_.size();
  }

private:
  void sweep(time_ns now) {
    for (auto i = until_.begin(); i != until_.end();)
      i = i->second <= now ? until_.erase(i) : std::next(i);
    sweep_at_ = std::max<std::size_t>(1024, until_.size() * 2);
  }

  std::unordered_map<peer_id, time_ns> until_;
  std::size_t sweep_at_ = 1024;
};

} // namespace rcmgr
