#include "actors/dump/metrics_text.hpp"

#include <array>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace rcmgr {

using json = nlohmann::json;

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string go_float_text(std::uint64_t value) {
  auto digits = std::to_string(value);
  // go's shortest 'g' switches to an exponent from 1e6 (exponent >= 6).
  if (digits.size() <= 6)
    return digits;
  auto exponent = digits.size() - 1;
  auto last = digits.find_last_not_of('0');
  std::string out(1, digits[0]);
  if (last > 0)
    out += "." + digits.substr(1, last);
  out += exponent < 10 ? "e+0" : "e+";
  out += std::to_string(exponent);
  return out;
}

namespace {

using label_list = std::vector<std::pair<const char*, std::string>>;

/// The member `key` of `j`, or nullptr when `j` is not an object or has no
/// such member.
const json* member(const json* j, const char* key) {
  if (j == nullptr || !j->is_object())
    return nullptr;
  auto i = j->find(key);
  return i == j->end() ? nullptr : &*i;
}

const json* path(const json& root, std::initializer_list<const char*> keys) {
  const json* j = &root;
  for (auto key : keys)
    if ((j = member(j, key)) == nullptr)
      return nullptr;
  return j;
}

/// A sample value: an integer as it is, a float in its shortest form,
/// true/false as 1/0, "unlimited" as +Inf; nothing for anything else.
std::optional<std::string> value_text(const json* j) {
  if (j == nullptr)
    return std::nullopt;
  if (j->is_number_unsigned())
    return std::to_string(j->get<std::uint64_t>());
  if (j->is_number_integer())
    return std::to_string(j->get<std::int64_t>());
  if (j->is_number_float()) {
    std::array<char, 32> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), j->get<double>());
    return std::string(buf.data(), r.ptr);
  }
  if (j->is_boolean())
    return std::string(j->get<bool>() ? "1" : "0");
  if (j->is_string() && j->get_ref<const std::string&>() == "unlimited")
    return std::string("+Inf");
  return std::nullopt;
}

/// A count: a non-negative integer, else 0.
std::uint64_t count_of(const json* j) {
  if (j == nullptr || !j->is_number_integer())
    return 0;
  return j->is_number_unsigned() || j->get<std::int64_t>() >= 0 ? j->get<std::uint64_t>()
                                                                : 0;
}

