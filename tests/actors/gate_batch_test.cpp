// Lifecycle batches through the gate and the tracker, on the deterministic
// scheduler: bad references, the peers and reasons the outcomes name, the
// texts each outcome keeps, and a batch against the same events one by one.
#include "actor_fixture.hpp"
#include "gate_fixture.hpp"

#include "actors/gate/gate_actor.hpp"
#include "actors/tracker/tracker_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

// -- a listener that records peers, addresses and reasons --------------------------

std::string join(const text_list& xs) {
  std::string out = "[";
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ",";
    out += xs[i];
  }
  return out + "]";
}

std::string line_of(const admitted_view& x) {
  return "admitted " + std::to_string(x.conn) + " " + to_string(x.state) + " " +
         to_string(x.dir) + " peer=" + std::string{x.peer} +
         " local=" + std::string{x.local} + " remote=" + join(x.remote) +
         (x.bypassed ? " bypassed" : "") +
         (x.would_deny ? " would_deny=" + to_string(x.would_deny->code) : "");
}

std::string line_of(const denied& x) {
  return "denied " + std::to_string(x.conn) + " " + to_string(x.event) + " " +
         to_string(x.why.code);
}

std::string line_of(const released_view& x) {
  return "released " + std::to_string(x.conn) + " " + to_string(x.cause) +
         " peer=" + std::string{x.peer} + " reason=" + std::string{x.reason};
}

struct text_log_state {
  std::vector<std::string>* lines = nullptr;
};

/// Records each outcome with its texts; a batch as "batch N" and then each
/// of its outcomes.
lifecycle_listener::behavior_type
text_listener(lifecycle_listener::stateful_pointer<text_log_state> self,
              std::vector<std::string>* lines) {
  self->state.lines = lines;
  return {
      [self](const admitted& x) { self->state.lines->push_back(line_of(view_of(x))); },
      [self](const denied& x) { self->state.lines->push_back(line_of(x)); },
      [self](const released& x) { self->state.lines->push_back(line_of(view_of(x))); },
      [self](const outcome_batch& b) {
        auto& lines = *self->state.lines;
        lines.push_back("batch " + std::to_string(b.order.size()));
        auto line = [&](const auto& x) { lines.push_back(line_of(x)); };
        if (!for_each_outcome(b, line, line, line))
          lines.push_back("malformed batch");
      },
  };
}

struct listened_gate {
  gate_actor gate;
  lifecycle_listener listener;
};

/// A gate with a `text_listener` subscribed, recording into `lines`.
listened_gate spawn_listened(actor_fixture& fx, const node_config& cfg,
                             std::vector<std::string>* lines) {
  listened_gate out{spawn_gate(fx.sys, cfg), fx.sys.spawn(text_listener, lines)};
  caf::anon_send(out.gate, subscribe_atom::value, out.listener);
  fx.run();
  return out;
}

lifecycle_event event(event_kind kind, connection_id conn, peer_id peer = {},
                      std::string local = {}, std::vector<std::string> remote = {},
                      std::string reason = {}) {
  lifecycle_event e;
  e.kind = kind;
  e.conn = conn;
  e.peer = std::move(peer);
  e.local = std::move(local);
  e.remote = std::move(remote);
  e.reason = std::move(reason);
  return e;
}

