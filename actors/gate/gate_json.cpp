#include "actors/gate/gate_json.hpp"

#include <nlohmann/json.hpp>

#include "messages/config_json.hpp"
#include "messages/json.hpp"

namespace rcmgr {

std::string gate_dump_part(gate_policy& policy, time_ns now, std::size_t subscribers) {
  auto& limits = policy.limits();
  nlohmann::json part_limits{{"config", to_json(limits.limits())},
                             {"bypass_peers", limits.bypass_peers()},
                             {"counts", to_json(limits.counts())},
                             {"denials", policy.denials().to_json()},
                             {"blocked_peers", policy.blocked_peers(now)},
                             {"subscribers", subscribers}};
  nlohmann::json part{{"limits", std::move(part_limits)},
                      {"memory", policy.memory().to_json(now)},
                      {"anomalies", to_json(policy.anomalies())}};
  return dump_text(part);
}

} // namespace rcmgr
