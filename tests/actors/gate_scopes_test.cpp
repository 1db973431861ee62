// The gate with resource scopes (DESIGN §6.1) as an actor, on the
// deterministic scheduler: a connection's admission across the wave-1 rules
// and the scopes, streams and memory reservations, batches, config updates,
// the dump part `scopes`.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include "actors/gate/gate_actor.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

using nlohmann::json;

constexpr auto in = direction::inbound;
constexpr auto out = direction::outbound;

/// A config with `scopes` and a fixed scale (1 GiB, 512 FDs), plus `extra`
/// keys.
node_config scoped(const char* scopes, const char* extra = "{}") {
  auto doc = json::parse(extra);
  doc["scopes"] = json::parse(scopes);
  doc["scopes_scale"] = {{"memory_bytes", 1ULL << 30}, {"fds", 512U}};
  auto r = parse_config(doc);
  REQUIRE(r);
  return *r;
}

gate_options fixed_readings() {
  gate_options opts;
  opts.scope_readings = scale_readings{8ULL << 30, 0, 1024};
  return opts;
}

stream_opened opened(stream_id s, const char* peer, direction dir) {
  stream_opened x;
  x.stream = s;
  x.peer = peer;
  x.dir = dir;
  return x;
}

json usage(std::uint64_t conns_in, std::uint64_t conns_out, std::uint64_t streams_in,
           std::uint64_t streams_out, std::uint64_t fd, std::uint64_t memory) {
  return json{{"conns_inbound", conns_in},
              {"conns_outbound", conns_out},
              {"streams_inbound", streams_in},
              {"streams_outbound", streams_out},
              {"fd", fd},
              {"memory", memory}};
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture, "the wave-1 rules refuse first; then the scopes") {
  outcome_log log;
  auto cfg = scoped(R"({"Transient": {"ConnsInbound": 1}})",
                    R"({"connection_limits": {"max_pending_inbound": 2}})");
  auto [gate, rec] = spawn_recorded(*this, cfg, &log);
  CHECK(verdict_of(gate, pending_inbound{1, "l", "r1"}).allowed());
  auto scope = verdict_of(gate, pending_inbound{2, "l", "r2"});
  REQUIRE(scope.denied());
  denial expected;
  expected.code = denial_code::scope_limit;
  expected.scope_name = "transient";
  expected.scope_kind = scope_class::transient;
  expected.resource = scope_resource::conns_inbound;
  expected.has_dir = true;
  expected.dir = in;
  expected.limit = 1;
  expected.current = 1;
  expected.attempted = 1;
  expected.has_conn = true;
  expected.conn = 2;
  CHECK(scope.why == expected);
  // The refused connection holds no pending slot: a second one fits the
  // limit of 2, and is refused by the scopes again, not by the limit.
  CHECK(verdict_of(gate, pending_inbound{3, "l", "r3"}).why->code ==
        denial_code::scope_limit);
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 1);
  CHECK(verdict_of(gate, pending_inbound{1, "l", "r1"}).kind == verdict_kind::error);
  CHECK(log.lines == std::vector<std::string>{"admitted 1 pending inbound",
                                              "denied 2 pending_inbound scope_limit",
                                              "denied 3 pending_inbound scope_limit"});
  // A config update that lowers the pending limit: the limit refuses first.
  auto lower = scoped(R"({"Transient": {"ConnsInbound": 1}})",
                      R"({"connection_limits": {"max_pending_inbound": 1}})");
  CHECK(verdict_of(gate, lower).kind == verdict_kind::ok);
  auto limit = verdict_of(gate, pending_inbound{4, "l", "r4"});
  CHECK(limit.why == connection_limit_denial(limit_kind::pending_inbound, 1, 1, 4, ""));
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a scope refusal of established_* releases the connection") {
  outcome_log log;
  auto [gate, rec] =
      spawn_recorded(*this, scoped(R"({"PeerDefault": {"Conns": 1}})"), &log);
  CHECK(verdict_of(gate, pending_inbound{1, "l", "r1"}).allowed());
  CHECK(verdict_of(gate, established_inbound{1, "A", "l", "r1"}).allowed());
  CHECK(verdict_of(gate, pending_outbound{2, "A", {"a"}}).allowed());
  auto refused = verdict_of(gate, established_outbound{2, "A", "a"});
  REQUIRE(refused.denied());
  CHECK(refused.why->code == denial_code::scope_limit);
  CHECK(refused.why->scope_name == "peer:A");
  CHECK(refused.why->resource == scope_resource::conns);
  CHECK(refused.why->has_dir);
  CHECK(refused.why->dir == out);
  CHECK(refused.why->limit == 1);
  CHECK(refused.why->current == 1);
  CHECK(refused.why->peer == "A");
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_outbound == 0);
  CHECK(counts.established_outbound == 0);
  CHECK(counts.established_inbound == 1);
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  auto& scopes = part["scopes"];
  CHECK(scopes["transient"]["usage"] == usage(0, 0, 0, 0, 0, 0));
  CHECK(scopes["system"]["usage"] == usage(1, 0, 0, 0, 1, 0));
  CHECK(scopes["peers"]["A"]["usage"] == usage(1, 0, 0, 0, 1, 0));
  CHECK(scopes["counts"]["conns"] == 1);
  CHECK(part["limits"]["denials"]["scope_limit"] == 1);
  // The connection is gone: a close of it is an unknown id.
  CHECK(verdict_of(gate, connection_closed{2, "A", ""}).kind == verdict_kind::ok);
  CHECK(log.lines == std::vector<std::string>{
                         "admitted 1 pending inbound", "admitted 1 established inbound",
                         "admitted 2 pending outbound",
                         "denied 2 established_outbound scope_limit"});
  part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"]["unknown_connection"] == 1);
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture, "streams and memory go through the gate") {
  auto gate = spawn_gate(sys, scoped(R"({"ProtocolPeer": {"/chat": {"StreamsInbound": 1}},
                                    "Stream": {"Memory": 1000}})"),
                         fixed_readings());
  CHECK(verdict_of(gate, pending_inbound{1, "l", "r"}).allowed());
  CHECK(verdict_of(gate, established_inbound{1, "A", "l", "r"}).allowed());
  auto s1 = opened(1, "A", in);
  s1.has_conn = true;
  s1.conn = 1;
  CHECK(verdict_of(gate, s1).allowed());
  CHECK(verdict_of(gate, stream_protocol{1, "/chat"}).allowed());
  CHECK(verdict_of(gate, stream_service{1, "chat-svc"}).allowed());
  CHECK(verdict_of(gate, opened(2, "A", in)).allowed());
  auto full = verdict_of(gate, stream_protocol{2, "/chat"});
  REQUIRE(full.denied());
  CHECK(full.why->scope_name == "protocol:/chat.peer:A");
  CHECK(full.why->resource == scope_resource::streams_inbound);
  CHECK(full.why->has_stream);
  CHECK(full.why->stream == 2);
  CHECK(full.why->protocol == "/chat");
  // Memory: 1000 bytes per stream; at priority 101 a stream may fill
  // 1000 * 102 / 256 = 398 of them.
  CHECK(verdict_of(gate, reserve_memory{"stream-1", 398, 101}).allowed());
  auto low = verdict_of(gate, reserve_memory{"stream-1", 1, 101});
  REQUIRE(low.denied());
  CHECK(low.why->scope_name == "stream-1");
  CHECK(low.why->resource == scope_resource::memory);
  CHECK(low.why->has_priority);
  CHECK(low.why->priority == 101);
  CHECK(low.why->limit == 1000);
  CHECK(low.why->current == 398);
  CHECK_FALSE(low.why->has_dir);
  CHECK(verdict_of(gate, reserve_memory{"stream-1", 602, 255}).allowed());
  CHECK(verdict_of(gate, release_memory{"stream-1", 500}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, reserve_memory{"conn-1", 64}).allowed());
  // Bad input: an error, nothing changed.
  auto unknown = verdict_of(gate, stream_protocol{9, "/chat"});
  CHECK(unknown.kind == verdict_kind::error);
  CHECK(unknown.error == "unknown stream id 9");
  CHECK(verdict_of(gate, opened(1, "A", in)).error == "duplicate stream id 1");
  CHECK(verdict_of(gate, reserve_memory{"peer:A", 1}).kind == verdict_kind::error);
  CHECK(verdict_of(gate, reserve_memory{"stream-7", 1}).error ==
        "unknown scope stream-7");
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  auto& scopes = part["scopes"];
  CHECK(scopes["system"]["usage"] == usage(1, 0, 2, 0, 1, 564));
  CHECK(scopes["transient"]["usage"] == usage(0, 0, 1, 0, 0, 0));
  CHECK(scopes["peers"]["A"]["usage"] == usage(1, 0, 2, 0, 1, 564));
  CHECK(scopes["protocols"]["/chat"]["usage"] == usage(0, 0, 1, 0, 0, 500));
  CHECK(scopes["protocols"]["/chat"]["peers"]["A"]["usage"] == usage(0, 0, 1, 0, 0, 500));
  CHECK(scopes["services"]["chat-svc"]["peers"]["A"]["usage"] ==
        usage(0, 0, 1, 0, 0, 500));
  CHECK(part["anomalies"]["unknown_stream"] == 1);
  CHECK(part["anomalies"]["duplicate_stream"] == 1);
  CHECK(part["anomalies"]["unknown_scope"] == 1);
  CHECK(part["anomalies"]["bad_input"] == 1);
  // Everything closes: every scope is back to zero and the dynamic ones go.
  CHECK(verdict_of(gate, stream_closed{1}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, stream_closed{2}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, connection_closed{1, "A", ""}).kind == verdict_kind::ok);
  part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["scopes"]["system"]["usage"] == usage(0, 0, 0, 0, 0, 0));
  CHECK(part["scopes"]["transient"]["usage"] == usage(0, 0, 0, 0, 0, 0));
  CHECK(part["scopes"]["peers"] == json::object());
  CHECK(part["scopes"]["protocols"] == json::object());
  CHECK(part["scopes"]["services"] == json::object());
  CHECK(part["scopes"]["counts"]["conns"] == 0);
  CHECK(part["scopes"]["counts"]["streams"] == 0);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a batch's memory events may name their holder instead of its text") {
  // The same events with the scope as text and as a holder: the same
  // verdicts, exactly.
  auto run = [&](bool as_holder) {
    auto gate =
        spawn_gate(sys, scoped(R"({"Stream": {"Memory": 4096}})"), fixed_readings());
    lifecycle_batch b;
    batch_writer w{b};
    holder_ref stream{holder_ref::kind_t::stream, 10};
    holder_ref conn{holder_ref::kind_t::conn, 1};
    holder_ref missing{holder_ref::kind_t::stream, 99};
    auto reserve = [&](holder_ref h, std::uint64_t bytes) {
      if (as_holder)
        w.add_reserve_memory(h, bytes, 255);
      else
        w.add_reserve_memory(holder_name(h), bytes, 255);
    };
    auto release = [&](holder_ref h, std::uint64_t bytes) {
      if (as_holder)
        w.add_release_memory(h, bytes);
      else
        w.add_release_memory(holder_name(h), bytes);
    };
    w.add(event_kind::pending_outbound, 1, "P", {}, text_list{}, {}, false);
    w.add(event_kind::established_outbound, 1, "P", {}, text_list{}, {}, false);
    w.add_stream_opened(10, "P", out, connection_id{1});
    reserve(stream, 4096);
    reserve(stream, 1);
    release(stream, 4096);
    reserve(conn, 100);
    release(conn, 100);
    reserve(missing, 1);
    auto vs = ask<std::vector<verdict>>(gate, std::move(b));
    auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
    stop(gate);
    return std::make_pair(vs, part["anomalies"]);
  };
  auto [texts, text_anomalies] = run(false);
  auto [holders, holder_anomalies] = run(true);
  REQUIRE(holders.size() == 9);
  CHECK(holders[3].allowed());
  REQUIRE(holders[4].denied());
  CHECK(holders[4].why->scope_name == "stream-10");
  CHECK(holders[4].why->resource == scope_resource::memory);
  CHECK(holders[4].why->limit == 4096);
  CHECK(holders[4].why->current == 4096);
  CHECK(holders[4].why->attempted == 1);
  CHECK(holders[5].kind == verdict_kind::ok);
  CHECK(holders[6].allowed());
  CHECK(holders[7].kind == verdict_kind::ok);
  CHECK(holders[8].kind == verdict_kind::error);
  CHECK(holder_anomalies == json{{"unknown_scope", 1}});
  REQUIRE(texts.size() == holders.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(i);
    CHECK(texts[i].kind == holders[i].kind);
    CHECK(texts[i].why == holders[i].why);
    CHECK(texts[i].error == holders[i].error);
  }
  CHECK(text_anomalies == holder_anomalies);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a batch carries stream and memory events to the scopes") {
  outcome_log log;
  auto [gate, rec] =
      spawn_recorded(*this, scoped(R"({"PeerDefault": {"StreamsOutbound": 1}})"), &log);
  lifecycle_batch b;
  batch_writer w{b};
  w.add(event_kind::pending_outbound, 1, "P", {}, text_list{}, {}, false);
  w.add(event_kind::established_outbound, 1, "P", {}, text_list{}, {}, false);
  w.add_stream_opened(10, "P", out, connection_id{1});
  w.add_stream_opened(11, "P", out, connection_id{1});
  w.add_stream_protocol(10, "/x");
  w.add_reserve_memory("stream-10", 4096, 203);
  w.add_release_memory("stream-10", 5000);
  w.add_stream_closed(10);
  w.add_stream_closed(10);
  auto vs = ask<std::vector<verdict>>(gate, std::move(b));
  REQUIRE(vs.size() == 9);
  CHECK(vs[0].allowed());
  CHECK(vs[1].allowed());
  CHECK(vs[2].allowed());
  REQUIRE(vs[3].denied());
  CHECK(vs[3].why->scope_name == "peer:P");
  CHECK(vs[3].why->resource == scope_resource::streams_outbound);
  CHECK(vs[3].why->has_conn);
  CHECK(vs[3].why->conn == 1);
  CHECK(vs[4].allowed());
  CHECK(vs[5].allowed());
  CHECK(vs[6].kind == verdict_kind::ok);
  CHECK(vs[7].kind == verdict_kind::ok);
  CHECK(vs[8].kind == verdict_kind::error);
  // Only the connection's outcomes are published.
  CHECK(log.lines == std::vector<std::string>{"batch 2", "admitted 1 pending outbound",
                                              "admitted 1 established outbound"});
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  // The connection holds no FD (usefd false in the batch).
  CHECK(part["scopes"]["system"]["usage"] == usage(0, 1, 0, 0, 0, 0));
  CHECK(part["anomalies"]["over_release"] == 1);
  CHECK(part["anomalies"]["unknown_stream"] == 1);
  stop(gate, rec);
}

