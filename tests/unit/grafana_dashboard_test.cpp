// The Grafana dashboard (tools/grafana/caf-rcmgr.json) against the metrics
// text: every metric name and label its PromQL uses must be in what
// metrics_text renders for a state with every part present.
#include <doctest/doctest.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actors/dump/metrics_text.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

// -- the rendered text ------------------------------------------------------------------

/// The series names of a text (a histogram family X as X_bucket, X_sum and
/// X_count) with the labels, and each label's values, of their samples.
struct rendered {
  std::map<std::string, std::string> types; // family -> TYPE
  std::map<std::string, std::map<std::string, std::set<std::string>>> series;
};

rendered parse_text(const std::string& text) {
  rendered out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      out.types[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line.empty() || line[0] == '#')
      continue;
    auto end = line.find_first_of("{ ");
    auto& labels = out.series[line.substr(0, end)];
    if (line[end] != '{')
      continue;
    auto i = end + 1;
    while (i < line.size() && line[i] != '}') {
      auto eq = line.find('=', i);
      auto key = line.substr(i, eq - i);
      std::string value;
      for (i = eq + 2; line[i] != '"'; ++i) {
        if (line[i] == '\\')
          ++i;
        value += line[i];
      }
      labels[key].insert(value);
      ++i; // closing quote
      if (line[i] == ',')
        ++i;
    }
  }
  return out;
}

/// The names a query may use: every series with samples, and every family
/// that is not a histogram (a histogram's own name has no series).
std::set<std::string> known_names(const rendered& r) {
  std::set<std::string> out;
  for (auto& [name, labels] : r.series)
    out.insert(name);
  for (auto& [name, type] : r.types)
    if (type != "histogram")
      out.insert(name);
  return out;
}

// -- PromQL, as far as the dashboard needs it
// ---------------------------------------------

/// Labels Prometheus attaches to every series at scrape time.
const std::set<std::string> target_labels = {"instance", "job"};

/// The arguments of the call whose '(' is at `open`, split at the top-level
/// commas (quotes, braces and nested parentheses respected).
std::vector<std::string> call_arguments(const std::string& expr, std::size_t open) {
  std::vector<std::string> args(1);
  int depth = 0;
  for (auto i = open + 1; i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '"') {
      auto close = i + 1;
      while (close < expr.size() && expr[close] != '"')
        close += expr[close] == '\\' ? 2 : 1;
      args.back() += expr.substr(i, close - i + 1);
      i = close;
      continue;
    }
    if (depth == 0 && c == ')')
      break;
    if (depth == 0 && c == ',') {
      args.emplace_back();
      continue;
    }
    if (c == '(' || c == '{')
      ++depth;
    if (c == ')' || c == '}')
      --depth;
    args.back() += c;
  }
  return args;
}

/// A string literal argument without its quotes and blanks.
std::string literal(const std::string& arg) {
  auto first = arg.find('"');
  auto last = arg.rfind('"');
  return first == std::string::npos || last == first
             ? std::string{}
             : arg.substr(first + 1, last - first - 1);
}

struct matcher {
  std::string label;
  std::string op;
  std::string value;
};

/// The matchers of the selector that starts at `open` ('{').
std::vector<matcher> selector(const std::string& expr, std::size_t open) {
  std::vector<matcher> out;
  auto i = open + 1;
  auto skip = [&] {
    while (i < expr.size() &&
           (std::isspace(static_cast<unsigned char>(expr[i])) || expr[i] == ','))
      ++i;
  };
  for (skip(); i < expr.size() && expr[i] != '}'; skip()) {
    matcher m;
    while (i < expr.size() &&
           (std::isalnum(static_cast<unsigned char>(expr[i])) || expr[i] == '_'))
      m.label += expr[i++];
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i])))
      ++i;
    while (i < expr.size() && (expr[i] == '=' || expr[i] == '!' || expr[i] == '~'))
      m.op += expr[i++];
    while (i < expr.size() && expr[i] != '"')
      ++i;
    for (++i; i < expr.size() && expr[i] != '"'; ++i) {
      if (expr[i] == '\\')
        ++i;
      m.value += expr[i];
    }
    ++i;
    out.push_back(m);
  }
  return out;
}

