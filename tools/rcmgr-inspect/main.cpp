// rcmgr-inspect [resources [--min-used-percent=N]] [--json] [--timeout-ms=N]
//               [--tls-cert=PEM --tls-key=PEM --tls-ca=PEM] HOST:PORT...
// rcmgr-inspect --apply=FILE [--timeout-ms=N] [--tls-...] HOST:PORT...
//
// Fetches each node's state dump over CAF's middleman (the read-only actor a
// node publishes on its inspect port; its control port answers too) and
// prints a compact table per node, and with several nodes a fleet line that
// sums their connections and denials; or with --json the dumps merged under
// their endpoints. `resources` shows instead each scope's limits beside its
// usage (actors/dump/resources_view), only those at N percent of their limit
// or more with --min-used-percent.
//
// --apply sends the config file to each node's control port and prints one
// line per node: `applied`, `rejected: <why, with the JSON path>` (the node
// keeps its config) or `unreachable: <why>`.
//
// With --tls-cert/--tls-key/--tls-ca it speaks TLS: its certificate must
// chain to the CA the node trusts for that port, the node's to --tls-ca.
// An unreachable node, or one whose dump is malformed, is reported and does
// not stop the others; the exit code is 1 if any was (or was not applied).
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fstream>
#include <set>
#include <sstream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/dump/resources_view.hpp"
#include "messages/json.hpp"
#include "messages/type_registry.hpp"
#include "tools/common/tls_files.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

int usage(const std::string& why) {
  std::cerr << "rcmgr-inspect: " << why << "\n"
            << "usage: rcmgr-inspect [resources [--min-used-percent=N]] [--json] "
               "[--timeout-ms=N] [TLS] HOST:PORT...\n"
            << "       rcmgr-inspect --apply=FILE [--timeout-ms=N] [TLS] HOST:PORT...\n"
            << "  resources            each scope's limits and usage (needs \"scopes\" "
               "in the node's config)\n"
            << "  --min-used-percent=N only limits at N % (0 to 100) of their value or "
               "more\n"
            << "  --apply=FILE         apply the config (JSON) through each node's "
               "control port\n"
            << "  TLS: --tls-cert=PEM --tls-key=PEM --tls-ca=PEM   this client's "
               "certificate and key, the CA of the nodes' certificates\n";
  return 2;
}

struct endpoint {
  std::string text;
  std::string host;
  std::uint16_t port = 0;
};

bool parse_endpoint(const std::string& s, endpoint& out) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return false;
  auto port_text = s.substr(colon + 1);
  if (!std::all_of(port_text.begin(), port_text.end(), ::isdigit) || port_text.size() > 5)
    return false;
  auto port = std::stoul(port_text);
  if (port == 0 || port > 65535)
    return false;
  out.text = s;
  out.host = s.substr(0, colon);
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

std::string number(const json& j) {
  if (j.is_null())
    return "-";
  if (j.is_number_float()) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(3) << j.get<double>();
    return os.str();
  }
  return dump_text(j);
}

void print_table(const std::string& name, const json& d) {
  std::cout << "== " << name << " ==\n";
  auto& c = d["connections"];
  if (c.is_object()) {
    std::cout << "connections  total " << number(c["total"]) << " | pending in "
              << number(c["pending"]["inbound"]) << " out "
              << number(c["pending"]["outbound"]) << " | established in "
              << number(c["established"]["inbound"]) << " out "
              << number(c["established"]["outbound"]) << " | bypassed "
              << number(c["bypassed"]) << "\n";
    std::vector<std::pair<std::uint64_t, std::string>> peers;
    for (auto& [peer, pc] : c["per_peer"].items())
      peers.emplace_back(pc.value("established", std::uint64_t{0}) +
                             pc.value("pending", std::uint64_t{0}),
                         peer);
    std::sort(peers.rbegin(), peers.rend());
    std::cout << "top peers   ";
    if (peers.empty())
      std::cout << " -";
    for (std::size_t i = 0; i < peers.size() && i < 5; ++i)
      std::cout << " " << peers[i].second << "=" << peers[i].first;
    std::cout << "\n";
  }
  auto& l = d["limits"];
  if (l.is_object()) {
    std::cout << "limits      ";
    if (l["config"].empty())
      std::cout << " none";
    for (auto& [k, v] : l["config"].items())
      std::cout << " " << k << "=" << dump_text(v);
    std::cout << "\ndenials     ";
    if (l["denials"].empty())
      std::cout << " none";
    for (auto& [code, v] : l["denials"].items()) {
      if (v.is_object()) {
        std::cout << " " << code << "=" << number(v["total"]) << " (";
        bool first = true;
        for (auto& [kind, n] : v["by_kind"].items()) {
          std::cout << (first ? "" : ", ") << kind << " " << dump_text(n);
          first = false;
        }
        std::cout << ")";
      } else {
        std::cout << " " << code << "=" << dump_text(v);
      }
    }
    std::cout << "\n";
  }
  auto& m = d["memory"];
  if (m.is_object()) {
    auto rss = m["last_sample"].is_object() ? m["last_sample"]["rss"] : json(nullptr);
    std::cout << "memory       rss " << number(rss) << " | max "
              << number(m["effective_max_bytes"]) << " (" << m.value("max_source", "none")
              << ") | pressure " << number(m["pressure"]) << " | age_ms "
              << number(m["age_ms"]) << "\n";
  }
  if (!d["missing"].empty())
    std::cout << "missing      " << dump_text(d["missing"]) << "\n";
}

