// The Prometheus text of a state dump (actors/dump/metrics_text): exact text
// for small states, escaping, go's bucket bounds, bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <sstream>

#include "actors/dump/metrics_text.hpp"
#include "actors/gate/scopes/usage_histogram.hpp"

using namespace rcmgr;
using json = nlohmann::json;

namespace {

/// The lines of family `name` (HELP, TYPE, samples), as the text has them.
std::string family(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::string out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0)
      inside = line.compare(7, name.size() + 1, name + " ") == 0;
    if (inside)
      out += line + "\n";
  }
  return out;
}

/// The sample lines of family `name`, without HELP and TYPE.
std::string samples(const std::string& text, const std::string& name) {
  std::istringstream in(family(text, name));
  std::string line;
  std::string out;
  while (std::getline(in, line))
    if (line.rfind("#", 0) != 0)
      out += line + "\n";
  return out;
}

json usage(std::uint64_t ci, std::uint64_t co, std::uint64_t si, std::uint64_t so,
           std::uint64_t fd, std::uint64_t mem) {
  return json{{"conns_inbound", ci},
              {"conns_outbound", co},
              {"streams_inbound", si},
              {"streams_outbound", so},
              {"fd", fd},
              {"memory", mem}};
}

json limits(json conns, json memory) {
  return json{{"conns", conns}, {"conns_inbound", 4},   {"conns_outbound", 4},
              {"streams", 16},  {"streams_inbound", 8}, {"streams_outbound", 8},
              {"fd", 4},        {"memory", memory}};
}

json zero_scope() {
  return json{{"usage", usage(0, 0, 0, 0, 0, 0)}, {"limits", limits(8, 1024)}};
}

json histogram(std::vector<std::uint64_t> bounds, std::vector<std::uint64_t> counts,
               std::uint64_t count, std::uint64_t sum) {
  return json{{"bounds", bounds}, {"counts", counts}, {"count", count}, {"sum", sum}};
}

/// A small state: scopes with one protocol, a few denials.
json small_state() {
  json scopes{
      {"system",
       {{"usage", usage(2, 1, 3, 0, 3, 4096)}, {"limits", limits(8, "unlimited")}}},
      {"transient", {{"usage", usage(1, 0, 1, 0, 1, 0)}, {"limits", limits(2, 512)}}},
      {"allowlisted_system", zero_scope()},
      {"allowlisted_transient", zero_scope()},
      {"protocols",
       {{"/echo/1", {{"usage", usage(0, 0, 2, 0, 0, 100)}, {"limits", limits(1, 1)}}}}},
      {"blocked",
       json::array({{{"scope", "transient"},
                     {"resource", "conns_inbound"},
                     {"dir", "inbound"},
                     {"count", 2}},
                    {{"scope", "transient"},
                     {"resource", "conns"},
                     {"dir", "inbound"},
                     {"count", 1}},
                    {{"scope", "peer"}, {"resource", "memory"}, {"count", 5}}})},
      {"class_limits", {{"peer", limits(3, 2048)}}}};
  json state{{"scopes", scopes},
             {"limits",
              {{"denials",
                {{"connection_limit",
                  {{"total", 3},
                   {"by_kind", {{"pending_inbound", 1}, {"established_total", 2}}}}},
                 {"scope_limit", 4}}},
               {"config", {{"max_pending_inbound", 64}}},
               {"blocked_peers", 0}}},
             {"rate_limits",
              {{"protocols",
                {{"/echo/1",
                  {{"allowed", 7},
                   {"denied", {{"total", 1}, {"per_peer", 2}}},
                   {"live_buckets", 3},
                   {"evictions", 0},
                   {"retry_after_ms",
                    {{"bounds", {1, 5, 1000}},
                     {"counts", {0, 2, 0}},
                     {"count", 3},
                     {"sum", 90007}}}}}}},
               {"unlimited_allowed", 9}}},
             {"anomalies", {{"unknown_connection", 2}}},
             {"missing", json::array({"socket_watcher"})}};
  return state;
}

} // namespace

