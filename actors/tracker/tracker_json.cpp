#include "actors/tracker/tracker_json.hpp"

#include "messages/json.hpp"

namespace rcmgr {

namespace {

connection_record record_of(const connection_view& x) {
  connection_record r;
  r.conn = x.conn;
  r.state = x.state;
  r.dir = x.dir;
  r.peer = std::string{x.peer};
  r.local = std::string{x.local};
  r.remote = x.remote->unpack();
  r.bypassed = x.bypassed;
  r.pending_at = x.pending_at;
  r.established_at = x.established_at;
  return r;
}

void put_string(std::string& out, std::string_view s) {
  // nlohmann's escaping, invalid UTF-8 replaced
  out += dump_text(nlohmann::json(std::string{s}));
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

nlohmann::json to_json(const registry_stats& x) {
  nlohmann::json list = nlohmann::json::array();
  for (auto& c : x.list)
    list.push_back(to_json(record_of(c)));
  nlohmann::json peers = nlohmann::json::object();
  for (auto& p : x.per_peer)
    peers[std::string{p.peer}] = {{"pending", p.pending}, {"established", p.established}};
  auto& c = x.counts;
  return nlohmann::json{
      {"total", x.total},
      {"pending", {{"inbound", c.pending_inbound}, {"outbound", c.pending_outbound}}},
      {"established",
       {{"inbound", c.established_inbound}, {"outbound", c.established_outbound}}},
      {"bypassed", c.bypassed},
      {"per_peer", std::move(peers)},
      {"list", std::move(list)},
      {"truncated", x.truncated},
      {"inconsistencies", x.inconsistencies}};
}

std::string to_json_text(const registry_stats& x) {
  // Keys in the order nlohmann writes them (sorted), so the text is the same.
  std::string out;
  out.reserve(256 + x.list.size() * 200 + x.per_peer.size() * 64);
  auto& c = x.counts;
  out += "{\"bypassed\":";
  put_number(out, c.bypassed);
  out += ",\"established\":{\"inbound\":";
  put_number(out, c.established_inbound);
  out += ",\"outbound\":";
  put_number(out, c.established_outbound);
  out += "},\"inconsistencies\":";
  put_number(out, x.inconsistencies);
  out += ",\"list\":[";
  for (std::size_t i = 0; i < x.list.size(); ++i) {
    auto& r = x.list[i];
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
    bool first = true;
    r.remote->for_each([&](std::string_view addr) {
      if (!first)
        out += ',';
      first = false;
      put_string(out, addr);
    });
    out += "],\"state\":";
    put_string(out, to_string(r.state));
    out += '}';
  }
  out += "],\"pending\":{\"inbound\":";
  put_number(out, c.pending_inbound);
  out += ",\"outbound\":";
  put_number(out, c.pending_outbound);
  out += "},\"per_peer\":{";
  for (std::size_t i = 0; i < x.per_peer.size(); ++i) {
    if (i > 0)
      out += ',';
    put_string(out, x.per_peer[i].peer);
    out += ":{\"established\":";
    put_number(out, x.per_peer[i].established);
    out += ",\"pending\":";
    put_number(out, x.per_peer[i].pending);
    out += '}';
  }
  out += "},\"total\":";
  put_number(out, x.total);
  out += ",\"truncated\":";
  out += x.truncated ? "true" : "false";
  out += '}';
  return out;
}

} // namespace rcmgr
