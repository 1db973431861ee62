#include "actors/connection_registry.hpp"

#include <algorithm>
#include <map>

#include "messages/json.hpp"

namespace rcmgr {

void connection_registry::remember(const connection_record& r) {
  if (r.bypassed) {
    ++counts_.bypassed;
  } else {
    bool in = r.dir == direction::inbound;
    if (r.state == conn_state::pending)
      ++(in ? counts_.pending_inbound : counts_.pending_outbound);
    else
      ++(in ? counts_.established_inbound : counts_.established_outbound);
  }
  if (!r.peer.empty()) {
    auto& pc = per_peer_[r.peer];
    ++(r.state == conn_state::pending ? pc.pending : pc.established);
  }
}

void connection_registry::forget(const connection_record& r) {
  if (r.bypassed) {
    --counts_.bypassed;
  } else {
    bool in = r.dir == direction::inbound;
    if (r.state == conn_state::pending)
      --(in ? counts_.pending_inbound : counts_.pending_outbound);
    else
      --(in ? counts_.established_inbound : counts_.established_outbound);
  }
  if (!r.peer.empty()) {
    auto i = per_peer_.find(r.peer);
    if (i == per_peer_.end())
      return; // cannot happen: remember() added it
    auto& pc = i->second;
    --(r.state == conn_state::pending ? pc.pending : pc.established);
    if (pc.pending == 0 && pc.established == 0)
      per_peer_.erase(i);
  }
}

void connection_registry::on_admitted(const admitted& x) {
  auto [it, fresh] = records_.try_emplace(x.conn);
  auto& r = it->second;
  if (!fresh)
    forget(r); // counted again below, as it is now
  if (x.state == conn_state::pending || fresh) {
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
  remember(r);
}

void connection_registry::on_denied(const denied& x) {
  // A denied established event takes the connection out of pending too.
  if (x.event != event_kind::established_inbound &&
      x.event != event_kind::established_outbound)
    return;
  if (auto i = records_.find(x.conn); i != records_.end()) {
    forget(i->second);
    records_.erase(i);
  }
}

void connection_registry::on_released(const released& x) {
  auto i = records_.find(x.conn);
  if (i == records_.end()) {
    ++inconsistencies_;
    return;
  }
  forget(i->second);
  records_.erase(i);
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

nlohmann::json connection_registry::to_json(std::size_t list_cap) const {
  std::vector<const connection_record*> listed;
  listed.reserve(records_.size());
  for (auto& [id, r] : records_)
    listed.push_back(&r);
  // Lowest ids first: a stable listing, whatever the hash order.
  auto cut = std::min(list_cap, listed.size());
  std::partial_sort(listed.begin(), listed.begin() + cut, listed.end(),
                    [](auto* a, auto* b) { return a->conn < b->conn; });
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < cut; ++i)
    list.push_back(rcmgr::to_json(*listed[i]));
  nlohmann::json peers = nlohmann::json::object();
  for (auto& [p, pc] : per_peer_)
    peers[p] = {{"pending", pc.pending}, {"established", pc.established}};
  auto& c = counts_;
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
