// The scopes in the node's vocabulary (DESIGN §6.1): the "scopes" and
// "scopes_scale" config keys, the stream and memory events (replay lines,
// batch entries), the scope_limit denial's JSON form, and the gate policy
// deciding connections across the wave-1 rules and the scopes.
#include <doctest/doctest.h>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/gate_policy.hpp"
#include "actors/gate/scopes/scopes_json.hpp"
#include "messages/batches.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;
using nlohmann::json;

namespace {

std::string config_error(const std::string& text) {
  auto r = parse_config_text(text);
  REQUIRE_FALSE(r);
  return r.error().text();
}

std::string line_error(const std::string& line) {
  auto r = parse_event_line(line);
  REQUIRE_FALSE(r.value);
  return r.value.error().text();
}

template <class Event> Event line_event(const std::string& line) {
  auto r = parse_event_line(line);
  REQUIRE(r.value);
  return std::get<Event>(r.value->event);
}

constexpr auto in = direction::inbound;
constexpr auto out = direction::outbound;

} // namespace

// -- config ---------------------------------------------------------------------------

TEST_CASE("no \"scopes\" key: no scope limits, and the config's JSON form is unchanged") {
  auto r = parse_config_text("{}");
  REQUIRE(r);
  CHECK_FALSE(r->has_scopes);
  CHECK(r->scopes_scale.automatic);
  auto j = to_json(*r);
  CHECK(j.size() == 5);
  CHECK(j.count("scopes") == 0);
  CHECK(j.count("scopes_scale") == 0);
}

TEST_CASE("\"scopes\" and \"scopes_scale\" parse and round-trip") {
  auto r = parse_config_text(R"({
    "scopes": {"System": {"Conns": 4, "Memory": "1048576"}, "Peer": {"QmA": {"Streams": "unlimited"}},
               "Transient": {"ConnsInbound": 0}},
    "scopes_scale": {"memory_bytes": 1073741824, "fds": 512}})");
  REQUIRE(r);
  CHECK(r->has_scopes);
  CHECK(r->scopes.system.conns == limit_value{limit_value::form::number, 4});
  CHECK(r->scopes.system.memory == limit_value{limit_value::form::number, 1048576});
  CHECK(r->scopes.transient.conns_inbound ==
        limit_value{limit_value::form::block_all, 0});
  REQUIRE(r->scopes.peer.count("QmA") == 1);
  CHECK(r->scopes.peer.at("QmA").streams == limit_value{limit_value::form::unlimited, 0});
  CHECK_FALSE(r->scopes_scale.automatic);
  CHECK(r->scopes_scale.memory_bytes == 1073741824);
  CHECK(r->scopes_scale.fds == 512);
  auto j = to_json(*r);
  CHECK(j["scopes"]["System"] == json{{"Conns", 4}, {"Memory", "1048576"}});
  CHECK(j["scopes_scale"] == json{{"memory_bytes", 1073741824}, {"fds", 512U}});
  auto again = parse_config(j);
  REQUIRE(again);
  CHECK(again->has_scopes);
  CHECK(again->scopes == r->scopes);
  CHECK(again->scopes_scale == r->scopes_scale);
  CHECK(to_json(*again) == j);

  auto empty = parse_config_text(R"({"scopes": {}})");
  REQUIRE(empty);
  CHECK(empty->has_scopes);
  CHECK(empty->scopes == scope_limit_document{});
  CHECK(to_json(*empty)["scopes"] == json::object());
  CHECK(to_json(*empty)["scopes_scale"] == json("auto"));
}

TEST_CASE("scope config errors name the JSON Pointer path") {
  CHECK(config_error(R"({"scopes": {"System": {"Conns": -1}}})") ==
        "/scopes/System/Conns: must not be negative");
  CHECK(config_error(R"({"scopes": {"Protocol": {"/echo/1": {"Streams": -2}}}})") ==
        "/scopes/Protocol/~1echo~11/Streams: must not be negative");
  CHECK(config_error(R"({"scopes": {"Systen": {}}})") ==
        "/scopes/Systen: unknown section");
  CHECK(config_error(R"({"scopes": {"System": {"Connz": 1}}})") ==
        "/scopes/System/Connz: unknown field");
  CHECK(config_error(R"({"scopes_scale": "manual"})") ==
        "/scopes_scale: expected \"auto\" or {\"memory_bytes\": N, \"fds\": N}");
  CHECK(config_error(R"({"scopes_scale": {"memory_bytes": 1}})") ==
        "/scopes_scale/fds: missing (give both memory_bytes and fds)");
}