/// Sends `e` to the gate as the typed event of its kind.
verdict send_single(actor_fixture& fx, const gate_actor& gate, const lifecycle_event& e) {
  auto first = e.remote.empty() ? std::string{} : e.remote[0];
  switch (e.kind) {
  case event_kind::pending_inbound:
    return fx.verdict_of(gate, pending_inbound{e.conn, e.local, first});
  case event_kind::pending_outbound:
    return fx.verdict_of(
        gate, pending_outbound{e.conn, e.peer, {e.remote.begin(), e.remote.end()}});
  case event_kind::established_inbound:
    return fx.verdict_of(gate, established_inbound{e.conn, e.peer, e.local, first});
  case event_kind::established_outbound:
    return fx.verdict_of(gate, established_outbound{e.conn, e.peer, first});
  case event_kind::dial_failure:
    return fx.verdict_of(gate, dial_failure{e.conn});
  case event_kind::listen_failure:
    return fx.verdict_of(gate, listen_failure{e.conn});
  case event_kind::connection_closed:
    return fx.verdict_of(gate, connection_closed{e.conn, e.peer, e.reason});
  case event_kind::stream_opened:
  case event_kind::stream_protocol:
  case event_kind::stream_service:
  case event_kind::stream_closed:
  case event_kind::reserve_memory:
  case event_kind::release_memory:
    break; // not generated here
  }
  FAIL_CHECK("unknown event kind");
  return verdict::fail("unknown event kind");
}

/// Every field of two records but the times; of the times, only whether the
/// connection was ever pending (pending_at -1 or not).
void check_same_record(const connection_record& a, const connection_record& b) {
  CAPTURE(a.conn);
  CHECK(a.conn == b.conn);
  CHECK(a.state == b.state);
  CHECK(a.dir == b.dir);
  CHECK(a.peer == b.peer);
  CHECK(a.local == b.local);
  CHECK(a.remote == b.remote);
  CHECK(a.bypassed == b.bypassed);
  CHECK((a.pending_at == -1) == (b.pending_at == -1));
}

void check_same_records(const std::vector<connection_record>& a,
                        const std::vector<connection_record>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    check_same_record(a[i], b[i]);
}

/// Every field, the times too.
void check_identical_records(const std::vector<connection_record>& a,
                             const std::vector<connection_record>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    check_same_record(a[i], b[i]);
    CHECK(a[i].pending_at == b[i].pending_at);
    CHECK(a[i].established_at == b[i].established_at);
  }
}

