#include "actors/connection_registry.hpp"

#include <algorithm>
#include <map>

#include "messages/json.hpp"

namespace rcmgr {

void connection_registry::on_admitted(const admitted& x) {
  auto& r = records_[x.conn];
  if (x.state == conn_state::pending || r.conn != x.conn) {
    // A new record (a connection may be reported established without ever
    // being pending).
    r = connection_record{};
    r.conn = x.conn;
  }
  r.state = x.state;
  r.dir = x.dir;
  if (!x.peer.empty())
    r.peer = x.peer;
  if (!x.local.empty())
    r.local = x.local;
  if (!x.remote.empty() && !(x.remote.size() == 1 && x.remote[0].empty()))
    r.remote = x.remote;
  r.bypassed = x.bypassed;
  if (x.state == conn_state::pending)
    r.pending_at = x.at;
  else
    r.established_at = x.at;
}

void connection_registry::on_denied(const denied& x) {
  // A denied established event takes the connection out of pending too.
  if (x.event == event_kind::established_inbound ||
      x.event == event_kind::established_outbound)
    records_.erase(x.conn);
}

void connection_registry::on_released(const released& x) {
  if (records_.erase(x.conn) == 0)
    ++inconsistencies_;
}

namespace {

template <class Pred>
std::vector<connection_record>
select(const std::unordered_map<connection_id, connection_record>& records, Pred pred) {
  std::vector<connection_record> out;
  for (auto& [id, r] : records)
    if (pred(r))
      out.push_back(r);
  std::sort(out.begin(), out.end(),
            [](const connection_record& a, const connection_record& b) {
              return a.conn < b.conn;
            });
  return out;
}

} // namespace

std::vector<connection_record> connection_registry::of_peer(const peer_id& peer) const {
  return select(records_, [&](const connection_record& r) { return r.peer == peer; });
}

std::vector<connection_record> connection_registry::in_state(conn_state state) const {
  return select(records_, [&](const connection_record& r) { return r.state == state; });
}

const connection_record* connection_registry::find(connection_id conn) const {
  auto i = records_.find(conn);
  return i == records_.end() ? nullptr : &i->second;
}

admission_counts connection_registry::counts() const {
  admission_counts c;
  for (auto& [id, r] : records_) {
    if (r.bypassed) {
      ++c.bypassed;
      continue;
    }
    bool in = r.dir == direction::inbound;
    if (r.state == conn_state::pending)
      ++(in ? c.pending_inbound : c.pending_outbound);
    else
      ++(in ? c.established_inbound : c.established_outbound);
  }
  return c;
}

nlohmann::json connection_registry::to_json(std::size_t list_cap) const {
  struct peer_counts {
    std::uint64_t pending = 0;
    std::uint64_t established = 0;
  };
  std::map<peer_id, peer_counts> per_peer;
  std::vector<const connection_record*> listed;
  listed.reserve(std::min(list_cap, records_.size()));
  for (auto& [id, r] : records_) {
    if (!r.peer.empty()) {
      auto& pc = per_peer[r.peer];
      ++(r.state == conn_state::pending ? pc.pending : pc.established);
    }
    listed.push_back(&r);
  }
  // Lowest ids first: a stable listing, whatever the hash order.
  auto cut = std::min(list_cap, listed.size());
  std::partial_sort(listed.begin(), listed.begin() + cut, listed.end(),
                    [](auto* a, auto* b) { return a->conn < b->conn; });
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < cut; ++i)
    list.push_back(rcmgr::to_json(*listed[i]));
  nlohmann::json peers = nlohmann::json::object();
  for (auto& [p, pc] : per_peer)
    peers[p] = {{"pending", pc.pending}, {"established", pc.established}};
  auto c = counts();
  return nlohmann::json{
      {"total", records_.size()},
      {"pending", {{"inbound", c.pending_inbound}, {"outbound", c.pending_outbound}}},
      {"established",
       {{"inbound", c.established_inbound}, {"outbound", c.established_outbound}}},
      {"bypassed", c.bypassed},
      {"per_peer", std::move(peers)},
      {"list", std::move(list)},
      {"truncated", listed.size() > cut},
      {"inconsistencies", inconsistencies_}};
}

} // namespace rcmgr
