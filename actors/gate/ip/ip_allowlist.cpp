#include "actors/gate/ip/ip_allowlist.hpp"

#include <algorithm>
#include <functional>

namespace rcmgr {

void ip_allowlist::configure(const std::vector<std::string>& entries) {
  for (auto& t : v4_)
    t.clear();
  for (auto& t : v6_)
    t.clear();
  v4_lengths_.clear();
  v6_lengths_.clear();
  texts_ = entries;
  size_ = 0;
  for (auto& text : entries)
    if (auto e = parse_allowlist_entry(text))
      add(*e);
}

void ip_allowlist::add(const allowlist_entry& e) {
  auto v6 = e.network.base.v6;
  auto length = std::min(e.network.length, v6 ? 128u : 32u);
  auto& t = v6 ? v6_[length] : v4_[length];
  auto& lengths = v6 ? v6_lengths_ : v4_lengths_;
  if (t.empty()) {
    lengths.push_back(length);
    std::sort(lengths.begin(), lengths.end(), std::greater<>{});
  }
  auto& n = t[e.network.base];
  if (e.peer.empty()) {
    size_ += !n.any_peer;
    n.any_peer = true;
  } else {
    size_ += n.peers.insert(e.peer).second;
  }
}

template <class F> bool ip_allowlist::any_containing(const ip_address& ip, F f) const {
  auto& lengths = ip.v6 ? v6_lengths_ : v4_lengths_;
  auto* tables = ip.v6 ? v6_ : v4_;
  for (auto length : lengths) {
    auto& t = tables[length];
    auto i = t.find(ip.masked(length));
    if (i != t.end() && f(i->second))
      return true;
  }
  return false;
}

bool ip_allowlist::allows(const ip_address& ip) const {
  return any_containing(ip, [](const network&) { return true; });
}

bool ip_allowlist::allows(const ip_address& ip, std::string_view peer) const {
  return any_containing(ip, [peer](const network& n) {
    return n.any_peer || (!peer.empty() && n.peers.find(peer) != n.peers.end());
  });
}

} // namespace rcmgr
