#include "actors/trace/trace_lines.hpp"

namespace rcmgr {

using ojson = nlohmann::ordered_json;

std::string trace_line(time_ns since_start, const nlohmann::json& event,
                       const verdict& v) {
  auto t = std::max<time_ns>(since_start, 0);
  ojson line;
  line["t"] = t / 1'000'000;
  line["t_ns"] = t;
  if (auto name = event.find("event"); name != event.end())
    line["event"] = *name;
  for (auto& [key, value] : event.items())
    if (key != "event")
      line[key] = value;
  auto verdict_json = to_json(v);
  if (auto kind = verdict_json.find("verdict"); kind != verdict_json.end())
    line["verdict"] = *kind;
  for (auto& [key, value] : verdict_json.items())
    if (key != "verdict")
      line[key] = value;
  return dump_text(line);
}

nlohmann::json trace_event_json(const input_event& ev) {
  auto j = to_json(ev);
  if (auto s = std::get_if<memory_sample>(&ev); s && s->cgroup_limit > 0) {
    j["cgroup_limit"] = s->cgroup_limit;
    j["cgroup_usage"] = s->cgroup_usage;
  }
  return j;
}

nlohmann::json peer_blocked_json(const peer_id& peer, time_ns until) {
  return {{"event", "peer_blocked"}, {"peer", peer}, {"until_ns", until}};
}

std::optional<input_event> batch_entry_event(const text_table& texts,
                                             const std::vector<text_ref>& lists,
                                             const batch_event& e) {
  if (!refs_valid(texts, lists, e))
    return std::nullopt;
  auto v = view_of(texts, lists, e);
  auto first_remote = [&] {
    return v.remote.empty() ? std::string{} : std::string{v.remote[0]};
  };
  auto scope_name = [&] {
    auto h = e.holder();
    return h ? holder_name(*h) : std::string{v.name};
  };
  switch (e.kind) {
  case event_kind::pending_inbound:
    return pending_inbound{e.conn(), std::string{v.local}, first_remote(), e.usefd()};
  case event_kind::pending_outbound: {
    pending_outbound x{e.conn(), std::string{v.peer}, {}, e.usefd()};
    for (std::size_t i = 0; i < v.remote.size(); ++i)
      x.addresses.emplace_back(v.remote[i]);
    return x;
  }
  case event_kind::established_inbound:
    return established_inbound{e.conn(), std::string{v.peer}, std::string{v.local},
                               first_remote(), e.usefd()};
  case event_kind::established_outbound:
    return established_outbound{e.conn(), std::string{v.peer}, first_remote(), e.usefd()};
  case event_kind::dial_failure:
    return dial_failure{e.conn()};
  case event_kind::listen_failure:
    return listen_failure{e.conn()};
  case event_kind::connection_closed:
    return connection_closed{e.conn(), std::string{v.peer}, std::string{v.reason}};
  case event_kind::stream_opened:
    return stream_opened{e.stream(), std::string{v.peer}, e.dir, e.has_conn(),
                         e.has_conn() ? e.stream_conn() : 0};
  case event_kind::stream_protocol:
    return stream_protocol{e.stream(), std::string{v.name}};
  case event_kind::stream_service:
    return stream_service{e.stream(), std::string{v.name}};
  case event_kind::stream_closed:
    return stream_closed{e.stream()};
  case event_kind::reserve_memory:
    return reserve_memory{scope_name(), e.bytes(), e.priority};
  case event_kind::release_memory:
    return release_memory{scope_name(), e.bytes()};
  }
  return std::nullopt;
}

} // namespace rcmgr