// -- events ---------------------------------------------------------------------------

TEST_CASE("stream and memory events parse from replay lines and back") {
  auto so = line_event<stream_opened>(
      R"({"event":"stream_opened","stream":3,"peer":"A","dir":"outbound","conn":7})");
  CHECK(so.stream == 3);
  CHECK(so.peer == "A");
  CHECK(so.dir == out);
  CHECK(so.has_conn);
  CHECK(so.conn == 7);
  CHECK(to_json(input_event{so}) == json{{"event", "stream_opened"},
                                         {"stream", 3},
                                         {"peer", "A"},
                                         {"dir", "outbound"},
                                         {"conn", 7}});
  auto bare = line_event<stream_opened>(
      R"({"event":"stream_opened","stream":4,"peer":"A","dir":"inbound"})");
  CHECK_FALSE(bare.has_conn);
  CHECK(to_json(input_event{bare}).count("conn") == 0);
  auto sp = line_event<stream_protocol>(
      R"({"event":"stream_protocol","stream":3,"protocol":"/echo/1"})");
  CHECK(sp.stream == 3);
  CHECK(sp.protocol == "/echo/1");
  auto ss = line_event<stream_service>(
      R"({"event":"stream_service","stream":3,"service":"svc"})");
  CHECK(ss.service == "svc");
  CHECK(line_event<stream_closed>(R"({"event":"stream_closed","stream":9})").stream == 9);
  auto rm = line_event<reserve_memory>(
      R"({"event":"reserve_memory","scope":"stream-3","bytes":4096,"priority":101})");
  CHECK(rm.scope == "stream-3");
  CHECK(rm.bytes == 4096);
  CHECK(rm.priority == 101);
  CHECK(line_event<reserve_memory>(
            R"({"event":"reserve_memory","scope":"conn-1","bytes":1})")
            .priority == 255);
  auto rel = line_event<release_memory>(
      R"({"event":"release_memory","scope":"conn-1","bytes":10})");
  CHECK(rel.scope == "conn-1");
  CHECK(rel.bytes == 10);
  CHECK(to_json(input_event{rel}) ==
        json{{"event", "release_memory"}, {"scope", "conn-1"}, {"bytes", 10}});

  CHECK(line_event<pending_inbound>(R"({"event":"pending_inbound","conn":1})").usefd);
  CHECK_FALSE(
      line_event<pending_inbound>(R"({"event":"pending_inbound","conn":1,"usefd":false})")
          .usefd);
  CHECK_FALSE(line_event<established_outbound>(
                  R"({"event":"established_outbound","conn":1,"peer":"A","usefd":false})")
                  .usefd);
  auto po = line_event<pending_outbound>(
      R"({"event":"pending_outbound","conn":1,"usefd":false})");
  CHECK(to_json(input_event{po})["usefd"] == false);
}

TEST_CASE("bad stream and memory lines name the problem") {
  CHECK(line_error(R"({"event":"stream_opened","stream":1,"peer":"A","dir":"up"})") ==
        "field 'dir' must be \"inbound\" or \"outbound\"");
  CHECK(line_error(R"({"event":"stream_opened","stream":1,"dir":"inbound"})") ==
        "missing field 'peer'");
  CHECK(
      line_error(R"({"event":"stream_opened","stream":-1,"peer":"A","dir":"inbound"})") ==
      "field 'stream' must be a non-negative integer");
  CHECK(line_error(R"({"event":"stream_protocol","stream":1,"protocol":""})") ==
        "field 'protocol' must not be empty");
  CHECK(line_error(R"({"event":"reserve_memory","scope":"peer:A","bytes":1})") ==
        "field 'scope' must be \"conn-<n>\" or \"stream-<n>\"");
  CHECK(line_error(R"({"event":"reserve_memory","scope":"conn-01","bytes":1})") ==
        "field 'scope' must be \"conn-<n>\" or \"stream-<n>\"");
  CHECK(line_error(R"({"event":"reserve_memory","scope":"conn-1","bytes":-5})") ==
        "field 'bytes' must be a non-negative integer");
  CHECK(line_error(
            R"({"event":"reserve_memory","scope":"conn-1","bytes":1,"priority":256})") ==
        "field 'priority' must be at most 255");
  CHECK(line_error(R"({"event":"pending_inbound","conn":1,"usefd":1})") ==
        "field 'usefd' must be true or false");
}

