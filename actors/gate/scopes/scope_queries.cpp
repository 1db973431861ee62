// What resource_scopes answers about single scopes, and the audit that
// recomputes every sum from the holders.
#include "actors/gate/scopes/resource_scopes.hpp"
#include "actors/gate/scopes/scopes_json.hpp"

#include <string>
#include <string_view>

namespace rcmgr {

std::optional<scope_usage> resource_scopes::peer(std::string_view id) const {
  peer_handle h;
  if (id.empty() || !peers_.find(id, h))
    return std::nullopt;
  return peers_.value(h).node.use;
}

std::optional<scope_usage> resource_scopes::protocol(std::string_view id) const {
  group_handle h;
  if (id.empty() || !protocols_.find(id, h))
    return std::nullopt;
  return protocols_.value(h).node.use;
}

std::optional<scope_usage> resource_scopes::service(std::string_view name) const {
  group_handle h;
  if (name.empty() || !services_.find(name, h))
    return std::nullopt;
  return services_.value(h).node.use;
}

namespace {

template <class GroupPool, class PeerPool>
std::optional<scope_usage> group_peer(const GroupPool& groups, const PeerPool& peers,
                                      std::string_view name, std::string_view peer) {
  typename GroupPool::handle g;
  typename PeerPool::handle p;
  if (name.empty() || peer.empty() || !groups.find(name, g) || !peers.find(peer, p))
    return std::nullopt;
  auto& sub = groups.value(g).peers;
  auto i = sub.find(p);
  if (i == sub.end())
    return std::nullopt;
  return i->second.use;
}

} // namespace

std::optional<scope_usage> resource_scopes::protocol_peer(std::string_view id,
                                                          std::string_view peer) const {
  return group_peer(protocols_, peers_, id, peer);
}

std::optional<scope_usage> resource_scopes::service_peer(std::string_view name,
                                                         std::string_view peer) const {
  return group_peer(services_, peers_, name, peer);
}

std::optional<scope_usage> resource_scopes::holder(holder_ref h) const {
  if (h.kind == holder_ref::kind_t::conn) {
    auto i = conns_.find(h.id);
    if (i == conns_.end())
      return std::nullopt;
    auto& c = i->second;
    return c.charged ? self_node(c).use : scope_usage{};
  }
  auto i = streams_.find(h.id);
  if (i == streams_.end())
    return std::nullopt;
  auto& s = i->second;
  return s.charged ? self_node(s).use : scope_usage{};
}

std::size_t resource_scopes::dynamic_scope_count() const {
  std::size_t n = peers_.size() + protocols_.size() + services_.size();
  protocols_.for_each([&](group_handle h) { n += protocols_.value(h).peers.size(); });
  services_.for_each([&](group_handle h) { n += services_.value(h).peers.size(); });
  return n;
}

std::uint64_t resource_scopes::blocked(scope_class c, scope_resource r,
                                       std::optional<direction> d) const {
  std::size_t dir = d ? static_cast<std::size_t>(*d) : 2;
  return blocked_[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)][dir];
}

std::string resource_scopes::audit() const {
  // What each scope should hold, from the connections and streams alone.
  scope_usage system, transient, allowlisted_system, allowlisted_transient;
  std::map<peer_handle, scope_usage> peer_use;
  std::map<peer_handle, std::uint32_t> peer_refs;
  std::map<group_handle, scope_usage> protocol_use, service_use;
  std::map<group_handle, std::uint32_t> protocol_refs, service_refs;
  std::map<std::pair<group_handle, peer_handle>, scope_usage> protocol_peer_use,
      service_peer_use;
  for (auto& [id, c] : conns_) {
    if (!c.charged)
      continue;
    auto u = self_node(c).use;
    (c.allowlisted ? allowlisted_system : system) += u;
    if (c.established) {
      peer_use[c.peer] += u;
      ++peer_refs[c.peer];
    } else {
      (c.allowlisted ? allowlisted_transient : transient) += u;
    }
  }
  for (auto& [id, s] : streams_) {
    if (!s.charged)
      continue;
    auto u = self_node(s).use;
    system += u;
    peer_use[s.peer] += u;
    ++peer_refs[s.peer];
    if (!s.has_protocol) {
      transient += u;
      continue;
    }
    protocol_use[s.protocol] += u;
    ++protocol_refs[s.protocol];
    protocol_peer_use[{s.protocol, s.peer}] += u;
    if (s.has_service) {
      service_use[s.service] += u;
      ++service_refs[s.service];
      service_peer_use[{s.service, s.peer}] += u;
    }
  }
  auto differs = [](const char* what, const std::string& name, const scope_usage& have,
                    const scope_usage& want) {
    if (have == want)
      return std::string{};
    return std::string{what} + " " + name + ": holds " + usage_json(have).dump() +
           ", its holders add up to " + usage_json(want).dump();
  };
  for (auto& text : {differs("scope", "system", system_.use, system),
                     differs("scope", "transient", transient_.use, transient),
                     differs("scope", "allowlisted_system", allowlisted_system_.use,
                             allowlisted_system),
                     differs("scope", "allowlisted_transient", allowlisted_transient_.use,
                             allowlisted_transient)})
    if (!text.empty())
      return text;
  std::string found;
  peers_.for_each([&](peer_handle h) {
    if (!found.empty())
      return;
    auto& p = peers_.value(h);
    auto& name = peers_.text(h);
    found = differs("peer", name, p.node.use, peer_use[h]);
    auto want_refs = peer_refs[h] + (p.named ? 1u : 0u);
    if (found.empty() && peers_.references(h) != want_refs)
      found = "peer " + name + ": " + std::to_string(peers_.references(h)) +
              " references, " + std::to_string(want_refs) + " expected";
  });
  if (!found.empty())
    return found;
  for (auto& [h, refs] : peer_refs)
    if (refs > 0 && peers_.references(h) == 0)
      return "a connection or stream is on a peer scope that is gone";
  auto check_groups = [&](const group_pool& pool, const char* what,
                          std::map<group_handle, scope_usage>& use,
                          std::map<group_handle, std::uint32_t>& refs,
                          std::map<std::pair<group_handle, peer_handle>, scope_usage>&
                              sub_use) {
    std::string out;
    pool.for_each([&](group_handle h) {
      if (!out.empty())
        return;
      auto& g = pool.value(h);
      auto& name = pool.text(h);
      out = differs(what, name, g.node.use, use[h]);
      auto want_refs = refs[h] + (g.named ? 1u : 0u);
      if (out.empty() && pool.references(h) != want_refs)
        out = std::string{what} + " " + name + ": " + std::to_string(pool.references(h)) +
              " references, " + std::to_string(want_refs) + " expected";
      for (auto& [p, node] : g.peers) {
        if (!out.empty())
          return;
        out = differs(what, name + ".peer:" + peers_.text(p), node.use, sub_use[{h, p}]);
        if (out.empty() && node.use.holders() == 0)
          out = std::string{what} + " " + name + ".peer:" + peers_.text(p) +
                " is empty but still exists";
      }
    });
    for (auto& [h, n] : refs)
      if (out.empty() && n > 0 && pool.references(h) == 0)
        out = std::string{"a stream is on a "} + what + " scope that is gone";
    return out;
  };
  found = check_groups(protocols_, "protocol", protocol_use, protocol_refs,
                       protocol_peer_use);
  if (!found.empty())
    return found;
  return check_groups(services_, "service", service_use, service_refs, service_peer_use);
}
} // namespace rcmgr
