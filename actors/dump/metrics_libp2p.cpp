// go-libp2p's resource-manager families, with its names, labels and bucket
// bounds, from the dump part `scopes` (docs/metrics.md).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/dump/metrics_exposition.hpp"

namespace rcmgr::metrics_detail {

namespace {

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

} // namespace

void libp2p_families(exposition& out, const json* scopes, histogram_carry& carry) {
  usage_families(out, scopes);
  out.family("libp2p_rcmgr_blocked_resources", "gauge",
             "Refused reservations, by direction, scope class and resource");
  blocked_samples(out, member(scopes, "blocked"));
  limit_family(out, scopes);
  histogram_families(out, scopes, carry);
}

} // namespace rcmgr::metrics_detail