TEST_CASE("a batch's memory event may name its holder instead of its text") {
  lifecycle_batch b;
  batch_writer w{b};
  w.add_reserve_memory(holder_ref{holder_ref::kind_t::stream, 18446744073709551615u},
                       4096, 101);
  w.add_release_memory(holder_ref{holder_ref::kind_t::conn, 7}, 96);
  w.add_reserve_memory("conn-7", 1);
  REQUIRE(b.events.size() == 3);
  CHECK(b.texts.size() == 1); // only the text form's
  auto& reserve = b.events[0];
  CHECK(reserve.kind == event_kind::reserve_memory);
  CHECK(reserve.holder() ==
        std::optional<holder_ref>{{holder_ref::kind_t::stream, 18446744073709551615u}});
  CHECK(reserve.bytes() == 4096);
  CHECK(reserve.priority == 101);
  CHECK(reserve.text == no_text);
  CHECK(refs_valid(b.texts, b.lists, reserve));
  CHECK(view_of(b.texts, b.lists, reserve).name.empty());
  auto& release = b.events[1];
  CHECK(release.kind == event_kind::release_memory);
  CHECK(release.holder() == std::optional<holder_ref>{{holder_ref::kind_t::conn, 7}});
  CHECK(release.bytes() == 96);
  CHECK_FALSE(b.events[2].holder());
  CHECK(view_of(b.texts, b.lists, b.events[2]).name == "conn-7");
}

TEST_CASE("a batch carries stream and memory events with their texts") {
  lifecycle_batch b;
  batch_writer w{b};
  w.add(event_kind::pending_inbound, 1, {}, "/l", text_list{}, {}, false);
  w.add_stream_opened(5, "PeerA", out, connection_id{1});
  w.add_stream_protocol(5, "/echo/1");
  w.add_stream_service(5, "svc");
  w.add_reserve_memory("stream-5", 4096, 101);
  w.add_release_memory("stream-5", 96);
  w.add_stream_closed(5);
  REQUIRE(b.events.size() == 7);
  CHECK_FALSE(b.events[0].usefd());
  for (auto& e : b.events)
    CHECK(refs_valid(b.texts, b.lists, e));
  auto& opened = b.events[1];
  CHECK(opened.kind == event_kind::stream_opened);
  CHECK(opened.stream() == 5);
  CHECK(opened.dir == out);
  CHECK(opened.has_conn());
  CHECK(opened.stream_conn() == 1);
  CHECK(view_of(b.texts, b.lists, opened).peer == "PeerA");
  CHECK(view_of(b.texts, b.lists, b.events[2]).name == "/echo/1");
  CHECK(view_of(b.texts, b.lists, b.events[3]).name == "svc");
  auto& reserve = b.events[4];
  CHECK(view_of(b.texts, b.lists, reserve).name == "stream-5");
  CHECK(reserve.bytes() == 4096);
  CHECK(reserve.priority == 101);
  CHECK(b.events[5].bytes() == 96);
  CHECK(b.events[6].kind == event_kind::stream_closed);
  // A name outside the batch's texts is a bad entry.
  auto bad = b.events[2];
  bad.text = 99;
  CHECK_FALSE(refs_valid(b.texts, b.lists, bad));
}

// -- the denial ---------------------------------------------------------------------