/// The problems of one query (an expr or a variable's query) of panel
/// `where`: unknown metric names, labels no family of the query has, label
/// values no sample has. One line each.
std::string query_errors(const std::string& where, const std::string& expr,
                         const rendered& r) {
  std::string errors;
  auto error = [&](const std::string& what) { errors += where + ": " + what + "\n"; };
  auto names = known_names(r);
  auto labels_of = [&](const std::string& name) {
    std::set<std::string> out;
    if (auto i = r.series.find(name); i != r.series.end())
      for (auto& [label, values] : i->second)
        out.insert(label);
    return out;
  };
  // Metric names, with their selectors.
  std::set<std::string> used_labels = target_labels;
  static const std::regex name_re("\\b((?:libp2p_rcmgr|rcmgr)_[a-z_]+)");
  for (std::sregex_iterator it(expr.begin(), expr.end(), name_re), end; it != end; ++it) {
    auto name = (*it)[1].str();
    if (names.count(name) == 0) {
      error("unknown metric " + name);
      continue;
    }
    auto labels = labels_of(name);
    used_labels.insert(labels.begin(), labels.end());
    auto next = expr.find_first_not_of(" ", it->position(1) + name.size());
    if (next == std::string::npos || expr[next] != '{')
      continue;
    for (auto& m : selector(expr, next)) {
      if (target_labels.count(m.label) != 0)
        continue;
      if (labels.count(m.label) == 0) {
        error("unknown label " + m.label + " of " + name);
        continue;
      }
      auto& values = r.series.at(name).at(m.label);
      if (m.op == "=" && m.value.find('$') == std::string::npos &&
          values.count(m.value) == 0)
        error("no sample of " + name + " has " + m.label + "=\"" + m.value + "\"");
    }
  }
  // Labels made by label_join / label_replace, and the labels they read.
  static const std::regex call_re("\\blabel_(join|replace)\\s*\\(");
  std::set<std::string> made;
  for (std::sregex_iterator it(expr.begin(), expr.end(), call_re), end; it != end; ++it) {
    auto args = call_arguments(expr, it->position(0) + it->length(0) - 1);
    bool join = (*it)[1] == "join";
    if (args.size() < (join ? 4u : 5u)) {
      error("label_" + (*it)[1].str() + " with too few arguments");
      continue;
    }
    made.insert(literal(args[1]));
    for (std::size_t a = 3; a < (join ? args.size() : 4u); ++a)
      if (used_labels.count(literal(args[a])) == 0)
        error("unknown label " + literal(args[a]) + " in label_" + (*it)[1].str());
  }
  // Grouping and matching labels.
  static const std::regex group_re(
      "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^()]*)\\)");
  for (std::sregex_iterator it(expr.begin(), expr.end(), group_re), end; it != end;
       ++it) {
    std::istringstream list((*it)[2].str());
    std::string label;
    while (std::getline(list, label, ',')) {
      label.erase(0, label.find_first_not_of(" "));
      label.erase(label.find_last_not_of(" ") + 1);
      if (!label.empty() && used_labels.count(label) == 0 && made.count(label) == 0)
        error("unknown label " + label + " in " + (*it)[1].str() + " (...)");
    }
  }
  // label_values(metric, label) of a template variable.
  static const std::regex values_re(
      "label_values\\(\\s*([a-z_]+)\\s*,\\s*([a-z_]+)\\s*\\)");
  for (std::sregex_iterator it(expr.begin(), expr.end(), values_re), end; it != end; ++it)
    if (target_labels.count((*it)[2]) == 0 && labels_of((*it)[1]).count((*it)[2]) == 0)
      error("unknown label " + (*it)[2].str() + " in label_values");
  return errors;
}

bool is_int(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer();
}

bool is_text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() &&
         !j[key].get<std::string>().empty();
}