/// Writes the text: a family's HELP and TYPE once, then its samples.
class exposition {
public:
  void family(const char* name, const char* type, const char* help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help; // constant text without backslashes or newlines
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// A sample of the current family (with `suffix`, e.g. "_bucket").
  void sample(const label_list& labels, const std::string& value,
              const char* suffix = "") {
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (auto& [key, v] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  /// A sample when `j` has a value.
  void sample(const label_list& labels, const json* j) {
    if (auto v = value_text(j))
      sample(labels, *v);
  }

  std::string take() { return std::move(out_); }

private:
  std::string out_;
  std::string name_;
};

const char* const fixed_scopes[] = {"system", "transient", "allowlisted_system",
                                    "allowlisted_transient"};
const char* const directions[] = {"inbound", "outbound"};
const char* const limit_names[] = {"conns",   "conns_inbound",   "conns_outbound",
                                   "streams", "streams_inbound", "streams_outbound",
                                   "fd",      "memory"};

// -- go-libp2p's families, from the part `scopes` ------------------------------------

void usage_families(exposition& out, const json* scopes) {
  out.family("libp2p_rcmgr_connections", "gauge", "Number of connections, by scope");
  for (auto scope : fixed_scopes)
    for (auto dir : directions)
      out.sample({{"dir", dir}, {"scope", scope}},
                 path(*scopes, {scope, "usage",
                                dir[0] == 'i' ? "conns_inbound" : "conns_outbound"}));
  const json* protocols = member(scopes, "protocols");
  out.family("libp2p_rcmgr_streams", "gauge", "Number of streams, by scope and protocol");
  for (auto scope : fixed_scopes)
    for (auto dir : directions)
      out.sample({{"dir", dir}, {"scope", scope}, {"protocol", ""}},
                 path(*scopes, {scope, "usage",
                                dir[0] == 'i' ? "streams_inbound" : "streams_outbound"}));
  if (protocols != nullptr && protocols->is_object())
    for (auto& [id, p] : protocols->items())
      for (auto dir : directions)
        out.sample(
            {{"dir", dir}, {"scope", "protocol"}, {"protocol", id}},
            path(p, {"usage", dir[0] == 'i' ? "streams_inbound" : "streams_outbound"}));
  out.family("libp2p_rcmgr_memory", "gauge",
             "Bytes of memory reserved, by scope and protocol");
  for (auto scope : fixed_scopes)
    out.sample({{"scope", scope}, {"protocol", ""}},
               path(*scopes, {scope, "usage", "memory"}));
  if (protocols != nullptr && protocols->is_object())
    for (auto& [id, p] : protocols->items())
      out.sample({{"scope", "protocol"}, {"protocol", id}}, path(p, {"usage", "memory"}));
  out.family("libp2p_rcmgr_fds", "gauge",
             "Number of file descriptors reserved, by scope");
  for (auto scope : fixed_scopes)
    out.sample({{"scope", scope}}, path(*scopes, {scope, "usage", "fd"}));
}

/// go's resource label for a refused resource, and the direction it goes
/// under ("" for fd and memory).
std::pair<std::string, std::string> go_resource(const std::string& resource,
                                                const json* dir) {
  std::string d = dir != nullptr && dir->is_string() ? dir->get<std::string>() : "";
  if (resource.rfind("conns", 0) == 0)
    return {"connection", d};
  if (resource.rfind("streams", 0) == 0)
    return {"stream", d};
  return {resource, ""};
}

/// A list of {scope, resource, dir?, count} summed by go's labels.
void blocked_samples(exposition& out, const json* list) {
  if (list == nullptr || !list->is_array())
    return;
  std::map<std::array<std::string, 3>, std::uint64_t> sums;
  for (auto& x : *list) {
    auto scope = member(&x, "scope");
    auto resource = member(&x, "resource");
    if (scope == nullptr || !scope->is_string() || resource == nullptr ||
        !resource->is_string())
      continue;
    auto [res, dir] = go_resource(resource->get<std::string>(), member(&x, "dir"));
    sums[{dir, scope->get<std::string>(), res}] += count_of(member(&x, "count"));
  }
  for (auto& [labels, n] : sums)
    out.sample({{"dir", labels[0]}, {"scope", labels[1]}, {"resource", labels[2]}},
               std::to_string(n));
}

void limit_samples(exposition& out, const char* scope, const json* limits) {
  for (auto name : limit_names)
    out.sample({{"scope", scope}, {"resource", name}}, member(limits, name));
}

void limit_family(exposition& out, const json* scopes) {
  out.family("libp2p_rcmgr_limit", "gauge",
             "Limits in force, by scope class and resource (+Inf: unlimited)");
  for (auto scope : fixed_scopes)
    limit_samples(out, scope, path(*scopes, {scope, "limits"}));
  const json* classes = member(scopes, "class_limits");
  if (classes != nullptr && classes->is_object())
    for (auto& [name, limits] : classes->items())
      limit_samples(out, name.c_str(), &limits);
}

/// A histogram of the dump: its bounds, its count per bucket (the last
/// above every bound) and the sum of its values.
struct dump_histogram {
  std::vector<std::uint64_t> bounds;
  std::vector<std::uint64_t> counts;
  std::uint64_t sum = 0;
};

/// Reads {bounds, counts, count, sum}; nothing when it is malformed.
std::optional<dump_histogram> read_histogram(const json* h) {
  const json* bounds = member(h, "bounds");
  const json* counts = member(h, "counts");
  if (bounds == nullptr || counts == nullptr || !bounds->is_array() ||
      !counts->is_array() || bounds->size() != counts->size())
    return std::nullopt;
  dump_histogram out;
  std::uint64_t listed = 0;
  for (std::size_t i = 0; i < bounds->size(); ++i) {
    out.bounds.push_back(count_of(&(*bounds)[i]));
    out.counts.push_back(count_of(&(*counts)[i]));
    listed += out.counts.back();
  }
  auto count = count_of(member(h, "count"));
  out.counts.push_back(count > listed ? count - listed : 0);
  out.sum = count_of(member(h, "sum"));
  return out;
}

/// A dump value as sample text.
using value_text_fn = std::string (*)(std::uint64_t);

std::string integer_text(std::uint64_t value) {
  return std::to_string(value);
}

/// Milliseconds as seconds, in the shortest text that reads back the same.
std::string seconds_text(std::uint64_t ms) {
  std::array<char, 32> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(),
                         static_cast<double>(ms) / 1000.0);
  return std::string(buf.data(), r.ptr);
}

/// The samples of one histogram: cumulative buckets (`base` and `le`), sum
/// and count, its bounds and sum written by `bound_text` and `sum_text`.
void histogram_samples(exposition& out, const label_list& base,
                       const std::vector<std::uint64_t>& bounds,
                       const std::vector<std::uint64_t>& counts, std::uint64_t sum,
                       value_text_fn bound_text, value_text_fn sum_text) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    auto labels = base;
    labels.emplace_back("le", i < bounds.size() ? bound_text(bounds[i]) : "+Inf");
    out.sample(labels, std::to_string(cumulative), "_bucket");
  }
  out.sample(base, sum_text(sum), "_sum");
  out.sample(base, std::to_string(cumulative), "_count");
}