TEST_CASE("a scope_limit denial has every field of DESIGN §6.1 and reads back") {
  scope_denial sd;
  sd.scope = "protocol:/echo/1.peer:QmA";
  sd.scope_kind = scope_class::protocol_peer;
  sd.resource = scope_resource::streams_inbound;
  sd.dir = in;
  sd.limit = 2;
  sd.current = 2;
  sd.attempted = 1;
  sd.conn = 4;
  sd.stream = 9;
  sd.peer = "QmA";
  sd.protocol = "/echo/1";
  auto d = to_denial(sd);
  auto j = to_json(d);
  CHECK(j == json{{"code", "scope_limit"},
                  {"scope", "protocol:/echo/1.peer:QmA"},
                  {"resource", "streams_inbound"},
                  {"dir", "inbound"},
                  {"limit", 2},
                  {"current", 2},
                  {"attempted", 1},
                  {"conn", 4},
                  {"stream", 9},
                  {"peer", "QmA"},
                  {"protocol", "/echo/1"}});
  CHECK(j == to_json(sd)); // the core's form and the verdict's agree
  auto back = denial_from_json(j);
  REQUIRE(back);
  CHECK(*back == d);

  scope_denial mem;
  mem.scope = "service:svc";
  mem.scope_kind = scope_class::service;
  mem.resource = scope_resource::memory;
  mem.limit = 1000;
  mem.current = 900;
  mem.attempted = 200;
  mem.priority = 101;
  mem.service = "svc";
  auto md = to_denial(mem);
  CHECK(to_json(md) == json{{"code", "scope_limit"},
                            {"scope", "service:svc"},
                            {"resource", "memory"},
                            {"limit", 1000},
                            {"current", 900},
                            {"attempted", 200},
                            {"priority", 101},
                            {"service", "svc"}});
  auto mback = denial_from_json(to_json(md));
  REQUIRE(mback);
  CHECK(*mback == md);
}

TEST_CASE("a scope_limit denial off the wire: bad fields are named, nothing throws") {
  auto read = [](const char* text) { return denial_from_json(json::parse(text)); };
  CHECK(
      read(R"({"code":"scope_limit","scope":"galaxy","resource":"fd"})").error().text() ==
      "unknown scope 'galaxy'");
  CHECK(read(R"({"code":"scope_limit","scope":"system","resource":"cpu"})")
            .error()
            .text() == "unknown scope_limit resource 'cpu'");
  CHECK(read(R"({"code":"scope_limit","scope":"system","resource":"fd","dir":"up"})")
            .error()
            .text() == "field 'dir' must be \"inbound\" or \"outbound\"");
  CHECK(
      read(
          R"({"code":"scope_limit","scope":"system","resource":"memory","priority":300})")
          .error()
          .text() == "field 'priority' must be at most 255");
  CHECK(read(R"({"code":"scope_limit","scope":7})").error().text() ==
        "field 'scope' must be a string");
  CHECK(read(R"({"code":"scope_limit","scope":"system","resource":"fd","stream":"x"})")
            .error()
            .text() == "field 'stream' must be a non-negative integer");
  CHECK(scope_class_of("peer:") == std::nullopt);
  CHECK(scope_class_of("service:s.peer:P") == scope_class::service_peer);
  CHECK(scope_class_of("stream-4") == scope_class::stream);
}

// -- the policy -----------------------------------------------------------------------

namespace {

node_config scoped(const char* scopes) {
  auto r =
      parse_config(json{{"scopes", json::parse(scopes)},
                        {"scopes_scale", {{"memory_bytes", 1ULL << 30}, {"fds", 512U}}}});
  REQUIRE(r);
  return *r;
}

verdict decide(gate_policy& p, event_kind kind, connection_id conn,
               std::string_view peer = {}, bool usefd = true) {
  no_sink sink{peer};
  return p.decide(kind, conn, sink, 0, usefd);
}

scope_event opened(stream_id s, std::string_view peer, direction dir) {
  scope_event e;
  e.kind = event_kind::stream_opened;
  e.stream = s;
  e.peer = peer;
  e.dir = dir;
  return e;
}

} // namespace

