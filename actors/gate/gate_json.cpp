#include "actors/gate/gate_json.hpp"

#include "messages/config_json.hpp"
#include "messages/json.hpp"

namespace rcmgr {

nlohmann::json to_json(const denial_counts& x) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < x.by_code.size(); ++i)
    if (x.by_code[i] > 0)
      j[to_string(static_cast<denial_code>(i))] = x.by_code[i];
  auto limit_denials = x.of(denial_code::connection_limit);
  if (limit_denials > 0) {
    nlohmann::json by_kind = nlohmann::json::object();
    for (std::size_t i = 0; i < x.by_kind.size(); ++i)
      if (x.by_kind[i] > 0)
        by_kind[to_string(static_cast<limit_kind>(i))] = x.by_kind[i];
    j["connection_limit"] = {{"total", limit_denials}, {"by_kind", std::move(by_kind)}};
  }
  return j;
}

nlohmann::json to_json(const memory_stats& x) {
  nlohmann::json j;
  j["active"] = x.active;
  j["stale_policy"] = to_string(x.on_stale);
  j["sample_interval_ms"] = x.sample_interval_ms;
  if (x.last_sample) {
    j["last_sample"] = to_json(*x.last_sample);
    j["age_ms"] = x.age_ms;
  } else {
    j["last_sample"] = nullptr;
    j["age_ms"] = nullptr;
  }
  j["stale"] = x.stale;
  j["effective_max_bytes"] = x.effective_max_bytes == no_limit
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json(x.effective_max_bytes);
  j["max_source"] = x.max_source;
  j["pressure"] = x.pressure ? nlohmann::json(*x.pressure) : nlohmann::json(nullptr);
  if (x.resume_below_fraction > 0)
    j["resume_below_fraction"] = x.resume_below_fraction;
  j["hysteresis_active"] = x.hysteresis_active;
  j["denials"] = x.denials;
  j["stale_admits"] = x.stale_admits;
  j["stale_denials"] = x.stale_denials;
  j["would_denials"] = x.would_denials;
  return j;
}

std::string gate_dump_part(const gate_stats& stats, std::size_t subscribers,
                           const nlohmann::json& scopes,
                           const nlohmann::json& ip_limits) {
  nlohmann::json limits{{"config", to_json(stats.config)},
                        {"bypass_peers", stats.bypass_peers},
                        {"counts", to_json(stats.counts)},
                        {"denials", to_json(stats.denials)},
                        {"would_deny", to_json(stats.would_deny)},
                        {"blocked_peers", stats.blocked_peers},
                        {"subscribers", subscribers}};
  nlohmann::json part{{"limits", std::move(limits)},
                      {"memory", to_json(stats.memory)},
                      {"anomalies", to_json(stats.anomalies)}};
  if (!scopes.is_null())
    part["scopes"] = scopes;
  if (!ip_limits.is_null())
    part["ip_limits"] = ip_limits;
  return dump_text(part);
}

} // namespace rcmgr