/// The `resources` view of one dump: the table (or with --json the rows),
/// or an error text.
struct resources_view {
  std::string table;
  json rows = json::array();
  std::string error;
};

resources_view view_resources(const json& dump, std::optional<double> min_percent) {
  resources_view out;
  auto part = dump.find("scopes");
  if (part == dump.end()) {
    out.table = "no scopes configured\n";
    return out;
  }
  auto rows = resource_rows(*part);
  if (!rows) {
    out.error = "malformed scopes part at /scopes" + rows.error().text();
    return out;
  }
  auto shown = min_percent ? rows_at_least(std::move(*rows), *min_percent) : *rows;
  out.table = render_resources(shown);
  for (auto& r : shown)
    out.rows.push_back({{"scope", r.scope},
                        {"limit_name", r.limit_name},
                        {"limit", r.limit ? json(*r.limit) : json("unlimited")},
                        {"usage", r.usage},
                        {"percent", r.percent ? json(*r.percent) : json(nullptr)}});
  return out;
}

/// Adds what a node's dump counts to the fleet's sums.
struct fleet_sums {
  std::size_t nodes_read = 0;
  std::size_t nodes_failed = 0;
  std::uint64_t connections = 0;
  std::uint64_t denials = 0;

  void add(const json& d) {
    ++nodes_read;
    auto& c = d["connections"];
    if (c.is_object() && c["total"].is_number_unsigned())
      connections += c["total"].get<std::uint64_t>();
    auto& l = d["limits"];
    if (!l.is_object() || !l["denials"].is_object())
      return;
    for (auto& [code, v] : l["denials"].items()) {
      if (v.is_object() && v["total"].is_number_unsigned())
        denials += v["total"].get<std::uint64_t>();
      else if (v.is_number_unsigned())
        denials += v.get<std::uint64_t>();
    }
  }
};

struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
  bool any() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

/// All three flags or none; then the files load (tools/common/tls_files.hpp).
std::string check_tls_files(const tls_files& tls) {
  if (tls.cert.empty() || tls.key.empty() || tls.ca.empty())
    return "TLS needs all of --tls-cert, --tls-key and --tls-ca";
  return tls::check_files(tls.cert, tls.key, {{"--tls-ca", &tls.ca}});
}

/// Connects to the actor published at `ep` and checks that it answers
/// `Handle`'s messages. Through the middleman actor rather than
/// remote_actor(), so that a handshake that never completes (a TLS port
/// spoken to in plain TCP, a peer that stalls) ends at the deadline.
template <class Handle>
caf::expected<Handle> connect(caf::actor_system& sys, caf::scoped_actor& self,
                              const endpoint& ep, bool tls,
                              std::chrono::milliseconds timeout) {
  auto mm = tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  caf::expected<Handle> out{caf::sec::cannot_connect_to_node};
  self->request(mm, timeout, caf::connect_atom::value, ep.host, ep.port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>& offered) {
            auto wanted = sys.message_types<Handle>();
            if (!ptr)
              out = caf::make_error(caf::sec::no_actor_published_at_port);
            else if (!std::includes(offered.begin(), offered.end(), wanted.begin(),
                                    wanted.end()))
              out = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
            else
              out = caf::actor_cast<Handle>(std::move(ptr));
          },
          [&](caf::error& e) { out = std::move(e); });
  return out;
}

/// One node's answer to --apply, as the line printed for it.
std::string apply_config(caf::actor_system& sys, caf::scoped_actor& self,
                         const endpoint& ep, bool tls, std::chrono::milliseconds timeout,
                         const std::string& text) {
  auto handle = connect<control_actor>(sys, self, ep, tls, timeout);
  if (!handle) {
    if (handle.error() == caf::sec::unexpected_actor_messaging_interface)
      return "unreachable: the endpoint takes no control messages (an inspect port?)";
    return "unreachable: " + sys.render(handle.error());
  }
  std::string line;
  self->request(*handle, timeout, config_atom::value, text)
      .receive(
          [&](const verdict& v) {
            line = v.kind == verdict_kind::ok ? "applied"
                   : v.kind == verdict_kind::error
                       ? "rejected: " + v.error
                       : "rejected: unexpected verdict " + dump_text(to_json(v));
          },
          [&](const caf::error& e) { line = "unreachable: " + sys.render(e); });
  return line;
}

} // namespace