TEST_CASE("the policy: wave-1 rules first, then the scopes; a denial charges nothing") {
  auto cfg = scoped(R"({"Transient": {"ConnsOutbound": 0}, "System": {"FD": 1}})");
  cfg.connection_limits.max_pending_inbound = 1;
  gate_policy p{cfg};
  REQUIRE(p.scopes() != nullptr);
  CHECK(decide(p, event_kind::pending_inbound, 1).allowed());
  // The six limits allow it, the scopes refuse it: nothing stays charged.
  auto dial = decide(p, event_kind::pending_outbound, 2);
  REQUIRE(dial.denied());
  CHECK(dial.why->code == denial_code::scope_limit);
  CHECK(dial.why->scope_name == "transient");
  CHECK(dial.why->resource == scope_resource::conns_outbound);
  CHECK(dial.why->limit == 0);
  CHECK(p.counts().pending_outbound == 0);
  CHECK(p.scopes()->conn_count() == 1);
  // Both would refuse it (pending limit, system FD): the six limits are first.
  auto third = decide(p, event_kind::pending_inbound, 3);
  REQUIRE(third.denied());
  CHECK(third.why->code == denial_code::connection_limit);
  CHECK(third.why->kind == limit_kind::pending_inbound);
  CHECK(decide(p, event_kind::established_inbound, 1, "A").allowed());
  // Without a file descriptor the FD limit does not apply.
  CHECK(decide(p, event_kind::pending_inbound, 4, {}, false).allowed());
  CHECK(p.scopes()->system().fd == 1);
  CHECK(p.scopes()->system().conns_inbound == 2);
  CHECK(p.denials().of(denial_code::scope_limit) == 1);
  CHECK(p.denials().of(denial_code::connection_limit) == 1);
  CHECK(decide(p, event_kind::connection_closed, 1).kind == verdict_kind::ok);
  CHECK(decide(p, event_kind::listen_failure, 4).kind == verdict_kind::ok);
  CHECK(p.scopes()->system() == scope_usage{});
  CHECK(p.scopes()->conn_count() == 0);
  CHECK(p.scopes()->dynamic_scope_count() == 0);
  CHECK(p.scopes()->audit().empty());
}

TEST_CASE("the policy decides a batch in order; its texts move into the outcomes") {
  gate_policy p{scoped(R"({"PeerDefault": {"Streams": 1}})")};
  lifecycle_batch b;
  batch_writer w{b};
  std::string local = "/ip4/10.0.0.1/tcp/4001";
  std::string remote = "/ip4/10.0.0.2/tcp/5000";
  w.add(event_kind::pending_inbound, 1, {}, local, text_list{&remote, 1}, {});
  w.add(event_kind::established_inbound, 1, "PeerA", local, text_list{&remote, 1}, {});
  w.add_stream_opened(7, "PeerA", in, connection_id{1});
  w.add_stream_opened(8, "PeerA", in); // over the peer's one stream
  w.add_stream_protocol(7, "/x/1");
  w.add_reserve_memory(holder_ref{holder_ref::kind_t::stream, 7}, 4096);
  b.events.push_back(b.events.back());
  b.events.back().peer = 99; // no such text
  REQUIRE(b.events.size() == 7);
  auto texts = b.texts.size();
  outcome_batch out;
  auto vs = p.decide_batch(b, out, 5);
  REQUIRE(vs.size() == 7);
  CHECK(vs[0].allowed());
  CHECK(vs[1].allowed());
  CHECK(vs[2].allowed());
  REQUIRE(vs[3].denied());
  CHECK(vs[3].why->scope_name == "peer:PeerA");
  CHECK(vs[3].why->resource == scope_resource::streams); // the total: Streams 1
  CHECK(vs[3].why->stream == 8);
  CHECK(vs[4].allowed());
  CHECK(vs[5].allowed());
  CHECK(vs[6].kind == verdict_kind::error);
  CHECK(vs[6].error == "a batch event refers to texts the batch lacks");
  CHECK(p.anomalies()[anomaly::bad_batch_entry] == 1);
  // The connection's two outcomes, the stream events none; the texts moved.
  CHECK(out.order ==
        std::vector<outcome_kind>{outcome_kind::admitted, outcome_kind::admitted});
  CHECK(out.texts.size() == texts);
  CHECK(b.texts.size() == 0);
  CHECK(out.admits[1].at == 5);
  CHECK(p.scopes()->peer("PeerA")->streams_inbound == 1);
  CHECK(p.scopes()->peer("PeerA")->conns_inbound == 1);
  CHECK(p.scopes()->holder(holder_ref{holder_ref::kind_t::stream, 7})->memory == 4096);
  CHECK(p.scopes()->audit().empty());
}

