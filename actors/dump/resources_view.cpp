#include "actors/dump/resources_view.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "messages/config_json.hpp"

namespace rcmgr {

namespace {

using json = nlohmann::json;

constexpr std::array<const char*, 8> limit_names = {
    "conns",   "conns_inbound",   "conns_outbound",
    "streams", "streams_inbound", "streams_outbound",
    "fd",      "memory"};

struct reader {
  std::vector<resource_row> rows;
  std::optional<input_error> error;

  bool fail(std::string path, std::string message) {
    if (!error)
      error = input_error{std::move(message), std::move(path)};
    return false;
  }

  bool count(const json& usage, const char* field, const std::string& path,
             std::uint64_t& out) {
    auto i = usage.find(field);
    if (i == usage.end() || !i->is_number_unsigned())
      return fail(path + "/" + field, "not a count");
    out = i->get<std::uint64_t>();
    return true;
  }

  /// One scope: {"usage": {...}, "limits": {...}} at `path`.
  bool scope(const std::string& name, const json& s, const std::string& path) {
    if (!s.is_object())
      return fail(path, "not an object");
    auto u = s.find("usage");
    auto l = s.find("limits");
    if (u == s.end() || !u->is_object())
      return fail(path + "/usage", "not an object");
    if (l == s.end() || !l->is_object())
      return fail(path + "/limits", "not an object");
    std::uint64_t ci = 0, co = 0, si = 0, so = 0, fd = 0, mem = 0;
    auto up = path + "/usage";
    if (!count(*u, "conns_inbound", up, ci) || !count(*u, "conns_outbound", up, co) ||
        !count(*u, "streams_inbound", up, si) || !count(*u, "streams_outbound", up, so) ||
        !count(*u, "fd", up, fd) || !count(*u, "memory", up, mem))
      return false;
    // Sums of two counts that each fit 64 bits: saturate rather than wrap.
    auto sum = [](std::uint64_t a, std::uint64_t b) {
      return a > UINT64_MAX - b ? UINT64_MAX : a + b;
    };
    const std::array<std::uint64_t, 8> usage = {sum(ci, co), ci, co, sum(si, so),
                                                si,          so, fd, mem};
    for (std::size_t k = 0; k < limit_names.size(); ++k) {
      auto i = l->find(limit_names[k]);
      auto lp = path + "/limits/" + limit_names[k];
      resource_row row{name, limit_names[k], std::nullopt, usage[k], std::nullopt};
      if (i == l->end())
        return fail(lp, "missing");
      if (i->is_string() && i->get_ref<const std::string&>() == "unlimited") {
        // no limit, no percent
      } else if (i->is_number_unsigned()) {
        auto limit = i->get<std::uint64_t>();
        row.limit = limit;
        row.percent = limit == 0 ? 100.0
                                 : 100.0 * static_cast<double>(row.usage) /
                                       static_cast<double>(limit);
      } else {
        return fail(lp, "neither a count nor \"unlimited\"");
      }
      rows.push_back(std::move(row));
    }
    return true;
  }

  bool named(const json& parent, const char* key, const std::string& path,
             const std::string& prefix, bool with_peers) {
    auto i = parent.find(key);
    auto p = path + "/" + key;
    if (i == parent.end() || !i->is_object())
      return fail(p, "not an object");
    for (auto& [name, s] : i->items()) {
      auto sp = p + json_pointer_step(name);
      if (!scope(prefix + name, s, sp))
        return false;
      if (with_peers && !named(s, "peers", sp, prefix + name + ".peer:", false))
        return false;
    }
    return true;
  }
};

} // namespace

result<std::vector<resource_row>> resource_rows(const json& scopes) {
  if (!scopes.is_object())
    return result<std::vector<resource_row>>::failure("", "not an object");
  reader r;
  for (auto name :
       {"system", "transient", "allowlisted_system", "allowlisted_transient"}) {
    auto i = scopes.find(name);
    if (i == scopes.end()) {
      r.fail(std::string{"/"} + name, "missing");
      break;
    }
    if (!r.scope(name, *i, std::string{"/"} + name))
      break;
  }
  if (!r.error)
    r.named(scopes, "peers", "", "peer:", false) &&
        r.named(scopes, "protocols", "", "protocol:", true) &&
        r.named(scopes, "services", "", "service:", true);
  if (r.error)
    return *r.error;
  return std::move(r.rows);
}

std::vector<resource_row> rows_at_least(std::vector<resource_row> rows,
                                        double min_percent) {
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [&](const resource_row& x) {
                              return !x.percent || *x.percent < min_percent;
                            }),
             rows.end());
  return rows;
}

std::string render_resources(const std::vector<resource_row>& rows) {
  std::vector<std::array<std::string, 5>> cells;
  cells.push_back({"scope", "limit name", "limit", "usage", "percent"});
  for (auto& x : rows) {
    std::string percent = "-";
    if (x.percent) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f%%", *x.percent);
      percent = buf;
    }
    cells.push_back({x.scope, x.limit_name,
                     x.limit ? std::to_string(*x.limit) : std::string{"unlimited"},
                     std::to_string(x.usage), percent});
  }
  std::array<std::size_t, 5> width{};
  for (auto& line : cells)
    for (std::size_t k = 0; k < 5; ++k)
      width[k] = std::max(width[k], line[k].size());
  std::string out;
  for (auto& line : cells) {
    for (std::size_t k = 0; k < 5; ++k) {
      // Text left, numbers right.
      auto pad = std::string(width[k] - line[k].size(), ' ');
      out += k < 2 ? line[k] + pad : pad + line[k];
      out += k + 1 < 5 ? "  " : "\n";
    }
  }
  return out;
}

} // namespace rcmgr