const std::string bad_refs_error = "a batch event refers to texts the batch lacks";

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "a batch event whose peer ref is out of range fails alone") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, limited(8, 8), &lines);
  auto batch = batch_of({
      event(event_kind::pending_inbound, 1, "", "/l", {"/r1"}),
      event(event_kind::pending_inbound, 2, "", "/l", {"/r2"}),
      event(event_kind::established_inbound, 2, "QmB", "/l", {"/r2"}),
      event(event_kind::established_inbound, 1, "QmA", "/l", {"/r1"}),
  });
  REQUIRE(batch.texts.size() == 5);
  batch.events[2].peer = 5; // one past the end of the texts
  auto vs = ask<std::vector<verdict>>(gate, batch);
  REQUIRE(vs.size() == 4);
  CHECK(vs[0].kind == verdict_kind::allow);
  CHECK(vs[1].kind == verdict_kind::allow);
  CHECK(vs[2].kind == verdict_kind::error);
  CHECK(vs[2].error == bad_refs_error);
  CHECK(vs[3].kind == verdict_kind::allow);
  // The bad event was not decided: connection 2 is still pending.
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 1);
  CHECK(counts.established_inbound == 1);
  CHECK(counts.pending_outbound == 0);
  CHECK(counts.established_outbound == 0);
  CHECK(counts.bypassed == 0);
  CHECK(lines == std::vector<std::string>{
                     "batch 3", "admitted 1 pending inbound peer= local=/l remote=[/r1]",
                     "admitted 2 pending inbound peer= local=/l remote=[/r2]",
                     "admitted 1 established inbound peer=QmA local=/l remote=[/r1]"});
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] == nlohmann::json{{"bad_batch_entry", 1}});
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "bad local, reason and remote refs fail; a batch of only those "
                  "publishes nothing") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, limited(8, 8), &lines);
  auto batch = batch_of({
      event(event_kind::pending_inbound, 1, "", "/l", {"/r1"}),
      event(event_kind::pending_inbound, 2, "", "/l", {"/r2"}),
      event(event_kind::connection_closed, 1, "", "", {}, "bye"),
      event(event_kind::pending_outbound, 3, "QmC", "", {"/c1", "/c2"}),
      event(event_kind::pending_inbound, 4, "", "/l", {"/r4"}),
  });
  // texts: /l /r1 /r2 bye QmC /c1 /c2 /r4; lists: 1 2 5 6 7
  REQUIRE(batch.texts.size() == 8);
  REQUIRE(batch.lists.size() == 5);
  batch.events[0].text = 8;                                   // local past the texts
  batch.events[1].set_remote(batch.events[1].remote_at(), 9); // remote past the lists
  batch.events[2].reason = 100;                               // reason past the texts
  batch.lists[3] = 8; // a dial address of event 3 past the texts
  batch.events[4].set_remote(6,
                             batch.events[4].remote_count()); // remote_at past the lists
  auto vs = ask<std::vector<verdict>>(gate, batch);
  REQUIRE(vs.size() == 5);
  for (auto& v : vs) {
    CHECK(v.kind == verdict_kind::error);
    CHECK(v.error == bad_refs_error);
  }
  CHECK(ask<admission_counts>(gate, get_atom::value, counts_atom::value) ==
        admission_counts{});
  CHECK(lines.empty());
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] == nlohmann::json{{"bad_batch_entry", 5}});
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a text table with a text outside its characters fails the events "
                  "naming that text") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, limited(8, 8), &lines);
  auto batch = batch_of({
      event(event_kind::pending_inbound, 1, "", "/l", {"/r1"}),
      event(event_kind::pending_inbound, 2, "", "/l", {"/r2"}),
  });
  // texts: /l /r1 /r2 (7 characters). As a remote sender might: the last
  // text ends past the characters.
  REQUIRE(batch.texts == text_table{"/l", "/r1", "/r2"});
  batch.texts = text_table::from_parts("/l/r1/r2", {2, 5, 9});
  auto vs = ask<std::vector<verdict>>(gate, batch);
  REQUIRE(vs.size() == 2);
  CHECK(vs[0].kind == verdict_kind::allow);
  CHECK(vs[1].kind == verdict_kind::error);
  CHECK(vs[1].error == bad_refs_error);
  CHECK(lines ==
        std::vector<std::string>{
            "batch 1", "admitted 1 pending inbound peer= local=/l remote=[/r1]"});
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] == nlohmann::json{{"bad_batch_entry", 1}});
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a lifecycle batch survives CAF's binary serialization") {
  auto batch = batch_of({
      event(event_kind::pending_outbound, 3, "QmC", "", {"/c1", "/c2"}),
      event(event_kind::connection_closed, 3, "QmC", "", {}, "bye"),
  });
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(batch));
  lifecycle_batch back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE(!source(back));
  CHECK(back.texts == batch.texts);
  CHECK(back.texts == text_table{"QmC", "/c1", "/c2", "bye"});
  CHECK(back.lists == batch.lists);
  REQUIRE(back.events.size() == 2);
  auto v = view_of(back.texts, back.lists, back.events[0]);
  CHECK(v.peer == "QmC");
  CHECK(v.remote.owned() == std::vector<std::string>{"/c1", "/c2"});
  CHECK(view_of(back.texts, back.lists, back.events[1]).reason == "bye");
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a close in a batch names the peer the connection was established "
                  "with") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, limited(8, 8), &lines);
  REQUIRE(verdict_of(gate, pending_inbound{1, "/l", "/r1"}).allowed());
  REQUIRE(verdict_of(gate, established_inbound{1, "QmA", "/l", "/r1"}).allowed());
  REQUIRE(verdict_of(gate, established_outbound{2, "QmB", "/b"}).allowed());
  REQUIRE(verdict_of(gate, established_outbound{3, "QmC", "/c"}).allowed());
  REQUIRE(verdict_of(gate, pending_inbound{4, "/l", "/r4"}).allowed());
  lines.clear();
  auto vs = ask<std::vector<verdict>>(
      gate, batch_of({
                event(event_kind::connection_closed, 1, "", "", {}, "bye"),
                event(event_kind::connection_closed, 2, "QmOther", "", {}, "reset"),
                event(event_kind::connection_closed, 3, "QmC", "", {}, "eof"),
                // Pending inbound: the core knows no peer, the close names one.
                event(event_kind::connection_closed, 4, "QmLate", "", {}, ""),
                event(event_kind::connection_closed, 1, "", "", {}, "again"), // unknown
            }));
  REQUIRE(vs.size() == 5);
  for (auto& v : vs)
    CHECK(v.kind == verdict_kind::ok);
  CHECK(lines == std::vector<std::string>{
                     "batch 4",
                     "released 1 connection_closed peer=QmA reason=bye",
                     "released 2 connection_closed peer=QmB reason=reset",
                     "released 3 connection_closed peer=QmC reason=eof",
                     "released 4 connection_closed peer= reason=",
                 });
  CHECK(ask<admission_counts>(gate, get_atom::value, counts_atom::value) ==
        admission_counts{});
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] ==
        nlohmann::json{{"peer_mismatch", 1}, {"unknown_connection", 1}});
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a close without a peer, single or batched, names the known peer") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, node_config{}, &lines);
  REQUIRE(verdict_of(gate, established_inbound{1, "QmA", "/l", "/r"}).allowed());
  REQUIRE(verdict_of(gate, established_inbound{2, "QmA", "/l", "/r"}).allowed());
  CHECK(verdict_of(gate, connection_closed{1, "", "single"}).kind == verdict_kind::ok);
  auto vs = ask<std::vector<verdict>>(
      gate, batch_of({event(event_kind::connection_closed, 2, "", "", {}, "batched")}));
  REQUIRE(vs.size() == 1);
  CHECK(vs[0].kind == verdict_kind::ok);
  CHECK(lines == std::vector<std::string>{
                     "admitted 1 established inbound peer=QmA local=/l remote=[/r]",
                     "admitted 2 established inbound peer=QmA local=/l remote=[/r]",
                     "released 1 connection_closed peer=QmA reason=single",
                     "batch 1",
                     "released 2 connection_closed peer=QmA reason=batched",
                 });
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a dial failure in a batch is released with its fixed reason and the "
                  "dialled peer") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, node_config{}, &lines);
  auto vs = ask<std::vector<verdict>>(
      gate, batch_of({
                event(event_kind::pending_outbound, 5, "QmDial", "", {"/a", "/b"}),
                // The failure's own peer and reason are not what is reported.
                event(event_kind::dial_failure, 5, "QmWrong", "", {}, "custom"),
                event(event_kind::pending_inbound, 6, "", "/l6", {"/r6"}),
                event(event_kind::listen_failure, 6),
                event(event_kind::pending_outbound, 7, "", "", {"/c"}),
                event(event_kind::dial_failure, 7),
                event(event_kind::dial_failure, 8), // unknown: nothing released
            }));
  REQUIRE(vs.size() == 7);
  CHECK(vs[0].kind == verdict_kind::allow);
  CHECK(vs[1].kind == verdict_kind::ok);
  CHECK(vs[2].kind == verdict_kind::allow);
  CHECK(vs[3].kind == verdict_kind::ok);
  CHECK(vs[4].kind == verdict_kind::allow);
  CHECK(vs[5].kind == verdict_kind::ok);
  CHECK(vs[6].kind == verdict_kind::ok);
  CHECK(lines == std::vector<std::string>{
                     "batch 6",
                     "admitted 5 pending outbound peer=QmDial local= remote=[/a,/b]",
                     "released 5 dial_failure peer=QmDial reason=dial failure",
                     "admitted 6 pending inbound peer= local=/l6 remote=[/r6]",
                     "released 6 listen_failure peer= reason=listen failure",
                     "admitted 7 pending outbound peer= local= remote=[/c]",
                     "released 7 dial_failure peer= reason=dial failure",
                 });
  CHECK(ask<admission_counts>(gate, get_atom::value, counts_atom::value) ==
        admission_counts{});
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] == nlohmann::json{{"unknown_connection", 1}});
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "many dial failures in one batch each get their peer and reason") {
  // Each failure adds two texts to the outcome batch (the peer and the
  // reason): more than the one per event the gate reserves room for.
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, node_config{}, &lines);
  std::vector<lifecycle_event> events;
  for (connection_id c = 1; c <= 20; ++c)
    events.push_back(event(event_kind::pending_outbound, c, "QmPeer" + std::to_string(c),
                           "", {"/dial/" + std::to_string(c)}));
  for (connection_id c = 1; c <= 20; ++c)
    events.push_back(event(event_kind::dial_failure, c));
  auto vs = ask<std::vector<verdict>>(gate, batch_of(events));
  REQUIRE(vs.size() == 40);
  std::vector<std::string> expected{"batch 40"};
  for (connection_id c = 1; c <= 20; ++c)
    expected.push_back("admitted " + std::to_string(c) + " pending outbound peer=QmPeer" +
                       std::to_string(c) + " local= remote=[/dial/" + std::to_string(c) +
                       "]");
  for (connection_id c = 1; c <= 20; ++c)
    expected.push_back("released " + std::to_string(c) + " dial_failure peer=QmPeer" +
                       std::to_string(c) + " reason=dial failure");
  CHECK(lines == expected);
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "batched outcomes keep a local address for inbound events only, every "
                  "dial address, and one remote otherwise") {
  std::vector<std::string> lines;
  auto [gate, listener] = spawn_listened(*this, node_config{}, &lines);
  auto vs = ask<std::vector<verdict>>(
      gate,
      batch_of({
          event(event_kind::pending_outbound, 1, "QmO", "/local-ignored",
                {"/a", "/b", "/c"}),
          event(event_kind::established_outbound, 1, "QmO", "/local-ignored",
                {"/b", "/extra"}),
          event(event_kind::pending_inbound, 2, "", "/l2", {"/r2", "/r2b"}),
          event(event_kind::established_inbound, 2, "QmI", "/l2", {"/r2", "/r2c"}),
          event(event_kind::established_outbound, 3, "QmO", "/local-ignored", {"/d"}),
      }));
  REQUIRE(vs.size() == 5);
  for (auto& v : vs)
    CHECK(v.kind == verdict_kind::allow);
  CHECK(lines == std::vector<std::string>{
                     "batch 5",
                     "admitted 1 pending outbound peer=QmO local= remote=[/a,/b,/c]",
                     "admitted 1 established outbound peer=QmO local= remote=[/b]",
                     "admitted 2 pending inbound peer= local=/l2 remote=[/r2]",
                     "admitted 2 established inbound peer=QmI local=/l2 remote=[/r2]",
                     "admitted 3 established outbound peer=QmO local= remote=[/d]",
                 });
  stop(gate, listener);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a tracker refuses an outcome batch with an out-of-range peer ref") {
  auto [gate, tracker] = spawn_with_tracker(*this, node_config{});
  REQUIRE(verdict_of(gate, pending_inbound{1, "/l", "/r"}).allowed());
  REQUIRE(verdict_of(gate, established_inbound{1, "QmA", "/l", "/r"}).allowed());
  REQUIRE(verdict_of(gate, pending_outbound{2, "QmB", {"/b1", "/b2"}}).allowed());
  auto before_a =
      ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"QmA"});
  auto before_b =
      ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"QmB"});
  auto before_pending = ask<std::vector<connection_record>>(tracker, query_atom::value,
                                                            conn_state::pending);
  auto before_established = ask<std::vector<connection_record>>(
      tracker, query_atom::value, conn_state::established);
  REQUIRE(before_a.size() == 1);
  REQUIRE(before_b.size() == 1);
  REQUIRE(before_pending.size() == 1);
  REQUIRE(before_established.size() == 1);
  auto doc = nlohmann::json::parse(ask<std::string>(tracker, dump_part_atom::value));
  REQUIRE(doc["connections"]["inconsistencies"] == 0);

  // Well formed but for the peer of the second admitted entry: the batch
  // is refused whole, its good outcomes too.
  outcome_batch bad;
  bad.texts = {"QmZ", "/z"};
  bad.lists = {1};
  bad.order = {outcome_kind::admitted, outcome_kind::admitted, outcome_kind::released};
  admitted_entry fresh;
  fresh.conn = 3;
  fresh.state = conn_state::pending;
  fresh.dir = direction::inbound;
  fresh.peer = 0;
  fresh.local = 1;
  fresh.remote_at = 0;
  fresh.remote_count = 1;
  admitted_entry rewrite;
  rewrite.conn = 1;
  rewrite.state = conn_state::established;
  rewrite.dir = direction::outbound;
  rewrite.peer = 2; // one past the end of the texts
  rewrite.local = no_text;
  rewrite.remote_at = 0;
  rewrite.remote_count = 1;
  bad.admits = {fresh, rewrite};
  released_entry close;
  close.conn = 2;
  close.peer = 0;
  bad.releases = {close};
  REQUIRE_FALSE(well_formed(bad));
  caf::anon_send(tracker, bad);
  run();

  doc = nlohmann::json::parse(ask<std::string>(tracker, dump_part_atom::value));
  CHECK(doc["connections"]["inconsistencies"] == 1);
  CHECK(doc["connections"]["total"] == 2);
  check_identical_records(
      ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"QmA"}),
      before_a);
  check_identical_records(
      ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"QmB"}),
      before_b);
  check_identical_records(ask<std::vector<connection_record>>(tracker, query_atom::value,
                                                              conn_state::pending),
                          before_pending);
  check_identical_records(ask<std::vector<connection_record>>(tracker, query_atom::value,
                                                              conn_state::established),
                          before_established);
  CHECK(ask<std::vector<connection_record>>(tracker, query_atom::value, peer_id{"QmZ"})
            .empty());
  CHECK(ask<admission_counts>(tracker, get_atom::value, counts_atom::value) ==
        ask<admission_counts>(gate, get_atom::value, counts_atom::value));
  stop(gate, tracker);
}

