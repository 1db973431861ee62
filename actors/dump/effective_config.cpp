#include "actors/dump/effective_config.hpp"

namespace rcmgr {

using json = nlohmann::json;

json effective_config(const json& config, const json& state) {
  json limits = nullptr;
  auto scopes = state.is_object() ? state.find("scopes") : state.end();
  if (state.is_object() && scopes != state.end() && scopes->is_object()) {
    limits = json::object();
    for (auto name :
         {"system", "transient", "allowlisted_system", "allowlisted_transient"}) {
      auto scope = scopes->find(name);
      if (scope != scopes->end() && scope->is_object() && scope->contains("limits"))
        limits[name] = (*scope)["limits"];
    }
    auto classes = scopes->find("class_limits");
    if (classes != scopes->end() && classes->is_object())
      for (auto& [name, l] : classes->items())
        limits[name] = l;
  }
  return json{{"config", config}, {"scope_limits", std::move(limits)}};
}

} // namespace rcmgr