TEST_CASE_FIXTURE(actor_fixture, "a config update keeps the scopes' usage") {
  auto gate =
      spawn_gate(sys, scoped(R"({"System": {"StreamsInbound": 3}})"), fixed_readings());
  CHECK(verdict_of(gate, opened(1, "A", in)).allowed());
  CHECK(verdict_of(gate, opened(2, "B", in)).allowed());
  CHECK(verdict_of(gate, reserve_memory{"stream-1", 100}).allowed());
  // Lower than what is held: nothing closes, new streams are refused.
  CHECK(verdict_of(gate, scoped(R"({"System": {"StreamsInbound": 1}})")).kind ==
        verdict_kind::ok);
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["scopes"]["system"]["usage"] == usage(0, 0, 2, 0, 0, 100));
  CHECK(part["scopes"]["system"]["limits"]["streams_inbound"] == 1);
  auto refused = verdict_of(gate, opened(3, "C", in));
  REQUIRE(refused.denied());
  CHECK(refused.why->scope_name == "system");
  CHECK(refused.why->limit == 1);
  CHECK(refused.why->current == 2);
  CHECK(verdict_of(gate, stream_closed{1}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, stream_closed{2}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, opened(3, "C", in)).allowed());
  CHECK(verdict_of(gate, stream_closed{3}).kind == verdict_kind::ok);
  // A config without "scopes": none, and stream events decide nothing.
  CHECK(verdict_of(gate, node_config{}).kind == verdict_kind::ok);
  CHECK(verdict_of(gate, opened(4, "C", in)).kind == verdict_kind::ok);
  part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part.count("scopes") == 0);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "\"scopes_scale\": \"auto\" scales by the injected readings") {
  gate_options opts;
  // 16 GiB of RAM under a 4 GiB cgroup limit, RLIMIT_NOFILE 4096.
  opts.scope_readings = scale_readings{16ULL << 30, 4ULL << 30, 4096};
  auto cfg = parse_config(json{{"scopes", json::object()}});
  REQUIRE(cfg);
  auto gate = spawn_gate(sys, *cfg, opts);
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["scopes"]["scale"] ==
        json{{"memory_bytes", 512ULL << 20}, {"fds", 2048}, {"source", "auto"}});
  // go's DefaultLimits at 512 MiB and 2048 FDs: system Conns 128 + 128 x
  // 512 / 1024 = 192; FD the larger of 256 and 2048 x 1.0.
  CHECK(part["scopes"]["system"]["limits"]["conns"] == 192);
  CHECK(part["scopes"]["system"]["limits"]["fd"] == 2048);
  stop(gate);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "bypassed peers' connections and streams are charged to no scope") {
  auto gate = spawn_gate(sys, scoped(R"({"System": {"Conns": 1, "StreamsInbound": 0}})",
                                     R"({"bypass_peers": ["T"]})"));
  CHECK(verdict_of(gate, pending_outbound{1, "T", {"a"}}).allowed());
  CHECK(verdict_of(gate, established_outbound{1, "T", "a"}).allowed());
  CHECK(verdict_of(gate, opened(1, "T", in)).allowed());
  CHECK(verdict_of(gate, reserve_memory{"stream-1", 1 << 20}).allowed());
  CHECK(verdict_of(gate, pending_inbound{2, "l", "r"}).allowed());
  CHECK(verdict_of(gate, opened(2, "U", in)).denied());
  auto part = json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["scopes"]["system"]["usage"] == usage(1, 0, 0, 0, 1, 0));
  CHECK(part["scopes"]["counts"]["uncharged"] == 2);
  stop(gate);
}

