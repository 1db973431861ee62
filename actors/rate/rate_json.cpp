#include "actors/rate/rate_json.hpp"

namespace rcmgr {

nlohmann::json to_json(const retry_after_histogram& x) {
  auto bounds = nlohmann::json::array();
  auto counts = nlohmann::json::array();
  for (std::size_t i = 0; i < std::size(x.bounds_ms); ++i) {
    bounds.push_back(x.bounds_ms[i]);
    counts.push_back(x.counts[i]);
  }
  return {{"bounds", std::move(bounds)},
          {"counts", std::move(counts)},
          {"count", x.count},
          {"sum", x.sum_ms}};
}

nlohmann::json to_json(const rate_limits_stats& x) {
  auto protocols = nlohmann::json::object();
  for (auto& [name, r] : x.protocols) {
    protocols[name] = {
        {"allowed", r.allowed},
        {"denied", {{"total", r.denied_total}, {"per_peer", r.denied_per_peer}}},
        {"would_deny",
         {{"total", r.would_deny_total}, {"per_peer", r.would_deny_per_peer}}},
        {"live_buckets", r.live_buckets},
        {"evictions", r.evictions},
        {"retry_after_ms", to_json(r.retry_after)},
    };
  }
  return {
      {"protocols", std::move(protocols)},
      {"live_peer_buckets", x.live_peer_buckets},
      {"live_total_buckets", x.live_total_buckets},
      {"max_tracked_peers", x.max_tracked_peers},
      {"evictions", x.evictions},
      {"unlimited_allowed", x.unlimited_allowed},
  };
}

nlohmann::json rate_dump_part(const rate_limits_stats& x) {
  nlohmann::json part{{"rate_limits", to_json(x)}};
  std::uint64_t total = 0;
  std::uint64_t per_peer = 0;
  for (auto& [name, r] : x.protocols) {
    total += r.would_deny_total;
    per_peer += r.would_deny_per_peer;
  }
  if (total + per_peer > 0)
    part["limits"] = {{"would_deny",
                       {{"rate_limit",
                         {{"total", total + per_peer},
                          {"by_kind", {{"total", total}, {"per_peer", per_peer}}}}}}}};
  return part;
}

} // namespace rcmgr
