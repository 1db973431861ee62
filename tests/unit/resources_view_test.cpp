// rcmgr-inspect's `resources` view (actors/dump/resources_view.hpp), read
// from the scopes part the scope graph writes and from malformed parts.
#include <doctest/doctest.h>

#include "actors/dump/resources_view.hpp"
#include "actors/gate/scopes/resource_scopes.hpp"
#include "actors/gate/scopes/scopes_json.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

scope_limits limits(std::uint64_t conns, std::uint64_t streams, std::uint64_t memory) {
  // streams, in, out, conns, in, out, fd, memory
  return scope_limits{streams, streams, streams,         conns,
                      conns,   conns,   scope_unlimited, memory};
}

/// A graph with one established inbound connection of peer "A" and one
/// inbound stream of A on protocol "/p" holding 1024 bytes. The allowlisted
/// transient scope blocks every connection.
json busy_scopes() {
  scope_limit_config c;
  c.system = limits(10, 100, 8192);
  c.transient = limits(2, 4, 4096);
  c.allowlisted_system = limits(1, 1, 1);
  c.allowlisted_transient = limits(0, 1, 1);
  c.peer_default = limits(4, 8, 4096);
  c.protocol_default = limits(scope_unlimited, 2, 2048);
  c.protocol_peer_default = limits(scope_unlimited, 1, 1024);
  c.service_default = c.service_peer_default = limits(1, 1, 1);
  c.conn = limits(1, 0, 1024);
  c.stream = limits(0, 1, 1024);
  resource_scopes s{c, {8ull << 30, 16384, "config"}};
  REQUIRE(s.establish_conn(1, "A", direction::inbound, false, 0).allowed());
  REQUIRE(s.open_stream(7, "A", direction::inbound, 0, 1).allowed());
  REQUIRE(s.set_stream_protocol(7, "/p").allowed());
  REQUIRE(s.reserve_memory({holder_ref::kind_t::stream, 7}, 1024).allowed());
  return to_json(s.stats_at(0, 100));
}

std::vector<resource_row> of_scope(const std::vector<resource_row>& rows,
                                   const std::string& scope) {
  std::vector<resource_row> out;
  for (auto& r : rows)
    if (r.scope == scope)
      out.push_back(r);
  return out;
}

} // namespace

TEST_CASE("every scope of the part gives eight rows, in the dump's order") {
  auto rows = resource_rows(busy_scopes());
  REQUIRE(rows);
  // system, transient, two allowlisted, peer:A, protocol:/p and its peer A.
  CHECK(rows->size() == 7 * 8);
  std::vector<std::string> scopes;
  for (std::size_t i = 0; i < rows->size(); i += 8)
    scopes.push_back((*rows)[i].scope);
  CHECK(scopes == std::vector<std::string>{"system", "transient", "allowlisted_system",
                                           "allowlisted_transient", "peer:A",
                                           "protocol:/p", "protocol:/p.peer:A"});
  auto system = of_scope(*rows, "system");
  CHECK(system == std::vector<resource_row>{
                      {"system", "conns", 10, 1, 10.0},
                      {"system", "conns_inbound", 10, 1, 10.0},
                      {"system", "conns_outbound", 10, 0, 0.0},
                      {"system", "streams", 100, 1, 1.0},
                      {"system", "streams_inbound", 100, 1, 1.0},
                      {"system", "streams_outbound", 100, 0, 0.0},
                      {"system", "fd", std::nullopt, 0, std::nullopt},
                      {"system", "memory", 8192, 1024, 12.5},
                  });
  // Block-all is at its limit whatever the usage.
  CHECK(of_scope(*rows, "allowlisted_transient")[0] ==
        resource_row{"allowlisted_transient", "conns", 0, 0, 100.0});
  CHECK(of_scope(*rows, "transient")[0] == resource_row{"transient", "conns", 2, 0, 0.0});
  CHECK(of_scope(*rows, "protocol:/p.peer:A")[7] ==
        resource_row{"protocol:/p.peer:A", "memory", 1024, 1024, 100.0});
  CHECK(of_scope(*rows, "protocol:/p")[0] ==
        resource_row{"protocol:/p", "conns", std::nullopt, 0, std::nullopt});
}

TEST_CASE("--min-used-percent keeps the rows at or above it") {
  auto rows = resource_rows(busy_scopes());
  REQUIRE(rows);
  auto close = rows_at_least(*rows, 50);
  std::vector<std::string> seen;
  for (auto& r : close)
    seen.push_back(r.scope + " " + r.limit_name);
  CHECK(seen == std::vector<std::string>{
                    "allowlisted_transient conns", "allowlisted_transient conns_inbound",
                    "allowlisted_transient conns_outbound", "protocol:/p streams",
                    "protocol:/p streams_inbound", "protocol:/p memory",
                    "protocol:/p.peer:A streams", "protocol:/p.peer:A streams_inbound",
                    "protocol:/p.peer:A memory"});
  CHECK(rows_at_least(*rows, 100.5).empty());
}

TEST_CASE("the table aligns text left and numbers right") {
  std::vector<resource_row> rows = {{"system", "memory", 8192, 1024, 12.5},
                                    {"peer:A", "fd", std::nullopt, 3, std::nullopt}};
  CHECK(render_resources(rows) == "scope   limit name      limit  usage  percent\n"
                                  "system  memory           8192   1024    12.5%\n"
                                  "peer:A  fd          unlimited      3        -\n");
}

TEST_CASE("a malformed part is an error naming where, never an exception") {
  auto good = busy_scopes();
  CHECK(resource_rows(json::array()).error().text() == ": not an object");
  auto no_system = good;
  no_system.erase("system");
  CHECK(resource_rows(no_system).error().text() == "/system: missing");
  auto bad_count = good;
  bad_count["peers"]["A"]["usage"]["memory"] = -1;
  CHECK(resource_rows(bad_count).error().text() == "/peers/A/usage/memory: not a count");
  auto bad_limit = good;
  bad_limit["protocols"]["/p"]["peers"]["A"]["limits"]["fd"] = "lots";
  CHECK(resource_rows(bad_limit).error().text() ==
        "/protocols/~1p/peers/A/limits/fd: neither a count nor \"unlimited\"");
  auto no_limits = good;
  no_limits["transient"].erase("limits");
  CHECK(resource_rows(no_limits).error().text() == "/transient/limits: not an object");
  auto services = good;
  services["services"] = "none";
  CHECK(resource_rows(services).error().text() == "/services: not an object");
}