TEST_CASE("the policy: stream events without \"scopes\" decide nothing") {
  gate_policy p;
  CHECK(p.scopes() == nullptr);
  CHECK(p.decide_scope(opened(1, "A", in), 0).kind == verdict_kind::ok);
  scope_event bad;
  bad.kind = event_kind::reserve_memory;
  bad.name = "peer:A";
  auto v = p.decide_scope(bad, 0);
  CHECK(v.kind == verdict_kind::error);
  CHECK(v.error == "scope 'peer:A' is not \"conn-<n>\" or \"stream-<n>\"");
  CHECK(p.anomalies()[anomaly::bad_input] == 1);
  CHECK(p.scopes_json(0, 10).is_null());
  CHECK(json::parse(gate_dump_part(p.stats(0), 0)).count("scopes") == 0);
}

TEST_CASE("the policy: \"scopes\" added and dropped by config updates") {
  gate_policy p;
  CHECK(decide(p, event_kind::pending_inbound, 1).allowed());
  CHECK(decide(p, event_kind::pending_inbound, 2).allowed());
  CHECK(decide(p, event_kind::established_inbound, 2, "A").allowed());
  p.configure(scoped(R"({"PeerDefault": {"Conns": 1}})"));
  REQUIRE(p.scopes() != nullptr);
  // Admitted before the scopes: the pending one enters them when it is
  // established, the established one is not in them.
  CHECK(decide(p, event_kind::established_inbound, 1, "A").allowed());
  CHECK(p.scopes()->conn_count() == 1);
  CHECK(p.scopes()->peer("A")->conns_inbound == 1);
  CHECK(decide(p, event_kind::connection_closed, 2, "A").kind == verdict_kind::ok);
  CHECK(p.scopes()->conn_count() == 1);
  CHECK(p.scopes()->anomalies().empty());
  CHECK(p.decide_scope(opened(1, "A", in), 0).allowed());
  // Lowering the limits keeps what is held.
  p.configure(scoped(R"({"PeerDefault": {"Conns": 0, "Streams": 0}})"));
  CHECK(p.scopes()->peer("A")->conns_inbound == 1);
  CHECK(p.scopes()->peer("A")->streams_inbound == 1);
  CHECK(p.decide_scope(opened(2, "A", in), 0).denied());
  CHECK(p.denials().of(denial_code::scope_limit) == 1);
  // Without "scopes" they are gone, and what they held with them.
  p.configure(node_config{});
  CHECK(p.scopes() == nullptr);
  CHECK(p.decide_scope(opened(2, "A", in), 0).kind == verdict_kind::ok);
  CHECK(decide(p, event_kind::connection_closed, 1, "A").kind == verdict_kind::ok);
  CHECK(p.counts() == admission_counts{});
}

TEST_CASE(
    "a stream or memory event's value is its bytes or its connection, never a range") {
  lifecycle_batch b;
  batch_writer w{b};
  w.add_reserve_memory("conn-1", std::uint64_t{1} << 40, 7);
  w.add_stream_opened(7, "PeerA", direction::outbound, connection_id{0xFFFFFFFFFFull});
  w.add_stream_opened(8, "PeerA", direction::inbound);
  REQUIRE(b.events.size() == 3);
  CHECK(b.lists.empty());
  for (auto& e : b.events)
    CHECK(refs_valid(b.texts, b.lists, e));
  CHECK(b.events[0].bytes() == std::uint64_t{1} << 40);
  CHECK(b.events[0].priority == 7);
  auto v = view_of(b.texts, b.lists, b.events[0]);
  CHECK(v.name == "conn-1");
  CHECK(v.local == "");
  CHECK(v.remote.empty());
  CHECK(b.events[1].stream() == 7);
  CHECK(b.events[1].has_conn());
  CHECK(b.events[1].stream_conn() == 0xFFFFFFFFFFull);
  CHECK(b.events[1].dir == direction::outbound);
  CHECK_FALSE(b.events[2].has_conn());
  CHECK(b.events[2].stream_conn() == 0);
}
