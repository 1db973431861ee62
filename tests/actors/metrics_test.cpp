// GET /metrics agrees with the dump (DESIGN §6.3): after a random mix of
// connections (opened, established, denied, closed), streams and memory
// reservations through the real gate and tracker, the Prometheus text
// rendered from the joined dump holds exactly the dump's values, and both
// hold what a model of the events says.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include <map>
#include <random>
#include <sstream>

#include "actors/dump/metrics_text.hpp"
#include "actors/dump/state_dump_actor.hpp"
#include "actors/gate/gate_actor.hpp"
#include "actors/gate/scopes/usage_histogram.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

using nlohmann::json;
using series_map = std::map<std::string, std::string>;

/// Every sample line of the text as {"name{labels}": "value"}.
series_map parse_samples(const std::string& text) {
  series_map out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) {
      FAIL_CHECK("not a sample line: " << line);
      continue;
    }
    auto key = line.substr(0, space);
    CHECK_MESSAGE(out.count(key) == 0, "series twice: " << key);
    out[key] = line.substr(space + 1);
  }
  return out;
}

std::string n(std::uint64_t x) {
  return std::to_string(x);
}

struct model_conn {
  bool established = false;
  direction dir = direction::inbound;
  std::string peer;
  std::uint64_t memory = 0;
};

struct model_stream {
  direction dir = direction::inbound;
  std::string peer;
  std::string protocol;
  std::uint64_t memory = 0;
};

/// What the events did, from their verdicts.
struct model {
  std::map<connection_id, model_conn> conns;
  std::map<stream_id, model_stream> streams;
  std::uint64_t scope_denials = 0;
  std::map<std::string, std::uint64_t> limit_denials; // by kind

  std::uint64_t conns_where(bool established, direction dir) const {
    std::uint64_t k = 0;
    for (auto& [id, c] : conns)
      k += c.established == established && c.dir == dir;
    return k;
  }
  std::uint64_t streams_where(direction dir, bool with_protocol) const {
    std::uint64_t k = 0;
    for (auto& [id, s] : streams)
      k += s.dir == dir && (with_protocol || s.protocol.empty());
    return k;
  }
  std::uint64_t memory() const {
    std::uint64_t m = 0;
    for (auto& [id, c] : conns)
      m += c.memory;
    for (auto& [id, s] : streams)
      m += s.memory;
    return m;
  }
};

/// The series a histogram over `values` has, as metrics_text writes them.
series_map histogram_series(const std::string& name, const std::string& dir,
                            const std::vector<std::uint64_t>& bounds,
                            const std::vector<std::uint64_t>& values) {
  series_map out;
  auto labels = [&](const std::string& le) {
    return "{" + (dir.empty() ? "" : "dir=\"" + dir + "\",") + "le=\"" + le + "\"}";
  };
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  for (auto v : values)
    if (v > 0) {
      ++count;
      sum += v;
    }
  for (auto b : bounds) {
    std::uint64_t k = 0;
    for (auto v : values)
      k += v > 0 && v <= b;
    out[name + "_bucket" + labels(go_float_text(b))] = n(k);
  }
  out[name + "_bucket" + labels("+Inf")] = n(count);
  auto plain = dir.empty() ? std::string() : "{dir=\"" + dir + "\"}";
  out[name + "_sum" + plain] = n(sum);
  out[name + "_count" + plain] = n(count);
  return out;
}

/// CHECK, never REQUIRE, in the checks: a test that stops early leaves its
/// actors running and the actor system's destructor waiting for ever. A
/// counter appears once it has counted something, so an absent series
/// stands for 0.
void check_subset(const series_map& expected, const series_map& got) {
  for (auto& [key, value] : expected) {
    auto i = got.find(key);
    auto found = i == got.end() ? std::string("0") : i->second;
    CHECK_MESSAGE(found == value, key << ": " << found << " != " << value);
  }
}

node_config metrics_config() {
  auto doc = json::parse(R"({
    "connection_limits": {"max_established_total": 4, "max_pending_outbound": 2},
    "scopes": {"Transient": {"ConnsInbound": 4, "ConnsOutbound": 3},
               "PeerDefault": {"ConnsInbound": 3, "StreamsInbound": 4, "Memory": 30000},
               "Conn": {"Memory": 12000}, "Stream": {"Memory": 9000},
               "ProtocolDefault": {"Streams": 5}},
    "scopes_scale": {"memory_bytes": 1073741824, "fds": 512}})");
  auto r = parse_config(doc);
  REQUIRE(r);
  return *r;
}

