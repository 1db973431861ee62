// This project's own families (rcmgr_*), from the dump's parts other than
// `scopes` (docs/metrics.md).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/dump/metrics_exposition.hpp"

namespace rcmgr::metrics_detail {

namespace {

// -- this project's families ------------------------------------------------------------

/// {code: N | {"total": N, "by_kind": {kind: N}}} as {code, kind} samples.
void denial_samples(exposition& out, const json* denials) {
  if (denials == nullptr || !denials->is_object())
    return;
  for (auto& [code, v] : denials->items()) {
    if (auto by_kind = member(&v, "by_kind");
        by_kind != nullptr && by_kind->is_object()) {
      for (auto& [kind, n] : by_kind->items())
        out.sample({{"code", code}, {"kind", kind}}, &n);
    } else {
      out.sample({{"code", code}, {"kind", ""}}, &v);
    }
  }
}

void limits_families(exposition& out, const json& state) {
  const json* rate = path(state, {"rate_limits", "protocols"});
  out.family(
      "rcmgr_denials_total", "counter",
      "Denials by code and kind (rate_limit: kind is the bucket, total or per_peer)");
  denial_samples(out, path(state, {"limits", "denials"}));
  if (rate != nullptr && rate->is_object()) {
    std::uint64_t total = 0;
    std::uint64_t per_peer = 0;
    for (auto& [id, p] : rate->items()) {
      total += count_of(path(p, {"denied", "total"}));
      per_peer += count_of(path(p, {"denied", "per_peer"}));
    }
    out.sample({{"code", "rate_limit"}, {"kind", "per_peer"}}, std::to_string(per_peer));
    out.sample({{"code", "rate_limit"}, {"kind", "total"}}, std::to_string(total));
  }
  out.family("rcmgr_would_deny_total", "counter",
             "Denials a rule in dry run would have made, by code and kind");
  denial_samples(out, path(state, {"limits", "would_deny"}));
  out.family("rcmgr_scope_would_block_total", "counter",
             "Scope refusals a dry run would have made, by direction, scope class and "
             "resource");
  blocked_samples(out, path(state, {"scopes", "would_block"}));
  out.family("rcmgr_connection_limit", "gauge", "The connection limits set, by kind");
  if (auto config = path(state, {"limits", "config"});
      config != nullptr && config->is_object())
    for (auto& [kind, v] : config->items())
      if (kind.rfind("max_", 0) == 0)
        out.sample({{"kind", kind.substr(4)}}, &v);
  out.family("rcmgr_blocked_peers", "gauge", "Peers blocked now");
  out.sample({}, path(state, {"limits", "blocked_peers"}));
}

void connection_families(exposition& out, const json& state) {
  const json* conns = member(&state, "connections");
  out.family("rcmgr_connections", "gauge",
             "Live connections by state and direction, bypassed ones apart");
  for (auto st : {"pending", "established"})
    for (auto dir : directions)
      out.sample({{"state", st}, {"dir", dir}}, path(state, {"connections", st, dir}));
  out.family("rcmgr_bypassed_connections", "gauge", "Live connections of bypassed peers");
  out.sample({}, member(conns, "bypassed"));
  out.family("rcmgr_connected_peers", "gauge", "Peers with a live connection");
  if (auto per_peer = member(conns, "per_peer");
      per_peer != nullptr && per_peer->is_object())
    out.sample({}, std::to_string(per_peer->size()));
}

void rate_families(exposition& out, const json& state) {
  const json* part = member(&state, "rate_limits");
  const json* protocols = member(part, "protocols");
  bool any = protocols != nullptr && protocols->is_object();
  struct per_rule {
    const char* name;
    const char* type;
    const char* help;
    const char* key;
  };
  for (auto& f : {per_rule{"rcmgr_rate_limit_allowed_total", "counter",
                           "Messages allowed, by rate-limit rule", "allowed"},
                  per_rule{"rcmgr_rate_limit_buckets", "gauge",
                           "Token buckets held now, by rule", "live_buckets"},
                  per_rule{"rcmgr_rate_limit_evictions_total", "counter",
                           "Buckets evicted at the cap, by rule", "evictions"}}) {
    out.family(f.name, f.type, f.help);
    if (any)
      for (auto& [id, p] : protocols->items())
        out.sample({{"protocol", id}}, member(&p, f.key));
  }
  out.family("rcmgr_rate_limit_denied_total", "counter",
             "Messages denied, by rate-limit rule and the bucket that refused");
  if (any)
    for (auto& [id, p] : protocols->items())
      for (auto scope : {"per_peer", "total"})
        out.sample({{"protocol", id}, {"scope", scope}}, path(p, {"denied", scope}));
  out.family("rcmgr_rate_limit_unlimited_allowed_total", "counter",
             "Messages of protocols without a rule");
  out.sample({}, member(part, "unlimited_allowed"));
  out.family("rcmgr_rate_limit_retry_after_seconds", "histogram",
             "The retry-after of rate-limit denials that can succeed later, by rule");
  if (any)
    for (auto& [id, p] : protocols->items())
      if (auto h = read_histogram(member(&p, "retry_after_ms")))
        histogram_samples(out, {{"protocol", id}}, h->bounds, h->counts, h->sum,
                          seconds_text, seconds_text); // ms in the dump
}

/// A family of one sample without labels, read at a path of up to three keys.
struct scalar_family {
  const char* name;
  const char* type;
  const char* help;
  std::array<const char*, 3> keys;
};

void scalar_families(exposition& out, const json& state,
                     std::initializer_list<scalar_family> families) {
  for (auto& f : families) {
    out.family(f.name, f.type, f.help);
    const json* j = &state;
    for (auto key : f.keys)
      if (key != nullptr)
        j = member(j, key);
    out.sample({}, j);
  }
}

void memory_families(exposition& out, const json& state) {
  scalar_families(out, state,
                  {{"rcmgr_memory_process_bytes",
                    "gauge",
                    "Resident memory of the process at the last sample",
                    {"memory", "last_sample", "rss"}},
                   {"rcmgr_memory_system_bytes",
                    "gauge",
                    "Memory of the system at the last sample",
                    {"memory", "last_sample", "total"}},
                   {"rcmgr_memory_effective_max_bytes",
                    "gauge",
                    "The effective memory maximum (absent when there is none)",
                    {"memory", "effective_max_bytes"}},
                   {"rcmgr_memory_pressure_ratio",
                    "gauge",
                    "Resident memory over the effective maximum",
                    {"memory", "pressure"}}});
  out.family("rcmgr_memory_sample_age_seconds", "gauge", "Age of the last memory sample");
  if (auto age = path(state, {"memory", "age_ms"});
      age != nullptr && age->is_number_integer()) {
    json seconds = static_cast<double>(count_of(age)) / 1000.0;
    out.sample({}, &seconds);
  }
  scalar_families(out, state,
                  {{"rcmgr_memory_stale",
                    "gauge",
                    "1 when the memory rule is on and its sample is stale",
                    {"memory", "stale"}},
                   {"rcmgr_memory_hysteresis_active",
                    "gauge",
                    "1 while the gate denies until memory falls below the resume mark",
                    {"memory", "hysteresis_active"}},
                   {"rcmgr_memory_stale_admits_total",
                    "counter",
                    "Pending connections admitted on a stale sample",
                    {"memory", "stale_admits"}},
                   {"rcmgr_memory_stale_denials_total",
                    "counter",
                    "Pending connections denied on a stale sample",
                    {"memory", "stale_denials"}},
                   {"rcmgr_memory_samples_total",
                    "counter",
                    "Memory samples taken",
                    {"memory", "samples"}},
                   {"rcmgr_memory_skipped_reads_total",
                    "counter",
                    "Memory readings that failed",
                    {"memory", "skipped_reads"}}});
}

void watcher_families(exposition& out, const json& state) {
  scalar_families(out, state,
                  {{"rcmgr_watcher_watched_connections",
                    "gauge",
                    "Connections watched now",
                    {"watcher", "watched"}},
                   {"rcmgr_watcher_paused_connections",
                    "gauge",
                    "Connections paused now",
                    {"watcher", "paused"}},
                   {"rcmgr_watcher_pruned_total",
                    "counter",
                    "Connections closed because their peer hung up",
                    {"watcher", "pruned"}},
                   {"rcmgr_watcher_pauses_total",
                    "counter",
                    "Times a peer was paused for bandwidth",
                    {"watcher", "pauses"}},
                   {"rcmgr_watcher_blocks_total",
                    "counter",
                    "Times a peer was blocked",
                    {"watcher", "blocks"}}});
  out.family("rcmgr_watcher_closes_total", "counter", "Closes ordered, by reason");
  if (auto closes = path(state, {"watcher", "closed_by_reason"});
      closes != nullptr && closes->is_object())
    for (auto& [reason, n] : closes->items())
      out.sample({{"reason", reason}}, &n);
}

void anomaly_family(exposition& out, const json& state) {
  out.family("rcmgr_anomalies_total", "counter", "Bad input, by kind");
  if (auto a = member(&state, "anomalies"); a != nullptr && a->is_object())
    for (auto& [kind, n] : a->items())
      out.sample({{"kind", kind}}, &n);
}

void ip_families(exposition& out, const json& state) {
  const json* ip = member(&state, "ip_limits");
  out.family("rcmgr_ip_denials_total", "counter",
             "Per-IP denials, by code (ip_limit, attempt_rate) and rule");
  for (auto code : {"attempt_rate", "ip_limit"})
    if (auto rules = path(state, {"ip_limits", "denials", code});
        rules != nullptr && rules->is_object())
      for (auto& [rule, n] : rules->items())
        out.sample({{"code", code}, {"rule", rule}}, &n);
  const json* counts = member(ip, "counts");
  bool listed = counts != nullptr && counts->is_array();
  out.family("rcmgr_ip_connections", "gauge",
             "Live connections per limited prefix (the busiest, up to the list cap)");
  if (listed)
    for (auto& x : *counts)
      if (auto prefix = member(&x, "prefix"); prefix != nullptr && prefix->is_string())
        out.sample({{"prefix", prefix->get<std::string>()}}, member(&x, "conns"));
  out.family("rcmgr_ip_connection_limit", "gauge",
             "The limit of each prefix listed in rcmgr_ip_connections (+Inf: unlimited)");
  if (listed)
    for (auto& x : *counts)
      if (auto prefix = member(&x, "prefix"); prefix != nullptr && prefix->is_string())
        out.sample({{"prefix", prefix->get<std::string>()}}, member(&x, "limit"));
  scalar_families(out, state,
                  {{"rcmgr_ip_tracked_connections",
                    "gauge",
                    "Live connections counted against their IP",
                    {"ip_limits", "connections"}},
                   {"rcmgr_attempt_rate_buckets",
                    "gauge",
                    "Attempt-rate buckets held now",
                    {"ip_limits", "rate_buckets", "live"}},
                   {"rcmgr_attempt_rate_allowed_total",
                    "counter",
                    "Connection attempts the attempt rates allowed",
                    {"ip_limits", "rate_buckets", "allowed"}},
                   {"rcmgr_attempt_rate_denied_total",
                    "counter",
                    "Connection attempts the attempt rates denied",
                    {"ip_limits", "rate_buckets", "denied"}},
                   {"rcmgr_attempt_rate_evictions_total",
                    "counter",
                    "Attempt-rate buckets evicted at the cap",
                    {"ip_limits", "rate_buckets", "evictions"}}});
}

void missing_family(exposition& out, const json& state) {
  out.family("rcmgr_dump_missing_parts", "gauge",
             "1 for each source that did not answer the dump behind this scrape");
  if (auto missing = member(&state, "missing"); missing != nullptr && missing->is_array())
    for (auto& name : *missing)
      if (name.is_string())
        out.sample({{"source", name.get<std::string>()}}, "1");
}

} // namespace

void rcmgr_families(exposition& out, const json& state) {
  limits_families(out, state);
  connection_families(out, state);
  rate_families(out, state);
  memory_families(out, state);
  watcher_families(out, state);
  anomaly_family(out, state);
  ip_families(out, state);
  missing_family(out, state);
}

} // namespace rcmgr::metrics_detail