namespace {

/// Sends a pending connection, a stream and another pending connection to
/// the gate at once, and logs the replies in the order they arrive.
caf::behavior ordered_client(caf::event_based_actor* self, gate_actor gate,
                             std::vector<std::string>* log) {
  auto on_reply = [log](int i) {
    return [log, i](const verdict& v) {
      log->push_back("reply " + std::to_string(i) + " " + to_string(v.kind));
    };
  };
  self->request(gate, caf::infinite, pending_inbound{1, "l", "r1"}).then(on_reply(0));
  self->request(gate, caf::infinite, opened(1, "A", in)).then(on_reply(1));
  self->request(gate, caf::infinite, pending_inbound{2, "l", "r2"}).then(on_reply(2));
  return {[](get_atom) {}};
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "a stream event's reply comes after the held ones before it") {
  outcome_log outcomes;
  auto [gate, rec] = spawn_recorded(*this, scoped("{}"), &outcomes);
  std::vector<std::string> log;
  auto client = sys.spawn(ordered_client, gate, &log);
  run();
  CHECK(log ==
        std::vector<std::string>{"reply 0 allow", "reply 1 allow", "reply 2 allow"});
  CHECK(outcomes.lines == std::vector<std::string>{"admitted 1 pending inbound",
                                                   "admitted 2 pending inbound"});
  stop(client, gate, rec);
}
