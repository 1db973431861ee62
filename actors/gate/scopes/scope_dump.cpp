// The scopes part of the dump (DESIGN §6.1): every scope's usage against its
// limits, the busiest lists cut to a cap, transient holders and blocked counts.
#include "actors/gate/scopes/resource_scopes.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace rcmgr {

namespace {

scope_stat stat_of(const scope_node& n) {
  return scope_stat{n.use, *n.limits};
}

/// The busiest first (connections and streams, then memory), then by name:
/// when a list is cut, what is kept is what an operator looks for.
void keep_busiest(std::vector<named_scope_stat>& items, std::size_t cap,
                  bool& truncated) {
  truncated |= items.size() > cap;
  auto busier = [](const named_scope_stat& a, const named_scope_stat& b) {
    auto& ua = a.scope.usage;
    auto& ub = b.scope.usage;
    if (ua.holders() != ub.holders())
      return ua.holders() > ub.holders();
    if (ua.memory != ub.memory)
      return ua.memory > ub.memory;
    return a.name < b.name;
  };
  auto cut = std::min(cap, items.size());
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(cut),
                    items.end(), busier);
  items.resize(cut);
}

void add_blocked(
    const std::array<std::array<std::array<std::uint64_t, 3>, scope_resource_count>,
                     scope_class_count>& counts,
    std::vector<blocked_stat>& out) {
  for (std::size_t c = 0; c < scope_class_count; ++c)
    for (std::size_t r = 0; r < scope_resource_count; ++r)
      for (std::size_t d = 0; d < 3; ++d) {
        auto n = counts[c][r][d];
        if (n == 0)
          continue;
        blocked_stat x;
        x.scope = static_cast<scope_class>(c);
        x.resource = static_cast<scope_resource>(r);
        if (d < 2)
          x.dir = static_cast<direction>(d);
        x.count = n;
        out.push_back(x);
      }
}

} // namespace

scopes_stats resource_scopes::stats_at(time_ns now, std::size_t list_cap) const {
  scopes_stats out;
  out.scale = scale_;
  out.system = stat_of(system_);
  out.transient = stat_of(transient_);
  out.allowlisted_system = stat_of(allowlisted_system_);
  out.allowlisted_transient = stat_of(allowlisted_transient_);
  out.dry_run = dry_run_;
  // The whole lists are copied before they are cut: the dump is rare, and a
  // name is needed to break ties.
  peers_.for_each([&](peer_handle h) {
    out.peers.push_back({peers_.text(h), stat_of(peers_.value(h).node), {}});
  });
  keep_busiest(out.peers, list_cap, out.truncated);
  auto groups = [&](const group_pool& pool, std::vector<named_scope_stat>& list) {
    pool.for_each([&](group_handle h) {
      auto& g = pool.value(h);
      named_scope_stat x{pool.text(h), stat_of(g.node), {}};
      for (auto& [p, node] : g.peers)
        x.peers.push_back({peers_.text(p), stat_of(node), {}});
      list.push_back(std::move(x));
    });
    keep_busiest(list, list_cap, out.truncated);
    for (auto& x : list)
      keep_busiest(x.peers, list_cap, out.truncated);
  };
  groups(protocols_, out.protocols);
  groups(services_, out.services);
  // Who holds transient: pending connections and streams without a
  // protocol, oldest first.
  struct holder_row {
    time_ns opened_at;
    bool is_stream;
    std::uint64_t id;
  };
  std::vector<holder_row> rows;
  for (auto& [id, c] : conns_) {
    if (!c.charged)
      ++out.uncharged;
    else if (!c.established)
      rows.push_back({c.opened_at, false, id});
  }
  for (auto& [id, s] : streams_) {
    if (!s.charged)
      ++out.uncharged;
    else if (!s.has_protocol)
      rows.push_back({s.opened_at, true, id});
  }
  out.transient_holder_count = rows.size();
  out.truncated |= rows.size() > list_cap;
  auto cut = std::min(list_cap, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut),
                    rows.end(), [](const holder_row& a, const holder_row& b) {
                      return std::tie(a.opened_at, a.is_stream, a.id) <
                             std::tie(b.opened_at, b.is_stream, b.id);
                    });
  rows.resize(cut);
  for (auto& row : rows) {
    transient_holder_stat h;
    h.is_stream = row.is_stream;
    h.id = row.id;
    h.age_ms = now > row.opened_at ? (now - row.opened_at) / 1000000 : 0;
    if (row.is_stream) {
      auto& s = streams_.at(row.id);
      h.dir = s.dir;
      h.memory = s.memory;
      h.peer = peers_.text(s.peer);
      if (s.has_conn)
        h.conn = s.conn;
    } else {
      auto& c = conns_.at(row.id);
      h.dir = c.dir;
      h.memory = c.memory;
      h.allowlisted = c.allowlisted;
    }
    out.transient_holders.push_back(std::move(h));
  }
  add_blocked(blocked_, out.blocked);
  add_blocked(would_block_, out.would_block);
  out.class_limits = {{"peer", cfg_.peer_default},
                      {"protocol", cfg_.protocol_default},
                      {"protocol_peer", cfg_.protocol_peer_default},
                      {"service", cfg_.service_default},
                      {"service_peer", cfg_.service_peer_default},
                      {"conn", cfg_.conn},
                      {"stream", cfg_.stream}};
  auto& hist = out.histograms;
  peers_.for_each([&](peer_handle h) {
    auto& use = peers_.value(h).node.use;
    hist.peer_conns_inbound.observe(use.conns_inbound);
    hist.peer_conns_outbound.observe(use.conns_outbound);
    hist.peer_streams_inbound.observe(use.streams_inbound);
    hist.peer_streams_outbound.observe(use.streams_outbound);
    hist.peer_memory.observe(use.memory);
  });
  for (auto& [id, c] : conns_)
    if (c.charged)
      hist.conn_memory.observe(c.memory);
  out.conns = conns_.size();
  out.streams = streams_.size();
  out.peer_count = peers_.size();
  out.protocol_count = protocols_.size();
  out.service_count = services_.size();
  return out;
}

} // namespace rcmgr