void histogram_families(exposition& out, const json* scopes, histogram_carry& carry) {
  const json* hs = member(scopes, "histograms");
  struct one {
    const char* family; // after libp2p_rcmgr_ and previous_
    const char* dir;    // nullptr: no dir label
    const char* key;    // under scopes.histograms
  };
  struct family_help {
    const char* family;
    const char* help;
  };
  const one all[] = {{"peer_connections", "inbound", "peer_conns_inbound"},
                     {"peer_connections", "outbound", "peer_conns_outbound"},
                     {"peer_streams", "inbound", "peer_streams_inbound"},
                     {"peer_streams", "outbound", "peer_streams_outbound"},
                     {"peer_memory", nullptr, "peer_memory"},
                     {"conn_memory", nullptr, "conn_memory"}};
  const family_help families[] = {
      {"peer_connections", "peers by how many connections they hold"},
      {"peer_streams", "peers by how many streams they hold"},
      {"peer_memory", "peers by how many bytes of memory they hold reserved"},
      {"conn_memory", "connections by how many bytes of memory they hold reserved"}};
  // Folded once each, before any family is written.
  std::map<std::string, std::pair<std::vector<std::uint64_t>, histogram_carry::totals>>
      folded;
  for (auto& h : all)
    if (auto read = read_histogram(member(hs, h.key)))
      folded[h.key] = {read->bounds, carry.fold(h.key, read->counts, read->sum)};
  for (auto& f : families)
    for (bool previous : {false, true}) {
      auto name =
          std::string(previous ? "libp2p_rcmgr_previous_" : "libp2p_rcmgr_") + f.family;
      auto help = std::string(previous ? "Removals from the distribution of "
                                       : "Additions to the distribution of ") +
                  f.help + " (the distribution now: the difference of the twins)";
      out.family(name.c_str(), "histogram", help.c_str());
      for (auto& h : all) {
        auto i = folded.find(h.key);
        if (std::string_view{h.family} != f.family || i == folded.end())
          continue;
        auto& [bounds, t] = i->second;
        label_list base;
        if (h.dir != nullptr)
          base.emplace_back("dir", h.dir);
        histogram_samples(out, base, bounds, previous ? t.removed : t.added,
                          previous ? t.removed_sum : t.added_sum, go_float_text,
                          integer_text);
      }
    }
}

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

const histogram_carry::totals&
histogram_carry::fold(const std::string& key, const std::vector<std::uint64_t>& counts,
                      std::uint64_t sum) {
  auto& e = entries_[key];
  if (e.last.size() != counts.size()) {
    e = entry{};
    e.last.assign(counts.size(), 0);
    e.kept.added.assign(counts.size(), 0);
    e.kept.removed.assign(counts.size(), 0);
  }
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > e.last[i])
      e.kept.added[i] += counts[i] - e.last[i];
    else
      e.kept.removed[i] += e.last[i] - counts[i];
  }
  if (sum > e.last_sum)
    e.kept.added_sum += sum - e.last_sum;
  else
    e.kept.removed_sum += e.last_sum - sum;
  e.last = counts;
  e.last_sum = sum;
  return e.kept;
}

std::string metrics_text(const nlohmann::json& state, histogram_carry* carry) {
  exposition out;
  static const json no_scopes = nullptr;
  const json* scopes = member(&state, "scopes");
  if (scopes == nullptr)
    scopes = &no_scopes;
  usage_families(out, scopes);
  out.family("libp2p_rcmgr_blocked_resources", "gauge",
             "Refused reservations, by direction, scope class and resource");
  blocked_samples(out, member(scopes, "blocked"));
  limit_family(out, scopes);
  histogram_carry first_render;
  histogram_families(out, scopes, carry != nullptr ? *carry : first_render);
  limits_families(out, state);
  connection_families(out, state);
  rate_families(out, state);
  memory_families(out, state);
  watcher_families(out, state);
  anomaly_family(out, state);
  ip_families(out, state);
  missing_family(out, state);
  return out.take();
}

} // namespace rcmgr
