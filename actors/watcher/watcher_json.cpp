#include "actors/watcher/watcher_json.hpp"

#include <string>

namespace rcmgr {

nlohmann::json to_json(const socket_watch_stats& x) {
  nlohmann::json peers = nlohmann::json::object();
  for (auto& p : x.peers) {
    nlohmann::json conns = nlohmann::json::object();
    for (auto& c : p.connections)
      conns[std::to_string(c.conn)] = {
          {"health", c.health},
          {"bytes_in", c.bytes_in},
          {"bytes_out", c.bytes_out},
          {"bytes_in_per_s", c.bytes_in_per_s},
          {"last_activity_ms_ago", c.last_activity_ms_ago},
          {"age_ms", c.age_ms},
          {"paused", c.paused},
          {"read_limit_bytes_per_s", c.read_limit_bytes_per_s}};
    peers[p.peer] = {{"connections", std::move(conns)},
                     {"bytes_in_per_s", p.bytes_in_per_s},
                     {"paused", p.paused},
                     {"violations", p.violations},
                     {"rate_limit_denials", p.rate_limit_denials},
                     {"pruned", p.pruned},
                     {"blocked", p.blocked}};
  }
  auto& cfg = x.config;
  return nlohmann::json{{"watched", x.watched},
                        {"pruned", x.pruned},
                        {"paused", x.paused},
                        {"pauses", x.pauses},
                        {"blocks", x.blocks},
                        {"closed_by_reason", x.closed_by_reason},
                        {"peers", std::move(peers)},
                        {"config",
                         {{"refresh_interval_ms", cfg.refresh_interval_ms},
                          {"idle_timeout_ms", cfg.idle_timeout_ms},
                          {"max_lifetime_ms", cfg.max_lifetime_ms},
                          {"peer_bandwidth_bytes_per_s", cfg.peer_bandwidth_bytes_per_s},
                          {"misbehaviour_threshold", cfg.misbehaviour_threshold},
                          {"cooldown_ms", cfg.cooldown_ms}}}};
}

} // namespace rcmgr