int main(int argc, char** argv) {
  bool as_json = false;
  bool resources = false;
  std::optional<double> min_percent;
  long timeout_ms = 5000;
  std::vector<endpoint> endpoints;
  tls_files tls;
  std::string apply_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "resources" && i == 1) {
      resources = true;
    } else if (arg.rfind("--min-used-percent=", 0) == 0) {
      auto v = arg.substr(19);
      if (!resources)
        return usage("--min-used-percent belongs to the resources view");
      if (v.empty() || v.size() > 3 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
          std::stoi(v) > 100)
        return usage("--min-used-percent takes a whole number from 0 to 100");
      min_percent = std::stoi(v);
    } else if (arg == "--json") {
      as_json = true;
    } else if (arg.rfind("--timeout-ms=", 0) == 0) {
      auto v = arg.substr(13);
      if (v.empty() || v.size() > 7 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
          std::stol(v) == 0)
        return usage("--timeout-ms takes a positive number of milliseconds");
      timeout_ms = std::stol(v);
    } else if (arg.rfind("--tls-cert=", 0) == 0) {
      tls.cert = arg.substr(11);
    } else if (arg.rfind("--tls-key=", 0) == 0) {
      tls.key = arg.substr(10);
    } else if (arg.rfind("--tls-ca=", 0) == 0) {
      tls.ca = arg.substr(9);
    } else if (arg.rfind("--apply=", 0) == 0) {
      apply_file = arg.substr(8);
      if (apply_file.empty())
        return usage("--apply takes a config file");
    } else if (arg == "--help" || arg == "-h") {
      usage("reads running nodes' state dumps over CAF's middleman");
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      return usage("unknown flag '" + arg + "'");
    } else {
      endpoint ep;
      if (!parse_endpoint(arg, ep))
        return usage("'" + arg + "' is not HOST:PORT");
      endpoints.push_back(ep);
    }
  }
  if (endpoints.empty())
    return usage("no endpoint given");
  if (!apply_file.empty() && (resources || as_json))
    return usage("--apply takes neither resources nor --json");
  if (tls.any()) {
    if (auto why = check_tls_files(tls); !why.empty())
      return usage(why);
  }
  std::string apply_text;
  if (!apply_file.empty()) {
    std::ifstream in{apply_file};
    if (!in)
      return usage("cannot read --apply file '" + apply_file + "'");
    std::stringstream buf;
    buf << in.rdbuf();
    apply_text = buf.str();
  }

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  if (tls.any()) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.cert;
    cfg.openssl_key = tls.key;
    cfg.openssl_cafile = tls.ca;
  }
  add_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto timeout = std::chrono::milliseconds(timeout_ms);
  if (!apply_file.empty()) {
    bool all_applied = true;
    for (auto& ep : endpoints) {
      auto line = apply_config(sys, self, ep, tls.any(), timeout, apply_text);
      all_applied = all_applied && line == "applied";
      std::cout << ep.text << ": " << line << std::endl;
    }
    return all_applied ? 0 : 1;
  }
  json merged = json::object();
  fleet_sums fleet;
  bool all_ok = true;
  for (auto& ep : endpoints) {
    json result;
    auto handle = connect<state_dump_actor>(sys, self, ep, tls.any(), timeout);
    if (!handle) {
      result = {{"error", "unreachable: " + sys.render(handle.error())}};
    } else {
      self->request(*handle, timeout, dump_atom::value)
          .receive(
              [&](const std::string& text) {
                result = json::parse(text, nullptr, false);
                if (!result.is_object())
                  result = {{"error", "the node answered something that is not a JSON "
                                      "object"}};
              },
              [&](const caf::error& e) {
                result = {{"error", sys.render(e)}};
              });
    }
    if (result.is_object() && !result.contains("error"))
      fleet.add(result);
    else
      ++fleet.nodes_failed;
    if (resources && !result.contains("error")) {
      auto view = view_resources(result, min_percent);
      if (!view.error.empty())
        result = {{"error", view.error}};
      else if (as_json)
        result = view.rows;
      else
        result = {{"table", view.table}};
    }
    if (result.is_object() && result.contains("error"))
      all_ok = false;
    if (as_json) {
      merged[ep.text] = result;
    } else if (result.contains("error")) {
      std::cout << "== " << ep.text << " ==\nerror        "
                << result["error"].get<std::string>() << "\n";
    } else if (resources) {
      std::cout << "== " << ep.text << " ==\n" << result["table"].get<std::string>();
    } else {
      print_table(ep.text, result);
    }
  }
  if (as_json)
    std::cout << merged.dump(2) << "\n";
  else if (!resources && endpoints.size() > 1)
    std::cout << "fleet        " << fleet.nodes_read << " of " << endpoints.size()
              << " nodes read | connections " << fleet.connections << " | denials "
              << fleet.denials << "\n";
  return all_ok ? 0 : 1;
}