/// Every problem of the dashboard `dash` against the text `r`, one line each;
/// empty when there is none.
std::string dashboard_errors(const json& dash, const rendered& r) {
  std::string errors;
  if (!is_text(dash, "title"))
    errors += "dashboard: no title\n";
  if (!is_text(dash, "uid"))
    errors += "dashboard: no uid\n";
  if (!is_int(dash, "schemaVersion"))
    errors += "dashboard: no schemaVersion\n";
  bool datasource_variable = false;
  if (auto list = dash.value("/templating/list"_json_pointer, json::array());
      list.is_array())
    for (auto& v : list) {
      if (v.value("type", "") == "datasource" && v.value("query", "") == "prometheus")
        datasource_variable = true;
      if (v.value("type", "") == "query" && v.contains("query")) {
        auto q = v["query"].is_object() ? v["query"].value("query", "")
                                        : v["query"].get<std::string>();
        errors += query_errors("variable " + v.value("name", "?"), q, r);
      }
    }
  if (!datasource_variable)
    errors += "dashboard: no datasource variable of type prometheus\n";
  std::vector<const json*> panels;
  auto collect = [&](const json& list, auto& self) -> void {
    if (!list.is_array())
      return;
    for (auto& p : list) {
      panels.push_back(&p);
      if (p.contains("panels"))
        self(p["panels"], self);
    }
  };
  if (dash.contains("panels"))
    collect(dash["panels"], collect);
  if (panels.empty())
    errors += "dashboard: no panels\n";
  std::set<std::int64_t> ids;
  for (auto* p : panels) {
    auto where = "panel \"" + p->value("title", std::string{}) + "\"";
    if (!is_text(*p, "title"))
      errors += where + ": no title\n";
    if (!is_int(*p, "id"))
      errors += where + ": no id\n";
    else if (!ids.insert((*p)["id"].get<std::int64_t>()).second)
      errors += where + ": id " + std::to_string((*p)["id"].get<std::int64_t>()) +
                " used twice\n";
    const json none;
    auto& grid = p->contains("gridPos") ? (*p)["gridPos"] : none;
    if (!is_int(grid, "h") || !is_int(grid, "w") || !is_int(grid, "x") ||
        !is_int(grid, "y"))
      errors += where + ": no gridPos\n";
    if (p->value("type", "") == "row")
      continue;
    if (p->value("/datasource/uid"_json_pointer, "") != "${DS_PROMETHEUS}")
      errors += where + ": datasource is not ${DS_PROMETHEUS}\n";
    auto& targets = p->contains("targets") ? (*p)["targets"] : none;
    if (!targets.is_array() || targets.empty()) {
      errors += where + ": no targets\n";
      continue;
    }
    for (auto& t : targets) {
      if (!is_text(t, "expr")) {
        errors += where + ": a target without expr\n";
        continue;
      }
      errors += query_errors(where, t["expr"].get<std::string>(), r);
    }
  }
  return errors;
}

// -- a state with every part present
// --------------------------------------------------------

json usage(std::uint64_t n) {
  return json{{"conns_inbound", n},
              {"conns_outbound", n},
              {"streams_inbound", n},
              {"streams_outbound", n},
              {"fd", n},
              {"memory", n * 1024}};
}

json limits(std::uint64_t n) {
  return json{{"conns", 2 * n},   {"conns_inbound", n},   {"conns_outbound", n},
              {"streams", 4 * n}, {"streams_inbound", n}, {"streams_outbound", n},
              {"fd", n},          {"memory", "unlimited"}};
}

json histogram(std::vector<std::uint64_t> bounds) {
  std::vector<std::uint64_t> counts(bounds.size(), 1);
  return json{{"bounds", bounds},
              {"counts", counts},
              {"count", bounds.size() + 1},
              {"sum", 1 << 20}};
}

