#include "actors/faults/fault_log.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "messages/json.hpp"

namespace rcmgr {

bool fault_log::on_stop(const std::string& part, const std::string& reason, bool normal,
                        time_ns at) {
  if (normal)
    return false;
  auto known = std::find_if(faults_.begin(), faults_.end(),
                            [&](const actor_fault& f) { return f.part == part; });
  if (known != faults_.end())
    return false;
  faults_.push_back(actor_fault{part, reason, at});
  return true;
}

std::string fault_log::dump_part(time_ns now) const {
  if (faults_.empty())
    return "{}";
  nlohmann::json parts = nlohmann::json::object();
  for (auto& f : faults_) {
    auto age_ns = now > f.at ? now - f.at : 0;
    parts[f.part] = {{"reason", f.reason}, {"age_ms", age_ns / 1000000}};
  }
  return dump_text(nlohmann::json{{"faults", std::move(parts)}});
}

} // namespace rcmgr