TEST_CASE_FIXTURE(actor_fixture,
                  "one batch and the same events one by one leave the same records") {
  node_config cfg;
  cfg.bypass_peers = {"QmBypass"};
  std::vector<lifecycle_event> events{
      event(event_kind::pending_inbound, 1, "", "/l1", {"/r1"}),
      event(event_kind::established_inbound, 1, "QmA", "/l1", {"/r1"}),
      event(event_kind::pending_outbound, 2, "QmA", "", {"/a1", "/a2", "/a3"}),
      event(event_kind::established_outbound, 2, "QmA", "", {"/a2"}),
      event(event_kind::pending_inbound, 3, "", "/l1", {"/r3"}),
      // Established naming no local and an empty remote: the pending ones stay.
      event(event_kind::established_inbound, 3, "QmB", "", {""}),
      event(event_kind::pending_outbound, 4, "QmA", "", {"/x"}),
      event(event_kind::dial_failure, 4),
      event(event_kind::pending_inbound, 5, "", "/l1", {"/r5"}),
      event(event_kind::established_inbound, 5, "QmA", "/l1", {"/r5"}),
      event(event_kind::connection_closed, 5, "", "", {}, "bye"),
      event(event_kind::established_outbound, 6, "QmA", "", {"/a6"}), // never pending
      event(event_kind::pending_outbound, 7, "QmBypass", "", {"/p1", "/p2"}),
      event(event_kind::established_outbound, 7, "QmBypass", "", {"/p2"}),
      event(event_kind::established_inbound, 8, "QmBypass", "/l1", {"/r8"}),
      event(event_kind::pending_inbound, 9, "", "/l1", {"/r9"}),
      event(event_kind::pending_outbound, 10, "", "", {"/d1", "/d2"}),
      event(event_kind::connection_closed, 3, "QmWrong", "", {}, "x"),
      event(event_kind::pending_inbound, 11, "", "/l1", {"/r11"}),
      event(event_kind::listen_failure, 11),
      event(event_kind::pending_inbound, 12, "", "/l12", {"/r12"}),
      event(event_kind::established_inbound, 12, "QmC", "/l12", {"/r12"}),
  };
  auto single = spawn_with_tracker(*this, cfg);
  auto batched = spawn_with_tracker(*this, cfg);
  std::vector<verdict> single_verdicts;
  for (auto& e : events)
    single_verdicts.push_back(send_single(*this, single.gate, e));
  auto batch_verdicts = ask<std::vector<verdict>>(batched.gate, batch_of(events));
  REQUIRE(batch_verdicts.size() == events.size());
  REQUIRE(single_verdicts.size() == events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    CAPTURE(i);
    CHECK(batch_verdicts[i].kind == single_verdicts[i].kind);
    CHECK(batch_verdicts[i].error == single_verdicts[i].error);
  }

  auto of = [&](const tracker_actor& t, const char* peer) {
    return ask<std::vector<connection_record>>(t, query_atom::value, peer_id{peer});
  };
  auto in = [&](const tracker_actor& t, conn_state s) {
    return ask<std::vector<connection_record>>(t, query_atom::value, s);
  };

  // The records the single events leave, field by field.
  auto a = of(single.tracker, "QmA");
  REQUIRE(a.size() == 3);
  CHECK(a[0].conn == 1);
  CHECK(a[0].state == conn_state::established);
  CHECK(a[0].dir == direction::inbound);
  CHECK(a[0].peer == "QmA");
  CHECK(a[0].local == "/l1");
  CHECK(a[0].remote == std::vector<std::string>{"/r1"});
  CHECK_FALSE(a[0].bypassed);
  CHECK(a[0].pending_at != -1);
  CHECK(a[1].conn == 2);
  CHECK(a[1].state == conn_state::established);
  CHECK(a[1].dir == direction::outbound);
  CHECK(a[1].local == "");
  CHECK(a[1].remote == std::vector<std::string>{"/a2"});
  CHECK(a[1].pending_at != -1);
  CHECK(a[2].conn == 6);
  CHECK(a[2].dir == direction::outbound);
  CHECK(a[2].remote == std::vector<std::string>{"/a6"});
  CHECK(a[2].pending_at == -1);
  auto bypass = of(single.tracker, "QmBypass");
  REQUIRE(bypass.size() == 2);
  CHECK(bypass[0].conn == 7);
  CHECK(bypass[0].dir == direction::outbound);
  CHECK(bypass[0].remote == std::vector<std::string>{"/p2"});
  CHECK(bypass[0].bypassed);
  CHECK(bypass[1].conn == 8);
  CHECK(bypass[1].dir == direction::inbound);
  CHECK(bypass[1].local == "/l1");
  CHECK(bypass[1].remote == std::vector<std::string>{"/r8"});
  CHECK(bypass[1].bypassed);
  auto c = of(single.tracker, "QmC");
  REQUIRE(c.size() == 1);
  CHECK(c[0].conn == 12);
  CHECK(c[0].local == "/l12");
  CHECK(c[0].remote == std::vector<std::string>{"/r12"});
  CHECK(of(single.tracker, "QmB").empty());
  CHECK(of(single.tracker, "QmWrong").empty());
  auto pending = in(single.tracker, conn_state::pending);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].conn == 9);
  CHECK(pending[0].dir == direction::inbound);
  CHECK(pending[0].peer == "");
  CHECK(pending[0].local == "/l1");
  CHECK(pending[0].remote == std::vector<std::string>{"/r9"});
  CHECK(pending[1].conn == 10);
  CHECK(pending[1].dir == direction::outbound);
  CHECK(pending[1].peer == "");
  CHECK(pending[1].local == "");
  CHECK(pending[1].remote == std::vector<std::string>{"/d1", "/d2"});

  // The batch leaves the same.
  for (auto peer : {"QmA", "QmB", "QmBypass", "QmC", "QmWrong"}) {
    CAPTURE(peer);
    check_same_records(of(batched.tracker, peer), of(single.tracker, peer));
  }
  check_same_records(in(batched.tracker, conn_state::pending), pending);
  check_same_records(in(batched.tracker, conn_state::established),
                     in(single.tracker, conn_state::established));
  CHECK(in(batched.tracker, conn_state::established).size() == 6);
  CHECK(ask<admission_counts>(batched.tracker, get_atom::value, counts_atom::value) ==
        ask<admission_counts>(single.tracker, get_atom::value, counts_atom::value));
  CHECK(ask<admission_counts>(batched.gate, get_atom::value, counts_atom::value) ==
        ask<admission_counts>(single.gate, get_atom::value, counts_atom::value));
  auto single_doc =
      nlohmann::json::parse(ask<std::string>(single.tracker, dump_part_atom::value));
  auto batched_doc =
      nlohmann::json::parse(ask<std::string>(batched.tracker, dump_part_atom::value));
  CHECK(single_doc["connections"]["inconsistencies"] == 0);
  CHECK(batched_doc["connections"]["inconsistencies"] == 0);
  CHECK(single_doc["connections"]["total"] == 8);
  CHECK(batched_doc["connections"]["total"] == 8);
  auto single_gate =
      nlohmann::json::parse(ask<std::string>(single.gate, dump_part_atom::value));
  auto batched_gate =
      nlohmann::json::parse(ask<std::string>(batched.gate, dump_part_atom::value));
  CHECK(single_gate["anomalies"] == nlohmann::json{{"peer_mismatch", 1}});
  CHECK(batched_gate["anomalies"] == nlohmann::json{{"peer_mismatch", 1}});
  stop(single.gate, single.tracker, batched.gate, batched.tracker);
}