json full_state() {
  std::vector<std::uint64_t> count_bounds{1, 2,  3,  4,  5,  6,   7,  8,
                                          9, 10, 16, 32, 64, 128, 256};
  std::vector<std::uint64_t> memory_bounds{
      1ULL << 10,   4ULL << 10,   32ULL << 10, 1ULL << 20, 32ULL << 20,
      256ULL << 20, 512ULL << 20, 1ULL << 30,  2ULL << 30, 4ULL << 30};
  json scopes{{"protocols", {{"/echo/1", {{"usage", usage(1)}, {"limits", limits(4)}}}}},
              {"blocked",
               json::array({{{"scope", "transient"},
                             {"resource", "conns_inbound"},
                             {"dir", "inbound"},
                             {"count", 2}},
                            {{"scope", "peer"}, {"resource", "memory"}, {"count", 1}}})},
              {"would_block", json::array({{{"scope", "protocol"},
                                            {"resource", "streams_outbound"},
                                            {"dir", "outbound"},
                                            {"count", 3}}})},
              {"class_limits", json::object()},
              {"histograms",
               {{"peer_conns_inbound", histogram(count_bounds)},
                {"peer_conns_outbound", histogram(count_bounds)},
                {"peer_streams_inbound", histogram(count_bounds)},
                {"peer_streams_outbound", histogram(count_bounds)},
                {"peer_memory", histogram(memory_bounds)},
                {"conn_memory", histogram(memory_bounds)}}}};
  for (auto scope :
       {"system", "transient", "allowlisted_system", "allowlisted_transient"})
    scopes[scope] = {{"usage", usage(2)}, {"limits", limits(8)}};
  for (auto c :
       {"peer", "protocol", "protocol_peer", "service", "service_peer", "conn", "stream"})
    scopes["class_limits"][c] = limits(3);
  json config;
  for (auto kind : {"pending_inbound", "pending_outbound", "established_inbound",
                    "established_outbound", "established_per_peer", "established_total"})
    config[std::string("max_") + kind] = 16;
  json denials{
      {"connection_limit",
       {{"total", 2}, {"by_kind", {{"pending_inbound", 1}, {"established_total", 1}}}}},
      {"scope_limit", 3},
      {"memory_limit", 1}};
  return json{
      {"scopes", scopes},
      {"limits",
       {{"denials", denials},
        {"would_deny", denials},
        {"config", config},
        {"blocked_peers", 1}}},
      {"connections",
       {{"pending", {{"inbound", 1}, {"outbound", 0}}},
        {"established", {{"inbound", 3}, {"outbound", 2}}},
        {"bypassed", 1},
        {"per_peer", {{"p1", 2}, {"p2", 3}}}}},
      {"rate_limits",
       {{"protocols",
         {{"/echo/1",
           {{"allowed", 7},
            {"denied", {{"total", 1}, {"per_peer", 2}}},
            {"live_buckets", 3},
            {"evictions", 1},
            {"retry_after_ms",
             {{"bounds", {1, 10}}, {"counts", {1, 1}}, {"count", 2}, {"sum", 8}}}}}}},
        {"unlimited_allowed", 9}}},
      {"memory",
       {{"last_sample", {{"rss", 1000}, {"total", 8000}, {"at_ms", 5}}},
        {"age_ms", 250},
        {"effective_max_bytes", 4000},
        {"pressure", 0.25},
        {"stale", false},
        {"hysteresis_active", false},
        {"stale_admits", 1},
        {"stale_denials", 2},
        {"samples", 30},
        {"skipped_reads", 0}}},
      {"watcher",
       {{"watched", 5},
        {"paused", 1},
        {"pruned", 2},
        {"pauses", 3},
        {"blocks", 1},
        {"closed_by_reason", {{"idle", 1}, {"max_lifetime", 2}}}}},
      {"anomalies", {{"unknown_connection", 2}}},
      {"ip_limits",
       {{"connections", 3},
        {"counts",
         json::array({{{"prefix", "1.2.3.4/32"}, {"conns", 2}, {"limit", 8}},
                      {{"prefix", "::1/128"}, {"conns", 1}, {"limit", "unlimited"}}})},
        {"denials", {{"ip_limit", {{"ipv4/32", 4}}}, {"attempt_rate", {{"ipv6/64", 2}}}}},
        {"rate_buckets",
         {{"live", 1}, {"allowed", 6}, {"denied", 2}, {"evictions", 1}}}}},
      {"missing", json::array({"socket_watcher"})}};
}