const char* const peers[] = {"P0", "P1", "P2", "P3", "P4", "P5"};
// A protocol whose id needs escaping in a label value.
const char* const protocols[] = {"/echo/1", "/we\"ird\\1"};
const std::uint64_t sizes[] = {100, 1024, 1025, 3000, 8000, 20000};

/// Checks the text against the dump and the model.
/// `carry` and `last` live across the checks of one run, as they do across
/// a node's scrapes.
void check_agreement(const json& doc, const model& m, histogram_carry& carry,
                     series_map& last) {
  auto text = metrics_text(doc, &carry);
  auto got = parse_samples(text);
  auto& scopes = doc["scopes"];
  auto in = direction::inbound;
  auto out = direction::outbound;
  std::uint64_t all_in = m.conns_where(true, in) + m.conns_where(false, in);
  std::uint64_t all_out = m.conns_where(true, out) + m.conns_where(false, out);
  // go's gauges: the model, and the dump's own numbers.
  series_map expected{
      {R"(libp2p_rcmgr_connections{dir="inbound",scope="system"})", n(all_in)},
      {R"(libp2p_rcmgr_connections{dir="outbound",scope="system"})", n(all_out)},
      {R"(libp2p_rcmgr_connections{dir="inbound",scope="transient"})",
       n(m.conns_where(false, in))},
      {R"(libp2p_rcmgr_connections{dir="outbound",scope="transient"})",
       n(m.conns_where(false, out))},
      {R"(libp2p_rcmgr_fds{scope="system"})", n(m.conns.size())},
      {R"(libp2p_rcmgr_fds{scope="transient"})",
       n(m.conns_where(false, in) + m.conns_where(false, out))},
      {R"(libp2p_rcmgr_streams{dir="inbound",scope="system",protocol=""})",
       n(m.streams_where(in, true))},
      {R"(libp2p_rcmgr_streams{dir="outbound",scope="system",protocol=""})",
       n(m.streams_where(out, true))},
      {R"(libp2p_rcmgr_streams{dir="inbound",scope="transient",protocol=""})",
       n(m.streams_where(in, false))},
      {R"(libp2p_rcmgr_memory{scope="system",protocol=""})", n(m.memory())},
      {R"(rcmgr_connections{state="pending",dir="inbound"})",
       n(m.conns_where(false, in))},
      {R"(rcmgr_connections{state="established",dir="inbound"})",
       n(m.conns_where(true, in))},
      {R"(rcmgr_connections{state="established",dir="outbound"})",
       n(m.conns_where(true, out))},
      {R"(rcmgr_denials_total{code="scope_limit",kind=""})", n(m.scope_denials)},
  };
  check_subset(expected, got);
  series_map from_dump{
      {R"(libp2p_rcmgr_connections{dir="inbound",scope="system"})",
       n(scopes["system"]["usage"]["conns_inbound"].get<std::uint64_t>())},
      {R"(libp2p_rcmgr_memory{scope="transient",protocol=""})",
       n(scopes["transient"]["usage"]["memory"].get<std::uint64_t>())},
      {R"(rcmgr_connections{state="pending",dir="outbound"})",
       n(doc["connections"]["pending"]["outbound"].get<std::uint64_t>())},
      {R"(libp2p_rcmgr_limit{scope="peer",resource="memory"})", "30000"},
      {R"(libp2p_rcmgr_limit{scope="conn",resource="memory"})", "12000"},
      {R"(libp2p_rcmgr_limit{scope="transient",resource="conns_inbound"})", "4"},
  };
  check_subset(from_dump, got);
  for (auto& [kind, count] : m.limit_denials)
    check_subset({{R"(rcmgr_denials_total{code="connection_limit",kind=")" + kind + "\"}",
                   n(count)}},
                 got);
  // Blocked resources add up to the scope denials.
  std::uint64_t blocked = 0;
  for (auto& [key, value] : got)
    if (key.rfind("libp2p_rcmgr_blocked_resources{", 0) == 0)
      blocked += std::stoull(value);
  CHECK(blocked == m.scope_denials);
  // Streams and memory per protocol.
  for (auto proto : protocols) {
    std::uint64_t in_streams = 0;
    std::uint64_t memory = 0;
    bool any = false;
    for (auto& [id, s] : m.streams)
      if (s.protocol == proto) {
        any = true;
        in_streams += s.dir == in;
        memory += s.memory;
      }
    if (!any)
      continue;
    auto label = escape_label_value(proto);
    check_subset({{R"(libp2p_rcmgr_streams{dir="inbound",scope="protocol",protocol=")" +
                       label + "\"}",
                   n(in_streams)},
                  {R"(libp2p_rcmgr_memory{scope="protocol",protocol=")" + label + "\"}",
                   n(memory)}},
                 got);
  }
  // The histograms: every peer's and every connection's usage.
  std::map<std::string, std::array<std::uint64_t, 5>> per_peer; // ci, co, si, so, mem
  for (auto& [id, c] : m.conns)
    if (c.established) {
      auto& p = per_peer[c.peer];
      ++p[c.dir == in ? 0 : 1];
      p[4] += c.memory;
    }
  for (auto& [id, s] : m.streams) {
    auto& p = per_peer[s.peer];
    ++p[s.dir == in ? 2 : 3];
    p[4] += s.memory;
  }
  std::vector<std::uint64_t> column[5];
  for (auto& [peer, p] : per_peer)
    for (int i = 0; i < 5; ++i)
      column[i].push_back(p[i]);
  std::vector<std::uint64_t> conn_memory;
  for (auto& [id, c] : m.conns)
    conn_memory.push_back(c.memory);
  std::vector<std::uint64_t> counts(count_bucket_bounds.begin(),
                                    count_bucket_bounds.end());
  std::vector<std::uint64_t> memory(memory_bucket_bounds.begin(),
                                    memory_bucket_bounds.end());
  // Each histogram minus its previous_ twin is the distribution now.
  auto check_histogram = [&](const series_map& expected) {
    for (auto& [key, value] : expected) {
      auto twin =
          "libp2p_rcmgr_previous_" + key.substr(std::string("libp2p_rcmgr_").size());
      if (got.count(key) != 1 || got.count(twin) != 1) {
        FAIL_CHECK("no series " << key << " or " << twin);
        continue;
      }
      CHECK_MESSAGE(std::stoull(got[key]) - std::stoull(got[twin]) == std::stoull(value),
                    key << ": " << got[key] << " - " << got[twin] << " != " << value);
    }
  };
  check_histogram(
      histogram_series("libp2p_rcmgr_peer_connections", "inbound", counts, column[0]));
  check_histogram(
      histogram_series("libp2p_rcmgr_peer_connections", "outbound", counts, column[1]));
  check_histogram(
      histogram_series("libp2p_rcmgr_peer_streams", "inbound", counts, column[2]));
  check_histogram(
      histogram_series("libp2p_rcmgr_peer_streams", "outbound", counts, column[3]));
  check_histogram(histogram_series("libp2p_rcmgr_peer_memory", "", memory, column[4]));
  check_histogram(histogram_series("libp2p_rcmgr_conn_memory", "", memory, conn_memory));
  // Across scrapes, no histogram series goes down.
  for (auto& [key, value] : got)
    if (key.find("_bucket{") != std::string::npos ||
        key.find("_sum") != std::string::npos ||
        key.find("_count") != std::string::npos) {
      auto before = last.find(key);
      if (before != last.end())
        CHECK_MESSAGE(std::stoull(value) >= std::stoull(before->second), key);
      last[key] = value;
    }
  // The dump's per-peer list agrees with the model too (nothing is cut here).
  CHECK(scopes["peers"].size() == per_peer.size());
  for (auto& [peer, p] : per_peer)
    CHECK(scopes["peers"][peer]["usage"]["memory"] == p[4]);
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "the metrics hold the dump's values after random events") {
  for (std::uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    gate_options opts;
    opts.scope_readings = scale_readings{8ULL << 30, 0, 1024};
    auto gate = spawn_gate(sys, metrics_config(), opts);
    auto tracker = spawn_tracker(sys, tracker_options{});
    caf::anon_send(gate, subscribe_atom::value, lifecycle_listener{tracker});
    auto dump = spawn_state_dump(sys, {{"gate", gate}, {"tracker", tracker}},
                                 state_dump_options{1000ms});
    run();
    std::mt19937_64 rng(seed);
    auto pick = [&](std::size_t size) { return static_cast<std::size_t>(rng() % size); };
    model m;
    histogram_carry carry;
    series_map last;
    connection_id next_conn = 1;
    stream_id next_stream = 1;
    auto count = [&](const verdict& v) {
      if (!v.denied())
        return;
      if (v.why->code == denial_code::scope_limit)
        ++m.scope_denials;
      else if (v.why->code == denial_code::connection_limit)
        ++m.limit_denials[to_string(v.why->kind)];
    };
    auto any_conn = [&](bool pending_only) -> std::optional<connection_id> {
      std::vector<connection_id> ids;
      for (auto& [id, c] : m.conns)
        if (!pending_only || !c.established)
          ids.push_back(id);
      if (ids.empty())
        return std::nullopt;
      return ids[pick(ids.size())];
    };
    auto any_stream = [&]() -> std::optional<stream_id> {
      if (m.streams.empty())
        return std::nullopt;
      auto i = m.streams.begin();
      std::advance(i, static_cast<std::ptrdiff_t>(pick(m.streams.size())));
      return i->first;
    };
    for (int step = 1; step <= 240; ++step) {
      switch (pick(9)) {
      case 0: { // a pending inbound connection
        auto id = next_conn++;
        auto v = verdict_of(gate, pending_inbound{id, "l", "r"});
        count(v);
        if (v.allowed())
          m.conns[id] = model_conn{false, direction::inbound, "", 0};
        break;
      }
      case 1: { // established, from pending or directly outbound
        auto pending = any_conn(true);
        std::string peer = peers[pick(6)];
        if (pending && pick(2) == 0) {
          auto& c = m.conns[*pending];
          auto v = c.dir == direction::inbound
                       ? verdict_of(gate, established_inbound{*pending, peer, "l", "r"})
                       : verdict_of(gate, established_outbound{*pending, peer, "a"});
          count(v);
          if (v.allowed()) {
            c.established = true;
            c.peer = peer;
          } else {
            m.conns.erase(*pending); // a denied establishment closes it
          }
        } else {
          auto id = next_conn++;
          auto v = verdict_of(gate, pending_outbound{id, peer, {"a"}});
          count(v);
          if (v.allowed())
            m.conns[id] = model_conn{false, direction::outbound, "", 0};
        }
        break;
      }
      case 2: { // a close
        if (auto id = any_conn(false)) {
          verdict_of(gate, connection_closed{*id, m.conns[*id].peer, ""});
          m.conns.erase(*id);
        }
        break;
      }
      case 3:
      case 4: { // a stream
        stream_opened s;
        s.stream = next_stream++;
        s.peer = peers[pick(6)];
        s.dir = pick(3) == 0 ? direction::outbound : direction::inbound;
        auto v = verdict_of(gate, s);
        count(v);
        if (v.allowed())
          m.streams[s.stream] = model_stream{s.dir, s.peer.str(), "", 0};
        break;
      }
      case 5: { // its protocol, or its close
        if (auto id = any_stream()) {
          auto& s = m.streams[*id];
          if (s.protocol.empty() && pick(3) != 0) {
            std::string proto = protocols[pick(2)];
            auto v = verdict_of(gate, stream_protocol{*id, proto});
            count(v);
            if (v.allowed())
              s.protocol = proto;
          } else {
            verdict_of(gate, stream_closed{*id});
            m.streams.erase(*id);
          }
        }
        break;
      }
      case 6:
      case 7: { // memory for a connection or a stream
        auto bytes = sizes[pick(6)];
        if (pick(2) == 0) {
          if (auto id = any_conn(false)) {
            auto v = verdict_of(gate, reserve_memory{"conn-" + n(*id), bytes, 255});
            count(v);
            if (v.allowed())
              m.conns[*id].memory += bytes;
          }
        } else if (auto id = any_stream()) {
          auto v = verdict_of(gate, reserve_memory{"stream-" + n(*id), bytes, 255});
          count(v);
          if (v.allowed())
            m.streams[*id].memory += bytes;
        }
        break;
      }
      case 8: { // memory given back
        if (auto id = any_conn(false); id && m.conns[*id].memory > 0) {
          auto& c = m.conns[*id];
          auto bytes = c.memory / 2 + 1;
          verdict_of(gate, release_memory{"conn-" + n(*id), bytes});
          c.memory -= bytes;
        }
        break;
      }
      }
      if (step % 30 == 0) {
        CAPTURE(step);
        check_agreement(dump_of(dump), m, carry, last);
      }
    }
    CHECK(m.scope_denials > 0);
    CHECK(!m.limit_denials.empty());
    stop(gate, tracker, dump);
  }
}