TEST_CASE_FIXTURE(
    actor_fixture,
    "dry run: the would-denial on the verdicts and the outcomes, batched or "
    "single") {
  std::vector<std::string> lines;
  auto cfg = limited(1, 8);
  cfg.dry_run = family_bit(rule_family::connection_limits);
  auto [gate, listener] = spawn_listened(*this, cfg, &lines);
  auto vs = ask<std::vector<verdict>>(
      gate, batch_of({event(event_kind::pending_inbound, 1, "", "/l", {"/r1"}),
                      event(event_kind::pending_inbound, 2, "", "/l", {"/r2"})}));
  REQUIRE(vs.size() == 2);
  CHECK(vs[0].allowed());
  CHECK(vs[0].would() == nullptr);
  REQUIRE(vs[1].would() != nullptr);
  CHECK(*vs[1].would() ==
        connection_limit_denial(limit_kind::pending_inbound, 1, 1, 2, ""));
  auto single =
      send_single(*this, gate, event(event_kind::pending_inbound, 3, "", "/l", {"/r3"}));
  REQUIRE(single.would() != nullptr);
  CHECK(*single.would() ==
        connection_limit_denial(limit_kind::pending_inbound, 1, 2, 3, ""));
  run();
  CHECK(lines == std::vector<std::string>{
                     "batch 2", "admitted 1 pending inbound peer= local=/l remote=[/r1]",
                     "admitted 2 pending inbound peer= local=/l remote=[/r2] "
                     "would_deny=connection_limit",
                     "admitted 3 pending inbound peer= local=/l remote=[/r3] "
                     "would_deny=connection_limit"});
  auto counts = ask<admission_counts>(gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 3);
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["limits"]["would_deny"] ==
        nlohmann::json{
            {"connection_limit", {{"total", 2}, {"by_kind", {{"pending_inbound", 2}}}}}});
  stop(gate, listener);
}
