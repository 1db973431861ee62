// Denial counters by code, and by kind for connection limits: the `denials`
// of the dump's `limits` part.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/verdict.hpp"

namespace rcmgr {

class denial_counters {
public:
  void count(const denial& d) {
    ++by_code_[to_string(d.code)];
    if (d.code == denial_code::connection_limit)
      ++by_kind_[to_string(d.kind)];
  }

  std::uint64_t of(denial_code code) const {
    auto i = by_code_.find(to_string(code));
    return i == by_code_.end() ? 0 : i->second;
  }

  std::uint64_t of(limit_kind kind) const {
    auto i = by_kind_.find(to_string(kind));
    return i == by_kind_.end() ? 0 : i->second;
  }

  /// {"connection_limit": {"total": N, "by_kind": {...}}, "memory_limit": N, ...}
  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (auto& [code, n] : by_code_)
      j[code] = n;
    if (by_code_.count("connection_limit"))
      j["connection_limit"] = {{"total", by_code_.at("connection_limit")},
                               {"by_kind", by_kind_}};
    return j;
  }

private:
  std::map<std::string, std::uint64_t> by_code_;
  std::map<std::string, std::uint64_t> by_kind_;
};

} // namespace rcmgr
