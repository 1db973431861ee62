#include "actors/connection_registry.hpp"

#include <algorithm>
#include <map>

#include "messages/json.hpp"

namespace rcmgr {

namespace {

/// The count a record adds to: bypassed, or by state and direction.
std::uint64_t& count_of(admission_counts& c, const connection_record& r) {
  if (r.bypassed)
    return c.bypassed;
  bool in = r.dir == direction::inbound;
  if (r.state == conn_state::pending)
    return in ? c.pending_inbound : c.pending_outbound;
  return in ? c.established_inbound : c.established_outbound;
}

} // namespace

void connection_registry::remember(const connection_record& r) {
  ++count_of(counts_, r);
  if (!r.peer.empty()) {
    auto& pc = per_peer_[r.peer];
    ++(r.state == conn_state::pending ? pc.pending : pc.established);
  }
}

void connection_registry::forget(const connection_record& r) {
  --count_of(counts_, r);
  if (r.peer.empty())
    return;
  auto i = per_peer_.find(r.peer);
  if (i == per_peer_.end())
    return; // cannot happen: remember() added it
  auto& pc = i->second;
  --(r.state == conn_state::pending ? pc.pending : pc.established);
  if (pc.pending == 0 && pc.established == 0)
    per_peer_.erase(i);
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

std::vector<const connection_record*>
connection_registry::listed(std::size_t list_cap) const {
  std::vector<const connection_record*> all;
  all.reserve(records_.size());
  for (auto& [id, r] : records_)
    all.push_back(&r);
  // Lowest ids first: a stable listing, whatever the hash order.
  auto cut = std::min(list_cap, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cut),
                    all.end(), [](auto* a, auto* b) { return a->conn < b->conn; });
  all.resize(cut);
  return all;
}

nlohmann::json connection_registry::to_json(std::size_t list_cap) const {
  nlohmann::json list = nlohmann::json::array();
  for (auto* r : listed(list_cap))
    list.push_back(rcmgr::to_json(*r));
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
      {"truncated", records_.size() > list_cap},
      {"inconsistencies", inconsistencies_}};
}

namespace {

void put_string(std::string& out, const std::string& s) {
  out += dump_text(nlohmann::json(s)); // nlohmann's escaping, invalid UTF-8 replaced
}

void put_number(std::string& out, std::uint64_t x) {
  out += std::to_string(x);
}

void put_ms(std::string& out, time_ns t) {
  if (t < 0)
    out += "null";
  else
    out += std::to_string(t / 1000000);
}

} // namespace

std::string connection_registry::to_json_text(std::size_t list_cap) const {
  // Keys in the order nlohmann writes them (sorted), so the text is the same.
  std::string out;
  auto shown = listed(list_cap);
  out.reserve(256 + shown.size() * 200 + per_peer_.size() * 64);
  auto& c = counts_;
  out += "{\"bypassed\":";
  put_number(out, c.bypassed);
  out += ",\"established\":{\"inbound\":";
  put_number(out, c.established_inbound);
  out += ",\"outbound\":";
  put_number(out, c.established_outbound);
  out += "},\"inconsistencies\":";
  put_number(out, inconsistencies_);
  out += ",\"list\":[";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    auto& r = *shown[i];
    out += i == 0 ? "{\"bypassed\":" : ",{\"bypassed\":";
    out += r.bypassed ? "true" : "false";
    out += ",\"conn\":";
    put_number(out, r.conn);
    out += ",\"direction\":";
    put_string(out, to_string(r.dir));
    out += ",\"established_at_ms\":";
    put_ms(out, r.established_at);
    out += ",\"local\":";
    put_string(out, r.local);
    out += ",\"peer\":";
    put_string(out, r.peer);
    out += ",\"pending_at_ms\":";
    put_ms(out, r.pending_at);
    out += ",\"remote\":[";
    for (std::size_t k = 0; k < r.remote.size(); ++k) {
      if (k > 0)
        out += ',';
      put_string(out, r.remote[k]);
    }
    out += "],\"state\":";
    put_string(out, to_string(r.state));
    out += '}';
  }
  out += "],\"pending\":{\"inbound\":";
  put_number(out, c.pending_inbound);
  out += ",\"outbound\":";
  put_number(out, c.pending_outbound);
  out += "},\"per_peer\":{";
  std::vector<const std::pair<const peer_id, peer_counts>*> peers;
  peers.reserve(per_peer_.size());
  for (auto& entry : per_peer_)
    peers.push_back(&entry);
  std::sort(peers.begin(), peers.end(),
            [](auto* a, auto* b) { return a->first < b->first; });
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (i > 0)
      out += ',';
    put_string(out, peers[i]->first);
    out += ":{\"established\":";
    put_number(out, peers[i]->second.established);
    out += ",\"pending\":";
    put_number(out, peers[i]->second.pending);
    out += '}';
  }
  out += "},\"total\":";
  put_number(out, records_.size());
  out += ",\"truncated\":";
  out += records_.size() > list_cap ? "true" : "false";
  out += '}';
  return out;
}

} // namespace rcmgr
