#include "actors/gate/scopes/scopes_json.hpp"

#include <string>

namespace rcmgr {

using json = nlohmann::json;

json usage_json(const scope_usage& u) {
  return json{{"conns_inbound", u.conns_inbound},
              {"conns_outbound", u.conns_outbound},
              {"streams_inbound", u.streams_inbound},
              {"streams_outbound", u.streams_outbound},
              {"fd", u.fd},
              {"memory", u.memory}};
}

namespace {

json scope_json(const scope_stat& x) {
  return json{{"usage", usage_json(x.usage)}, {"limits", to_json(x.limits)}};
}

json named_json(const std::vector<named_scope_stat>& xs, bool with_peers) {
  json all = json::object();
  for (auto& x : xs) {
    auto j = scope_json(x.scope);
    if (with_peers)
      j["peers"] = named_json(x.peers, false);
    all[x.name] = std::move(j);
  }
  return all;
}

json holder_json(const transient_holder_stat& x) {
  auto prefix = x.is_stream ? "stream-" : "conn-";
  json j{{"scope", prefix + std::to_string(x.id)},
         {"kind", x.is_stream ? "stream" : "conn"},
         {"dir", to_string(x.dir)},
         {"age_ms", x.age_ms},
         {"memory", x.memory},
         {"transient", x.allowlisted ? "allowlisted_transient" : "transient"}};
  if (x.is_stream)
    j["peer"] = x.peer;
  if (x.conn)
    j["conn"] = *x.conn;
  return j;
}

json blocked_json(const std::vector<blocked_stat>& xs) {
  json list = json::array();
  for (auto& x : xs) {
    json j{{"scope", to_string(x.scope)},
           {"resource", to_string(x.resource)},
           {"count", x.count}};
    if (x.dir)
      j["dir"] = to_string(*x.dir);
    list.push_back(std::move(j));
  }
  return list;
}

json histogram_json(const usage_histogram& h) {
  return json{
      {"bounds", h.bounds}, {"counts", h.counts}, {"count", h.count}, {"sum", h.sum}};
}

json histograms_json(const usage_histograms& x) {
  return json{{"peer_conns_inbound", histogram_json(x.peer_conns_inbound)},
              {"peer_conns_outbound", histogram_json(x.peer_conns_outbound)},
              {"peer_streams_inbound", histogram_json(x.peer_streams_inbound)},
              {"peer_streams_outbound", histogram_json(x.peer_streams_outbound)},
              {"peer_memory", histogram_json(x.peer_memory)},
              {"conn_memory", histogram_json(x.conn_memory)}};
}

} // namespace

json to_json(const scopes_stats& x) {
  json holders = json::array();
  for (auto& h : x.transient_holders)
    holders.push_back(holder_json(h));
  json class_limits = json::object();
  for (auto& [name, limits] : x.class_limits)
    class_limits[name] = to_json(limits);
  return json{{"scale",
               {{"memory_bytes", x.scale.memory_bytes},
                {"fds", x.scale.fds},
                {"source", x.scale.source}}},
              {"system", scope_json(x.system)},
              {"transient", scope_json(x.transient)},
              {"allowlisted_system", scope_json(x.allowlisted_system)},
              {"allowlisted_transient", scope_json(x.allowlisted_transient)},
              {"dry_run", x.dry_run},
              {"peers", named_json(x.peers, false)},
              {"protocols", named_json(x.protocols, true)},
              {"services", named_json(x.services, true)},
              {"transient_holders", std::move(holders)},
              {"blocked", blocked_json(x.blocked)},
              {"would_block", blocked_json(x.would_block)},
              {"counts",
               {{"conns", x.conns},
                {"streams", x.streams},
                {"uncharged", x.uncharged},
                {"peers", x.peer_count},
                {"protocols", x.protocol_count},
                {"services", x.service_count},
                {"transient_holders", x.transient_holder_count}}},
              {"class_limits", std::move(class_limits)},
              {"histograms", histograms_json(x.histograms)},
              {"truncated", x.truncated}};
}

json to_json(const scope_denial& x) {
  json j{{"code", "scope_limit"},
         {"scope", x.scope},
         {"resource", to_string(x.resource)},
         {"limit", x.limit},
         {"current", x.current},
         {"attempted", x.attempted}};
  if (x.dir)
    j["dir"] = to_string(*x.dir);
  if (x.priority)
    j["priority"] = *x.priority;
  if (x.conn)
    j["conn"] = *x.conn;
  if (x.stream)
    j["stream"] = *x.stream;
  if (!x.peer.empty())
    j["peer"] = x.peer;
  if (!x.protocol.empty())
    j["protocol"] = x.protocol;
  if (!x.service.empty())
    j["service"] = x.service;
  return j;
}

} // namespace rcmgr