TEST_CASE("go's gauges come from the scopes part, with go's names and labels") {
  auto text = metrics_text(small_state());
  CHECK(family(text, "libp2p_rcmgr_connections") ==
        "# HELP libp2p_rcmgr_connections Number of connections, by scope\n"
        "# TYPE libp2p_rcmgr_connections gauge\n"
        "libp2p_rcmgr_connections{dir=\"inbound\",scope=\"system\"} 2\n"
        "libp2p_rcmgr_connections{dir=\"outbound\",scope=\"system\"} 1\n"
        "libp2p_rcmgr_connections{dir=\"inbound\",scope=\"transient\"} 1\n"
        "libp2p_rcmgr_connections{dir=\"outbound\",scope=\"transient\"} 0\n"
        "libp2p_rcmgr_connections{dir=\"inbound\",scope=\"allowlisted_system\"} 0\n"
        "libp2p_rcmgr_connections{dir=\"outbound\",scope=\"allowlisted_system\"} 0\n"
        "libp2p_rcmgr_connections{dir=\"inbound\",scope=\"allowlisted_transient\"} 0\n"
        "libp2p_rcmgr_connections{dir=\"outbound\",scope=\"allowlisted_transient\"} 0\n");
  CHECK(
      samples(text, "libp2p_rcmgr_streams") ==
      "libp2p_rcmgr_streams{dir=\"inbound\",scope=\"system\",protocol=\"\"} 3\n"
      "libp2p_rcmgr_streams{dir=\"outbound\",scope=\"system\",protocol=\"\"} 0\n"
      "libp2p_rcmgr_streams{dir=\"inbound\",scope=\"transient\",protocol=\"\"} 1\n"
      "libp2p_rcmgr_streams{dir=\"outbound\",scope=\"transient\",protocol=\"\"} 0\n"
      "libp2p_rcmgr_streams{dir=\"inbound\",scope=\"allowlisted_system\",protocol=\"\"} "
      "0\n"
      "libp2p_rcmgr_streams{dir=\"outbound\",scope=\"allowlisted_system\",protocol=\"\"} "
      "0\n"
      "libp2p_rcmgr_streams{dir=\"inbound\",scope=\"allowlisted_transient\",protocol="
      "\"\"} "
      "0\n"
      "libp2p_rcmgr_streams{dir=\"outbound\",scope=\"allowlisted_transient\",protocol="
      "\"\"} "
      "0\n"
      "libp2p_rcmgr_streams{dir=\"inbound\",scope=\"protocol\",protocol=\"/echo/1\"} 2\n"
      "libp2p_rcmgr_streams{dir=\"outbound\",scope=\"protocol\",protocol=\"/echo/1\"} "
      "0\n");
  CHECK(samples(text, "libp2p_rcmgr_memory") ==
        "libp2p_rcmgr_memory{scope=\"system\",protocol=\"\"} 4096\n"
        "libp2p_rcmgr_memory{scope=\"transient\",protocol=\"\"} 0\n"
        "libp2p_rcmgr_memory{scope=\"allowlisted_system\",protocol=\"\"} 0\n"
        "libp2p_rcmgr_memory{scope=\"allowlisted_transient\",protocol=\"\"} 0\n"
        "libp2p_rcmgr_memory{scope=\"protocol\",protocol=\"/echo/1\"} 100\n");
  CHECK(samples(text, "libp2p_rcmgr_fds") ==
        "libp2p_rcmgr_fds{scope=\"system\"} 3\n"
        "libp2p_rcmgr_fds{scope=\"transient\"} 1\n"
        "libp2p_rcmgr_fds{scope=\"allowlisted_system\"} 0\n"
        "libp2p_rcmgr_fds{scope=\"allowlisted_transient\"} 0\n");
}

TEST_CASE("blocked resources sum under go's resource names") {
  auto text = metrics_text(small_state());
  CHECK(samples(text, "libp2p_rcmgr_blocked_resources") ==
        "libp2p_rcmgr_blocked_resources{dir=\"\",scope=\"peer\",resource=\"memory\"} 5\n"
        "libp2p_rcmgr_blocked_resources{dir=\"inbound\",scope=\"transient\","
        "resource=\"connection\"} 3\n");
}