json load_dashboard() {
  std::ifstream in(RCMGR_SOURCE_DIR "/tools/grafana/caf-rcmgr.json");
  REQUIRE(in.good());
  return json::parse(in);
}

} // namespace

TEST_CASE("the full state gives every family samples") {
  auto r = parse_text(metrics_text(full_state()));
  std::string empty;
  for (auto& [name, type] : r.types) {
    bool any = type == "histogram" ? r.series.count(name + "_bucket") != 0
                                   : r.series.count(name) != 0;
    if (!any)
      empty += name + "\n";
  }
  CHECK(r.types.size() == 55);
  CHECK(empty == "");
}

TEST_CASE("the dashboard queries only series and labels /metrics has") {
  auto dash = load_dashboard();
  auto r = parse_text(metrics_text(full_state()));
  CHECK(dash["title"] == "caf-rcmgr");
  CHECK(dash["uid"] == "caf-rcmgr");
  CHECK(dashboard_errors(dash, r) == "");
}

TEST_CASE("the check names the panel and what it does not know") {
  auto r = parse_text(metrics_text(full_state()));
  json dash{{"title", "t"},
            {"uid", "u"},
            {"schemaVersion", 38},
            {"templating",
             {{"list",
               json::array({{{"type", "datasource"}, {"query", "prometheus"}},
                            {{"type", "query"},
                             {"name", "instance"},
                             {"query", "label_values(rcmgr_conections, instance)"}}})}}},
            {"panels", json::array()}};
  auto add = [&](int id, const std::string& title, const std::string& expr) {
    dash["panels"].push_back({{"id", id},
                              {"title", title},
                              {"type", "timeseries"},
                              {"datasource", {{"uid", "${DS_PROMETHEUS}"}}},
                              {"gridPos", {{"h", 8}, {"w", 12}, {"x", 0}, {"y", id}}},
                              {"targets", json::array({{{"expr", expr}}})}});
  };
  add(1, "good",
      "100 * label_join(rcmgr_connections{instance=~\"$instance\"}, \"kind\", \"_\", "
      "\"state\", \"dir\") / on (instance, kind) rcmgr_connection_limit");
  add(2, "misspelled", "rate(rcmgr_denial_total[5m])");
  add(3, "histogram name", "libp2p_rcmgr_peer_memory");
  add(4, "bad label", "sum by (code, rule) (rcmgr_denials_total{scope=\"x\"})");
  add(5, "bad value", "libp2p_rcmgr_limit{scope=\"sytem\", resource=\"memory\"}");
  add(6, "bad join",
      "label_join(rcmgr_connections, \"kind\", \"_\", \"state\", \"kind2\")");
  add(6, "", "");
  dash["panels"].push_back({{"id", 7}, {"title", "no targets"}, {"type", "stat"}});
  CHECK(dashboard_errors(dash, r) ==
        "variable instance: unknown metric rcmgr_conections\n"
        "panel \"misspelled\": unknown metric rcmgr_denial_total\n"
        "panel \"histogram name\": unknown metric libp2p_rcmgr_peer_memory\n"
        "panel \"bad label\": unknown label scope of rcmgr_denials_total\n"
        "panel \"bad label\": unknown label rule in by (...)\n"
        "panel \"bad value\": no sample of libp2p_rcmgr_limit has scope=\"sytem\"\n"
        "panel \"bad join\": unknown label kind2 in label_join\n"
        "panel \"\": no title\n"
        "panel \"\": id 6 used twice\n"
        "panel \"\": a target without expr\n"
        "panel \"no targets\": no gridPos\n"
        "panel \"no targets\": datasource is not ${DS_PROMETHEUS}\n"
        "panel \"no targets\": no targets\n");
}