TEST_CASE("limits cover the fixed scopes and every scope class, unlimited as +Inf") {
  auto text = metrics_text(small_state());
  auto s = samples(text, "libp2p_rcmgr_limit");
  CHECK(s.find("libp2p_rcmgr_limit{scope=\"system\",resource=\"memory\"} +Inf\n") !=
        std::string::npos);
  CHECK(s.find("libp2p_rcmgr_limit{scope=\"system\",resource=\"conns\"} 8\n") !=
        std::string::npos);
  CHECK(s.find("libp2p_rcmgr_limit{scope=\"transient\",resource=\"memory\"} 512\n") !=
        std::string::npos);
  CHECK(s.find("libp2p_rcmgr_limit{scope=\"peer\",resource=\"conns\"} 3\n") !=
        std::string::npos);
  CHECK(s.find("libp2p_rcmgr_limit{scope=\"peer\",resource=\"memory\"} 2048\n") !=
        std::string::npos);
  // 4 fixed scopes and one class, 8 limits each.
  CHECK(std::count(s.begin(), s.end(), '\n') == 5 * 8);
}

TEST_CASE("histograms: cumulative buckets with go's bounds; previous_ twins at zero") {
  auto state = small_state();
  state["scopes"]["histograms"] = {
      {"peer_conns_inbound",
       histogram({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 128, 256},
                 {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 5, 19)},
      {"conn_memory",
       histogram({1ULL << 10, 4ULL << 10, 32ULL << 10, 1ULL << 20, 32ULL << 20,
                  256ULL << 20, 512ULL << 20, 1ULL << 30, 2ULL << 30, 4ULL << 30},
                 {1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 3, (5ULL << 30) + 600000 + 10)}};
  auto text = metrics_text(state);
  auto conns = samples(text, "libp2p_rcmgr_peer_connections");
  CHECK(conns == "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"1\"} 2\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"2\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"3\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"4\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"5\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"6\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"7\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"8\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"9\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"10\"} 3\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"16\"} 4\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"32\"} 4\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"64\"} 4\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"128\"} 4\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"256\"} 4\n"
                 "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"+Inf\"} 5\n"
                 "libp2p_rcmgr_peer_connections_sum{dir=\"inbound\"} 19\n"
                 "libp2p_rcmgr_peer_connections_count{dir=\"inbound\"} 5\n");
  auto previous = samples(text, "libp2p_rcmgr_previous_peer_connections");
  CHECK(previous.find("libp2p_rcmgr_previous_peer_connections_bucket{dir=\"inbound\","
                      "le=\"16\"} 0\n") != std::string::npos);
  CHECK(previous.find(
            "libp2p_rcmgr_previous_peer_connections_count{dir=\"inbound\"} 0\n") !=
        std::string::npos);
  CHECK(samples(text, "libp2p_rcmgr_conn_memory") ==
        "libp2p_rcmgr_conn_memory_bucket{le=\"1024\"} 1\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"4096\"} 1\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"32768\"} 1\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"1.048576e+06\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"3.3554432e+07\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"2.68435456e+08\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"5.36870912e+08\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"1.073741824e+09\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"2.147483648e+09\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"4.294967296e+09\"} 2\n"
        "libp2p_rcmgr_conn_memory_bucket{le=\"+Inf\"} 3\n"
        "libp2p_rcmgr_conn_memory_sum 5369309130\n"
        "libp2p_rcmgr_conn_memory_count 3\n");
  // Without data the families are there, without samples.
  CHECK(samples(text, "libp2p_rcmgr_peer_memory") == "");
  CHECK(family(text, "libp2p_rcmgr_peer_memory")
            .find("# TYPE libp2p_rcmgr_peer_memory "
                  "histogram\n") != std::string::npos);
}

TEST_CASE("the project's own families: denials, rate limits, anomalies, missing parts") {
  auto text = metrics_text(small_state());
  CHECK(family(text, "rcmgr_denials_total") ==
        "# HELP rcmgr_denials_total Denials by code and kind (rate_limit: kind is the "
        "bucket, total or per_peer)\n"
        "# TYPE rcmgr_denials_total counter\n"
        "rcmgr_denials_total{code=\"connection_limit\",kind=\"established_total\"} 2\n"
        "rcmgr_denials_total{code=\"connection_limit\",kind=\"pending_inbound\"} 1\n"
        "rcmgr_denials_total{code=\"scope_limit\",kind=\"\"} 4\n"
        "rcmgr_denials_total{code=\"rate_limit\",kind=\"per_peer\"} 2\n"
        "rcmgr_denials_total{code=\"rate_limit\",kind=\"total\"} 1\n");
  CHECK(samples(text, "rcmgr_rate_limit_allowed_total") ==
        "rcmgr_rate_limit_allowed_total{protocol=\"/echo/1\"} 7\n");
  CHECK(samples(text, "rcmgr_rate_limit_denied_total") ==
        "rcmgr_rate_limit_denied_total{protocol=\"/echo/1\",scope=\"per_peer\"} 2\n"
        "rcmgr_rate_limit_denied_total{protocol=\"/echo/1\",scope=\"total\"} 1\n");
  CHECK(samples(text, "rcmgr_rate_limit_unlimited_allowed_total") ==
        "rcmgr_rate_limit_unlimited_allowed_total 9\n");
  // The dump's ms as seconds; the third denial is above every bound.
  CHECK(
      family(text, "rcmgr_rate_limit_retry_after_seconds") ==
      "# HELP rcmgr_rate_limit_retry_after_seconds The retry-after of rate-limit "
      "denials that can succeed later, by rule\n"
      "# TYPE rcmgr_rate_limit_retry_after_seconds histogram\n"
      "rcmgr_rate_limit_retry_after_seconds_bucket{protocol=\"/echo/1\",le=\"0.001\"} 0\n"
      "rcmgr_rate_limit_retry_after_seconds_bucket{protocol=\"/echo/1\",le=\"0.005\"} 2\n"
      "rcmgr_rate_limit_retry_after_seconds_bucket{protocol=\"/echo/1\",le=\"1\"} 2\n"
      "rcmgr_rate_limit_retry_after_seconds_bucket{protocol=\"/echo/1\",le=\"+Inf\"} 3\n"
      "rcmgr_rate_limit_retry_after_seconds_sum{protocol=\"/echo/1\"} 90.007\n"
      "rcmgr_rate_limit_retry_after_seconds_count{protocol=\"/echo/1\"} 3\n");
  CHECK(samples(text, "rcmgr_connection_limit") ==
        "rcmgr_connection_limit{kind=\"pending_inbound\"} 64\n");
  CHECK(samples(text, "rcmgr_anomalies_total") ==
        "rcmgr_anomalies_total{kind=\"unknown_connection\"} 2\n");
  CHECK(samples(text, "rcmgr_dump_missing_parts") ==
        "rcmgr_dump_missing_parts{source=\"socket_watcher\"} 1\n");
  CHECK(samples(text, "rcmgr_would_deny_total") == "");
}

TEST_CASE("would-denials, memory and per-IP families") {
  json state{
      {"limits",
       {{"would_deny",
         {{"memory_limit", 3},
          {"connection_limit", {{"total", 1}, {"by_kind", {{"pending_inbound", 1}}}}}}}}},
      {"memory",
       {{"last_sample", {{"rss", 1000}, {"total", 8000}, {"at_ms", 5}}},
        {"age_ms", 250},
        {"effective_max_bytes", 4000},
        {"pressure", 0.25},
        {"stale", false}}},
      {"ip_limits",
       {{"connections", 3},
        {"counts",
         json::array({{{"prefix", "1.2.3.4/32"}, {"conns", 2}, {"limit", 8}},
                      {{"prefix", "::1/128"}, {"conns", 1}, {"limit", "unlimited"}}})},
        {"denials", {{"ip_limit", {{"ipv4/32", 4}}}, {"attempt_rate", json::object()}}},
        {"rate_buckets",
         {{"live", 1}, {"allowed", 6}, {"denied", 2}, {"evictions", 0}}}}}};
  state["scopes"] = {{"would_block", json::array({{{"scope", "peer"},
                                                   {"resource", "streams_inbound"},
                                                   {"dir", "inbound"},
                                                   {"count", 2}}})}};
  auto text = metrics_text(state);
  CHECK(
      samples(text, "rcmgr_scope_would_block_total") ==
      "rcmgr_scope_would_block_total{dir=\"inbound\",scope=\"peer\",resource=\"stream\"} "
      "2\n");
  CHECK(samples(text, "libp2p_rcmgr_blocked_resources") == "");
  CHECK(samples(text, "rcmgr_would_deny_total") ==
        "rcmgr_would_deny_total{code=\"connection_limit\",kind=\"pending_inbound\"} 1\n"
        "rcmgr_would_deny_total{code=\"memory_limit\",kind=\"\"} 3\n");
  CHECK(samples(text, "rcmgr_memory_process_bytes") ==
        "rcmgr_memory_process_bytes 1000\n");
  CHECK(samples(text, "rcmgr_memory_system_bytes") == "rcmgr_memory_system_bytes 8000\n");
  CHECK(samples(text, "rcmgr_memory_effective_max_bytes") ==
        "rcmgr_memory_effective_max_bytes 4000\n");
  CHECK(samples(text, "rcmgr_memory_pressure_ratio") ==
        "rcmgr_memory_pressure_ratio 0.25\n");
  CHECK(samples(text, "rcmgr_memory_sample_age_seconds") ==
        "rcmgr_memory_sample_age_seconds 0.25\n");
  CHECK(samples(text, "rcmgr_memory_stale") == "rcmgr_memory_stale 0\n");
  CHECK(samples(text, "rcmgr_ip_denials_total") ==
        "rcmgr_ip_denials_total{code=\"ip_limit\",rule=\"ipv4/32\"} 4\n");
  CHECK(samples(text, "rcmgr_ip_connections") ==
        "rcmgr_ip_connections{prefix=\"1.2.3.4/32\"} 2\n"
        "rcmgr_ip_connections{prefix=\"::1/128\"} 1\n");
  CHECK(samples(text, "rcmgr_ip_connection_limit") ==
        "rcmgr_ip_connection_limit{prefix=\"1.2.3.4/32\"} 8\n"
        "rcmgr_ip_connection_limit{prefix=\"::1/128\"} +Inf\n");
  CHECK(samples(text, "rcmgr_ip_tracked_connections") ==
        "rcmgr_ip_tracked_connections 3\n");
  CHECK(samples(text, "rcmgr_attempt_rate_allowed_total") ==
        "rcmgr_attempt_rate_allowed_total 6\n");
  CHECK(samples(text, "rcmgr_attempt_rate_denied_total") ==
        "rcmgr_attempt_rate_denied_total 2\n");
}

TEST_CASE("label values are escaped") {
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(escape_label_value("/echo/1") == "/echo/1");
  json state{{"anomalies", {{"we\"ird\\\n", 1}}}};
  CHECK(samples(metrics_text(state), "rcmgr_anomalies_total") ==
        "rcmgr_anomalies_total{kind=\"we\\\"ird\\\\\\n\"} 1\n");
}

TEST_CASE("bucket bounds print as go's client prints them") {
  CHECK(go_float_text(1) == "1");
  CHECK(go_float_text(256) == "256");
  CHECK(go_float_text(999999) == "999999");
  CHECK(go_float_text(1000000) == "1e+06");
  CHECK(go_float_text(1048576) == "1.048576e+06");
  CHECK(go_float_text(4294967296ULL) == "4.294967296e+09");
  CHECK(go_float_text(10000000000ULL) == "1e+10");
}

TEST_CASE("a malformed or empty state gives every family without samples") {
  for (auto& state : {json(nullptr), json::object(), json::array({1, 2}), json("x"),
                      json{{"scopes", 5},
                           {"limits", {{"denials", "no"}}},
                           {"anomalies", {{"a", "b"}}},
                           {"missing", 3}}}) {
    auto text = metrics_text(state);
    std::istringstream in(text);
    std::string line;
    std::size_t help = 0;
    std::size_t type = 0;
    std::size_t other = 0;
    while (std::getline(in, line)) {
      if (line.rfind("# HELP ", 0) == 0)
        ++help;
      else if (line.rfind("# TYPE ", 0) == 0)
        ++type;
      else
        ++other;
    }
    CHECK(help == 55);
    CHECK(type == 55);
    CHECK(other == 0);
  }
}

TEST_CASE("a histogram observes non-zero values in go's buckets") {
  auto h = usage_histogram::with_bounds(count_bucket_bounds);
  for (std::uint64_t v : {0, 1, 1, 10, 11, 256, 257, 1000})
    h.observe(v);
  CHECK(h.count == 7);
  CHECK(h.sum == 1 + 1 + 10 + 11 + 256 + 257 + 1000);
  CHECK(h.counts[0] == 2);  // <= 1
  CHECK(h.counts[9] == 1);  // 10
  CHECK(h.counts[10] == 1); // 11 in (10, 16]
  CHECK(h.counts[14] == 1); // 256
  auto listed = std::accumulate(h.counts.begin(), h.counts.end(), std::uint64_t{0});
  CHECK(h.count - listed == 2); // 257 and 1000 above every bound
}

TEST_CASE(
    "with a carry, the histograms only grow and their difference is the distribution") {
  std::vector<std::uint64_t> bounds(count_bucket_bounds.begin(),
                                    count_bucket_bounds.end());
  auto state_with = [&](std::vector<std::uint64_t> counts, std::uint64_t count,
                        std::uint64_t sum) {
    json state{{"scopes",
                {{"histograms",
                  {{"peer_conns_inbound", histogram(bounds, counts, count, sum)}}}}}};
    return state;
  };
  auto zeros = std::vector<std::uint64_t>(15, 0);
  // First: 3 peers with 1 connection, 1 with 2 (sum 5).
  auto first = zeros;
  first[0] = 3;
  first[1] = 1;
  // Then: 1 peer with 1, 2 with 2, 1 with 300 (above every bound; sum 305).
  auto second = zeros;
  second[0] = 1;
  second[1] = 2;
  histogram_carry carry;
  metrics_text(state_with(first, 4, 5), &carry);
  auto text = metrics_text(state_with(second, 4, 305), &carry);
  auto added = samples(text, "libp2p_rcmgr_peer_connections");
  auto removed = samples(text, "libp2p_rcmgr_previous_peer_connections");
  // Added: 3 in le=1, 1 + 1 in le=2, 1 above: cumulative 3, 5, ..., 5, then 6.
  CHECK(
      added.find("libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"1\"} 3\n") !=
      std::string::npos);
  CHECK(added.find(
            "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"256\"} 5\n") !=
        std::string::npos);
  CHECK(added.find(
            "libp2p_rcmgr_peer_connections_bucket{dir=\"inbound\",le=\"+Inf\"} 6\n") !=
        std::string::npos);
  CHECK(added.find("libp2p_rcmgr_peer_connections_sum{dir=\"inbound\"} 305\n") !=
        std::string::npos);
  CHECK(added.find("libp2p_rcmgr_peer_connections_count{dir=\"inbound\"} 6\n") !=
        std::string::npos);
  // Removed: 2 from le=1.
  CHECK(removed.find("libp2p_rcmgr_previous_peer_connections_bucket{dir=\"inbound\","
                     "le=\"1\"} 2\n") != std::string::npos);
  CHECK(removed.find("libp2p_rcmgr_previous_peer_connections_bucket{dir=\"inbound\","
                     "le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(removed.find("libp2p_rcmgr_previous_peer_connections_sum{dir=\"inbound\"} 0\n") !=
        std::string::npos);
  CHECK(
      removed.find("libp2p_rcmgr_previous_peer_connections_count{dir=\"inbound\"} 2\n") !=
      std::string::npos);
  // The same state again changes nothing.
  CHECK(metrics_text(state_with(second, 4, 305), &carry) == text);
}
