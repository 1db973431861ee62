// Batch messages: the text table, the writer, the views and the checks.
#include <doctest/doctest.h>

#include "messages/batches.hpp"

using namespace rcmgr;

namespace {

std::vector<std::string> texts_of(const text_list& xs) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < xs.size(); ++i)
    out.emplace_back(xs[i]);
  return out;
}

lifecycle_event event(event_kind kind, connection_id conn, peer_id peer,
                      std::string local, std::vector<std::string> remote,
                      std::string reason) {
  lifecycle_event e;
  e.kind = kind;
  e.conn = conn;
  e.peer = std::move(peer);
  e.local = std::move(local);
  e.remote = std::move(remote);
  e.reason = std::move(reason);
  return e;
}

/// Event `i` of `b` read back equals `e`, field by field.
void check_reads_back(const lifecycle_batch& b, std::size_t i, const lifecycle_event& e) {
  CAPTURE(i);
  REQUIRE(i < b.events.size());
  REQUIRE(refs_valid(b.texts, b.lists, b.events[i]));
  auto v = view_of(b.texts, b.lists, b.events[i]);
  CHECK(v.kind == e.kind);
  CHECK(v.conn == e.conn);
  CHECK(v.peer == e.peer);
  CHECK(v.local == e.local);
  CHECK(v.reason == e.reason);
  CHECK(v.remote.size() == e.remote.size());
  CHECK(texts_of(v.remote) == e.remote);
  CHECK(v.remote.owned() == e.remote);
}

/// A batch with texts {"a", "b"} and lists {0, 1}: every reference below is
/// checked against these.
struct small_tables {
  text_table texts{"a", "b"};
  std::vector<text_ref> lists{0, 1};
};

batch_event valid_event() {
  batch_event e;
  e.kind = event_kind::established_inbound;
  e.id = 1;
  e.peer = 0;
  e.text = 1;
  e.reason = no_text;
  e.set_remote(0, 2);
  return e;
}

/// A well-formed outcome batch: an admitted (peer "P", local "L", remote
/// ["R1", "R2"]), a denial, a release (peer "P", reason "why").
outcome_batch good_outcomes() {
  outcome_batch b;
  b.texts = {"P", "L", "R1", "R2", "why"};
  b.lists = {2, 3};
  b.order = {outcome_kind::admitted, outcome_kind::denied, outcome_kind::released};
  admitted_entry a;
  a.conn = 1;
  a.state = conn_state::established;
  a.dir = direction::inbound;
  a.peer = 0;
  a.local = 1;
  a.remote_at = 0;
  a.remote_count = 2;
  a.at = 10;
  b.admits.push_back(a);
  denied d;
  d.conn = 2;
  d.event = event_kind::pending_inbound;
  d.at = 11;
  b.denials.push_back(d);
  released_entry r;
  r.conn = 1;
  r.cause = event_kind::connection_closed;
  r.peer = 0;
  r.reason = 4;
  r.at = 12;
  b.releases.push_back(r);
  return b;
}

} // namespace

TEST_CASE("batch_writer stores each distinct text once and \"\" as no_text") {
  lifecycle_batch b;
  batch_writer w{b};
  CHECK(w.text("") == no_text);
  CHECK(w.text("QmPeerA") == 0);
  CHECK(w.text("/ip4/1.2.3.4/tcp/1") == 1);
  CHECK(w.text("QmPeerA") == 0);
  CHECK(w.text("") == no_text);
  CHECK(w.text("/ip4/1.2.3.4/tcp/1") == 1);
  CHECK(b.texts.to_vector() == std::vector<std::string>{"QmPeerA", "/ip4/1.2.3.4/tcp/1"});
  // Events share the texts already in the table.
  w.add(event(event_kind::established_inbound, 7, "QmPeerA", "/ip4/1.2.3.4/tcp/1",
              {"/ip4/5.6.7.8/tcp/2", "QmPeerA"}, ""));
  CHECK(b.texts.to_vector() ==
        std::vector<std::string>{"QmPeerA", "/ip4/1.2.3.4/tcp/1", "/ip4/5.6.7.8/tcp/2"});
  CHECK(b.lists == std::vector<text_ref>{2, 0});
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].kind == event_kind::established_inbound);
  CHECK(b.events[0].conn() == 7);
  CHECK(b.events[0].peer == 0);
  CHECK(b.events[0].local() == 1);
  CHECK(b.events[0].reason == no_text);
  CHECK(b.events[0].remote_at() == 0);
  CHECK(b.events[0].remote_count() == 2);
}

TEST_CASE("batch_writer: many events sharing texts keep one copy of each") {
  lifecycle_batch b;
  batch_writer w{b};
  for (connection_id c = 1; c <= 20; ++c) {
    w.add(event(event_kind::pending_inbound, c, "", "/ip4/0.0.0.0/tcp/4001",
                {"/ip4/10.0.0." + std::to_string(c % 4) + "/tcp/1"}, ""));
    w.add(event(event_kind::established_inbound, c, "peer" + std::to_string(c % 3),
                "/ip4/0.0.0.0/tcp/4001",
                {"/ip4/10.0.0." + std::to_string(c % 4) + "/tcp/1"}, ""));
  }
  // One local address, four remote addresses, three peers.
  CHECK(b.texts.size() == 8);
  CHECK(b.lists.size() == 40);
  CHECK(b.events.size() == 40);
  for (connection_id c = 1; c <= 20; ++c) {
    auto i = static_cast<std::size_t>(2 * (c - 1));
    auto remote = "/ip4/10.0.0." + std::to_string(c % 4) + "/tcp/1";
    check_reads_back(
        b, i,
        event(event_kind::pending_inbound, c, "", "/ip4/0.0.0.0/tcp/4001", {remote}, ""));
    check_reads_back(b, i + 1,
                     event(event_kind::established_inbound, c,
                           "peer" + std::to_string(c % 3), "/ip4/0.0.0.0/tcp/4001",
                           {remote}, ""));
  }
}

TEST_CASE("batch_writer: texts one byte apart, every length to 40, stay apart") {
  // Each length from 1 to 40, once as all 'a' and once with a 'b' at each
  // position: 860 texts, past the writer's inline table.
  std::vector<std::string> all;
  for (std::size_t len = 1; len <= 40; ++len) {
    all.emplace_back(len, 'a');
    for (std::size_t pos = 0; pos < len; ++pos) {
      std::string t(len, 'a');
      t[pos] = 'b';
      all.push_back(t);
    }
  }
  REQUIRE(all.size() == 860);
  lifecycle_batch b;
  batch_writer w{b};
  for (std::size_t i = 0; i < all.size(); ++i)
    CHECK(w.text(all[i]) == i);
  // Equal texts at other addresses are found again, in any order.
  for (std::size_t i = all.size(); i-- > 0;) {
    std::string copy = all[i];
    CHECK(w.text(copy) == i);
  }
  CHECK(b.texts.size() == 860);
  CHECK(b.texts.to_vector() == all);
}

TEST_CASE("events read back through view_of equal what was written") {
  std::vector<lifecycle_event> written{
      event(event_kind::pending_inbound, 1, "", "/ip4/127.0.0.1/tcp/4001",
            {"/ip4/10.0.0.1/tcp/50000"}, ""),
      event(event_kind::pending_outbound, 2, "QmDialled", "",
            {"/dns/a/tcp/1", "/dns/b/tcp/2", "/ip6/::1/tcp/3"}, ""),
      event(event_kind::established_inbound, 1, "QmInbound", "/ip4/127.0.0.1/tcp/4001",
            {"/ip4/10.0.0.1/tcp/50000"}, ""),
      event(event_kind::established_outbound, 2, "QmDialled", "", {"/dns/b/tcp/2"}, ""),
      event(event_kind::dial_failure, 3, "", "", {}, ""),
      event(event_kind::listen_failure, 4, "", "", {}, ""),
      event(event_kind::connection_closed, 1, "QmInbound", "", {}, "remote reset"),
      event(event_kind::connection_closed, 2, "", "", {}, ""),
      // An empty address in a list is kept, as no_text, and read as "".
      event(event_kind::pending_outbound, 5, "", "", {"/dns/a/tcp/1", "", "/dns/c/tcp/9"},
            ""),
  };
  lifecycle_batch b;
  batch_writer w{b};
  for (auto& e : written)
    w.add(e);
  REQUIRE(b.events.size() == written.size());
  for (std::size_t i = 0; i < written.size(); ++i)
    check_reads_back(b, i, written[i]);
  CHECK(b.texts.to_vector() ==
        std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.1/tcp/50000",
                                 "QmDialled", "/dns/a/tcp/1", "/dns/b/tcp/2",
                                 "/ip6/::1/tcp/3", "QmInbound", "remote reset",
                                 "/dns/c/tcp/9"});
  CHECK(b.lists == std::vector<text_ref>{1, 3, 4, 5, 1, 4, 3, no_text, 8});
  // The typed add writes the same event as the flat one.
  lifecycle_batch b2;
  batch_writer w2{b2};
  for (auto& e : written)
    w2.add(e.kind, e.conn, e.peer, e.local, text_list{e.remote}, e.reason);
  CHECK(b2.texts == b.texts);
  CHECK(b2.lists == b.lists);
  for (std::size_t i = 0; i < written.size(); ++i)
    check_reads_back(b2, i, written[i]);
}

TEST_CASE("a pending_outbound with 3 addresses keeps them all, in order") {
  pending_outbound po{
      9, "QmPeer", {"/ip4/1.1.1.1/tcp/1", "/ip4/2.2.2.2/tcp/2", "/ip4/3.3.3.3/tcp/3"}};
  lifecycle_batch b;
  batch_writer w{b};
  w.add(to_lifecycle_event(po));
  REQUIRE(b.events.size() == 1);
  auto& e = b.events[0];
  CHECK(e.kind == event_kind::pending_outbound);
  CHECK(e.remote_at() == 0);
  CHECK(e.remote_count() == 3);
  auto v = view_of(b.texts, b.lists, e);
  CHECK(v.conn == 9);
  CHECK(v.peer == "QmPeer");
  CHECK(v.local == "");
  CHECK(v.reason == "");
  REQUIRE(v.remote.size() == 3);
  CHECK(v.remote[0] == "/ip4/1.1.1.1/tcp/1");
  CHECK(v.remote[1] == "/ip4/2.2.2.2/tcp/2");
  CHECK(v.remote[2] == "/ip4/3.3.3.3/tcp/3");
  CHECK(v.remote.owned() ==
        std::vector<std::string>(po.addresses.begin(), po.addresses.end()));
}

TEST_CASE("text_list over a vector, a single string and refs") {
  SUBCASE("a vector") {
    std::vector<std::string> xs{"one", "", "three"};
    text_list l{xs};
    CHECK_FALSE(l.empty());
    REQUIRE(l.size() == 3);
    CHECK(l[0] == "one");
    CHECK(l[1] == "");
    CHECK(l[2] == "three");
    CHECK(l.owned() == xs);
    // A view, not a copy.
    CHECK(l[0].data() == xs[0].data());
  }
  SUBCASE("an empty vector and the default list") {
    std::vector<std::string> none;
    text_list l{none};
    CHECK(l.empty());
    CHECK(l.size() == 0);
    CHECK(l.owned().empty());
    text_list d;
    CHECK(d.empty());
    CHECK(d.size() == 0);
    CHECK(d.owned().empty());
  }
  SUBCASE("a single string") {
    std::string s = "/ip4/9.9.9.9/tcp/9";
    text_list l{&s, 1};
    CHECK_FALSE(l.empty());
    REQUIRE(l.size() == 1);
    CHECK(l[0] == "/ip4/9.9.9.9/tcp/9");
    CHECK(l[0].data() == s.data());
    CHECK(l.owned() == std::vector<std::string>{"/ip4/9.9.9.9/tcp/9"});
  }
  SUBCASE("refs into a table, one of them no_text") {
    text_table table{"t0", "t1", "t2"};
    std::vector<text_ref> refs{2, no_text, 0, 2};
    text_list l{table, refs.data(), refs.size()};
    REQUIRE(l.size() == 4);
    CHECK(l[0] == "t2");
    CHECK(l[1] == "");
    CHECK(l[1].empty());
    CHECK(l[2] == "t0");
    CHECK(l[3] == "t2");
    CHECK(l[0].data() == table[2].data()); // a view into the table, not a copy
    CHECK(l.owned() == std::vector<std::string>{"t2", "", "t0", "t2"});
    // A part of the refs.
    text_list tail{table, refs.data() + 2, 2};
    CHECK(tail.owned() == std::vector<std::string>{"t0", "t2"});
    text_list none{table, refs.data() + 4, 0};
    CHECK(none.empty());
    CHECK(none.owned().empty());
  }
}

TEST_CASE("refs_valid: every reference inside the tables, or no_text") {
  small_tables t;
  CHECK(refs_valid(t.texts, t.lists, valid_event()));
  SUBCASE("no_text everywhere and an empty list") {
    batch_event e;
    e.peer = no_text;
    e.text = no_text;
    e.reason = no_text;
    e.set_remote(0, 0);
    CHECK(refs_valid(t.texts, t.lists, e));
    CHECK(refs_valid({}, {}, e));
  }
  SUBCASE("an empty list at the end of the lists") {
    auto e = valid_event();
    e.set_remote(2, 0);
    CHECK(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("the last text and the last list entry") {
    auto e = valid_event();
    e.peer = 1;
    e.text = 1;
    e.reason = 1;
    e.set_remote(1, 1);
    CHECK(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("a list entry that is no_text") {
    std::vector<text_ref> lists{no_text, 1};
    CHECK(refs_valid(t.texts, lists, valid_event()));
  }
  SUBCASE("peer past the texts") {
    auto e = valid_event();
    e.peer = 2;
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
    e.peer = no_text - 1;
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("local past the texts") {
    auto e = valid_event();
    e.text = 2;
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("reason past the texts") {
    auto e = valid_event();
    e.reason = 2;
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("remote_at past the lists") {
    auto e = valid_event();
    e.set_remote(3, 0);
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
    e.set_remote(0xFFFFFFFFu, e.remote_count());
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("remote_count past the lists") {
    auto e = valid_event();
    e.set_remote(1, 2);
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
    e.set_remote(0, 3);
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
    // No wrap-around: at + count overflows 32 bits.
    e.set_remote(1, 0xFFFFFFFFu);
    CHECK_FALSE(refs_valid(t.texts, t.lists, e));
  }
  SUBCASE("a list entry past the texts") {
    std::vector<text_ref> lists{0, 2};
    CHECK_FALSE(refs_valid(t.texts, lists, valid_event()));
    // Outside the event's own range it does not matter.
    auto e = valid_event();
    e.set_remote(e.remote_at(), 1);
    CHECK(refs_valid(t.texts, lists, e));
  }
  SUBCASE("a text whose extent lies outside the characters (a remote sender's table)") {
    // Text 0 is "a"; text 1 ends past the 2 characters there are.
    auto bad = text_table::from_parts("ab", {1, 3});
    auto e = valid_event(); // peer 0, local 1, remote [0, 1]
    CHECK_FALSE(refs_valid(bad, t.lists, e));
    e.text = 0;
    e.set_remote(e.remote_at(), 1); // the list's first entry, text 0
    CHECK(refs_valid(bad, t.lists, e));
    e.reason = 1;
    CHECK_FALSE(refs_valid(bad, t.lists, e));
  }
}

TEST_CASE("well_formed: order and counts match, every reference inside") {
  using kind = outcome_kind;
  auto outside = static_cast<outcome_kind>(3); // as a remote sender may send
  CHECK(well_formed(outcome_batch{}));
  auto good = good_outcomes();
  CHECK(well_formed(good));
  SUBCASE("an order value of 3") {
    auto b = good;
    b.order.push_back(outside);
    CHECK_FALSE(well_formed(b));
    b.order = {kind::admitted, kind::denied, outside};
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("a would-denial index outside would_denials") {
    auto b = good;
    b.admits[0].would_deny = 0;
    CHECK_FALSE(well_formed(b));
    b.would_denials.push_back(memory_limit_denial(2, 1, b.admits[0].conn));
    REQUIRE(well_formed(b));
    const denial* seen = nullptr;
    for_each_outcome(
        b, [&](const admitted_view& x) { seen = x.would_deny; }, [](const denied&) {},
        [](const released_view&) {});
    REQUIRE(seen != nullptr);
    CHECK(*seen == memory_limit_denial(2, 1, b.admits[0].conn));
    b.admits[0].would_deny = 1;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("order counts that do not match the vectors") {
    auto b = good;
    b.order = {kind::admitted, kind::admitted, kind::denied,
               kind::released}; // one admitted too many
    CHECK_FALSE(well_formed(b));
    b.order = {kind::admitted, kind::released}; // the denial not named
    CHECK_FALSE(well_formed(b));
    b.order = {kind::denied, kind::denied, kind::released}; // right length, wrong kinds
    CHECK_FALSE(well_formed(b));
    b.order = {};
    CHECK_FALSE(well_formed(b));
    b = good;
    b.releases.push_back(b.releases[0]); // a release the order lacks
    CHECK_FALSE(well_formed(b));
    // Another order of the same counts is fine.
    b = good;
    b.order = {kind::released, kind::denied, kind::admitted};
    CHECK(well_formed(b));
  }
  SUBCASE("an admitted_entry peer past the texts") {
    auto b = good;
    b.admits[0].peer = 5;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("an admitted_entry local past the texts") {
    auto b = good;
    b.admits[0].local = 5;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("an admitted_entry remote range past the lists") {
    auto b = good;
    b.admits[0].remote_count = 3;
    CHECK_FALSE(well_formed(b));
    b.admits[0].remote_at = 3;
    b.admits[0].remote_count = 0;
    CHECK_FALSE(well_formed(b));
    b.admits[0].remote_at = 2; // empty, at the end: fine
    CHECK(well_formed(b));
  }
  SUBCASE("an admitted_entry remote entry past the texts") {
    auto b = good;
    b.lists[1] = 5;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("a released_entry reason past the texts") {
    auto b = good;
    b.releases[0].reason = 5;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("a released_entry peer past the texts") {
    auto b = good;
    b.releases[0].peer = 5;
    CHECK_FALSE(well_formed(b));
  }
  SUBCASE("a referenced text outside the table's characters") {
    // good_outcomes' texts are P L R1 R2 why: 9 characters. Text 4 (the
    // release's reason) now ends past them.
    auto b = good;
    b.texts = text_table::from_parts("PLR1R2why", {1, 2, 4, 6, 10});
    CHECK_FALSE(well_formed(b));
    b.releases[0].reason = no_text;
    CHECK(well_formed(b));
  }
  SUBCASE("no_text references are fine") {
    auto b = good;
    b.admits[0].peer = no_text;
    b.admits[0].local = no_text;
    b.releases[0].peer = no_text;
    b.releases[0].reason = no_text;
    CHECK(well_formed(b));
  }
}

TEST_CASE("for_each_outcome reads a batch in order and refuses a malformed one") {
  auto b = good_outcomes();
  std::vector<std::string> seen;
  CHECK(for_each_outcome(
      b,
      [&](const admitted_view& x) {
        seen.push_back("admitted " + std::to_string(x.conn) + " " + std::string{x.peer} +
                       " " + std::string{x.local} + " " + std::string{x.remote[0]} + "," +
                       std::string{x.remote[1]} + " " + std::to_string(x.at));
      },
      [&](const denied& x) {
        seen.push_back("denied " + std::to_string(x.conn) + " " + std::to_string(x.at));
      },
      [&](const released_view& x) {
        seen.push_back("released " + std::to_string(x.conn) + " " + std::string{x.peer} +
                       " " + std::string{x.reason} + " " + std::to_string(x.at));
      }));
  CHECK(seen == std::vector<std::string>{"admitted 1 P L R1,R2 10", "denied 2 11",
                                         "released 1 P why 12"});
  b.admits[0].peer = 99;
  int calls = 0;
  auto count = [&](const auto&) { ++calls; };
  CHECK_FALSE(for_each_outcome(b, count, count, count));
  CHECK(calls == 0);
}

TEST_CASE("admitted_view::owned and released_view::owned round-trip with view_of") {
  admitted a;
  a.conn = 42;
  a.state = conn_state::established;
  a.dir = direction::outbound;
  a.peer = "QmPeer";
  a.local = "/ip4/0.0.0.0/tcp/1";
  a.remote = {"/dns/x/tcp/1", "", "/dns/y/tcp/2"};
  a.bypassed = true;
  a.at = 123456789;
  auto va = view_of(a);
  CHECK(va.conn == 42);
  CHECK(va.state == conn_state::established);
  CHECK(va.dir == direction::outbound);
  CHECK(va.peer == "QmPeer");
  CHECK(va.peer.data() == a.peer.data());
  CHECK(va.local == "/ip4/0.0.0.0/tcp/1");
  CHECK(texts_of(va.remote) == a.remote);
  CHECK(va.bypassed);
  CHECK(va.at == 123456789);
  auto ca = va.owned();
  CHECK(ca.conn == a.conn);
  CHECK(ca.state == a.state);
  CHECK(ca.dir == a.dir);
  CHECK(ca.peer == a.peer);
  CHECK(ca.local == a.local);
  CHECK(ca.remote == a.remote);
  CHECK(ca.bypassed == a.bypassed);
  CHECK(ca.at == a.at);

  admitted empty;
  auto ce = view_of(empty).owned();
  CHECK(ce.conn == 0);
  CHECK(ce.state == conn_state::pending);
  CHECK(ce.dir == direction::inbound);
  CHECK(ce.peer == "");
  CHECK(ce.local == "");
  CHECK(ce.remote.empty());
  CHECK_FALSE(ce.bypassed);
  CHECK(ce.at == 0);

  released r{7, event_kind::dial_failure, "QmGone", "dial failure", -5};
  auto vr = view_of(r);
  CHECK(vr.conn == 7);
  CHECK(vr.cause == event_kind::dial_failure);
  CHECK(vr.peer == "QmGone");
  CHECK(vr.reason == "dial failure");
  CHECK(vr.at == -5);
  auto cr = vr.owned();
  CHECK(cr.conn == r.conn);
  CHECK(cr.cause == r.cause);
  CHECK(cr.peer == r.peer);
  CHECK(cr.reason == r.reason);
  CHECK(cr.at == r.at);
}

TEST_CASE("to_lifecycle_event puts each typed event's fields where batch_event says") {
  SUBCASE("pending_inbound: local, and the remote address as the one remote") {
    auto e = to_lifecycle_event(pending_inbound{1, "/l", "/r"});
    CHECK(e.kind == event_kind::pending_inbound);
    CHECK(e.conn == 1);
    CHECK(e.peer == "");
    CHECK(e.local == "/l");
    CHECK(e.remote == std::vector<std::string>{"/r"});
    CHECK(e.reason == "");
  }
  SUBCASE("pending_outbound: peer, and the dial addresses as remote") {
    auto e = to_lifecycle_event(pending_outbound{2, "P", {"/a", "/b", "/c"}});
    CHECK(e.kind == event_kind::pending_outbound);
    CHECK(e.conn == 2);
    CHECK(e.peer == "P");
    CHECK(e.local == "");
    CHECK(e.remote == std::vector<std::string>{"/a", "/b", "/c"});
    CHECK(e.reason == "");
  }
  SUBCASE("established_inbound: peer, local, remote") {
    auto e = to_lifecycle_event(established_inbound{3, "P", "/l", "/r"});
    CHECK(e.kind == event_kind::established_inbound);
    CHECK(e.conn == 3);
    CHECK(e.peer == "P");
    CHECK(e.local == "/l");
    CHECK(e.remote == std::vector<std::string>{"/r"});
    CHECK(e.reason == "");
  }
  SUBCASE("established_outbound: peer, and the address as the one remote") {
    auto e = to_lifecycle_event(established_outbound{4, "P", "/a"});
    CHECK(e.kind == event_kind::established_outbound);
    CHECK(e.conn == 4);
    CHECK(e.peer == "P");
    CHECK(e.local == "");
    CHECK(e.remote == std::vector<std::string>{"/a"});
    CHECK(e.reason == "");
  }
  SUBCASE("dial_failure: the connection only") {
    auto e = to_lifecycle_event(dial_failure{5});
    CHECK(e.kind == event_kind::dial_failure);
    CHECK(e.conn == 5);
    CHECK(e.peer == "");
    CHECK(e.local == "");
    CHECK(e.remote.empty());
    CHECK(e.reason == "");
  }
  SUBCASE("listen_failure: the connection only") {
    auto e = to_lifecycle_event(listen_failure{6});
    CHECK(e.kind == event_kind::listen_failure);
    CHECK(e.conn == 6);
    CHECK(e.peer == "");
    CHECK(e.local == "");
    CHECK(e.remote.empty());
    CHECK(e.reason == "");
  }
  SUBCASE("connection_closed: peer and reason") {
    auto e = to_lifecycle_event(connection_closed{7, "P", "eof"});
    CHECK(e.kind == event_kind::connection_closed);
    CHECK(e.conn == 7);
    CHECK(e.peer == "P");
    CHECK(e.local == "");
    CHECK(e.remote.empty());
    CHECK(e.reason == "eof");
  }
  SUBCASE("empty strings stay empty; an empty remote address is still one address") {
    auto e = to_lifecycle_event(pending_inbound{8, "", ""});
    CHECK(e.local == "");
    CHECK(e.remote == std::vector<std::string>{""});
    auto o = to_lifecycle_event(pending_outbound{9, "", {}});
    CHECK(o.peer == "");
    CHECK(o.remote.empty());
  }
}

TEST_CASE("batch_writer: the same string object with new contents is a new text") {
  lifecycle_batch b;
  batch_writer w{b};
  std::string s = "QmFirst";
  CHECK(w.text(s) == 0);
  CHECK(w.text(s) == 0);
  s = "QmSecnd"; // same size, likely the same buffer
  CHECK(w.text(s) == 1);
  s = "QmFirst";
  CHECK(w.text(s) == 0);
  // More distinct texts than the writer remembers by address, then the
  // first ones again: still found, not added twice.
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i)
    many.push_back("/ip4/10.0." + std::to_string(i / 256) + "." +
                   std::to_string(i % 256) + "/tcp/4001");
  for (std::size_t i = 0; i < many.size(); ++i)
    CHECK(w.text(many[i]) == i + 2);
  for (std::size_t i = 0; i < many.size(); ++i) {
    std::string copy = many[i]; // another object, the same text
    CHECK(w.text(copy) == i + 2);
  }
  CHECK(w.text("QmSecnd") == 1);
  CHECK(b.texts.size() == 202);
  CHECK(b.texts[0] == "QmFirst");
  CHECK(b.texts[1] == "QmSecnd");
  CHECK(b.texts[201] == many[199]);
}

namespace {

/// The outcomes of `b`, one line each, read with for_each_outcome.
std::vector<std::string> outcome_lines(const outcome_batch& b) {
  std::vector<std::string> out;
  auto list = [](const text_list& xs) {
    std::string s;
    for (std::size_t i = 0; i < xs.size(); ++i)
      s += (i == 0 ? "" : ",") + std::string{xs[i]};
    return s;
  };
  bool ok = for_each_outcome(
      b,
      [&](const admitted_view& x) {
        out.push_back("admitted " + std::to_string(x.conn) + " " + to_string(x.state) +
                      " " + to_string(x.dir) + " peer=" + std::string{x.peer} +
                      " local=" + std::string{x.local} + " remote=" + list(x.remote) +
                      (x.bypassed ? " bypassed" : "") + " at=" + std::to_string(x.at));
      },
      [&](const denied& x) {
        out.push_back("denied " + std::to_string(x.conn) + " " + to_string(x.event) +
                      " " + to_string(x.why.code) + " at=" + std::to_string(x.at));
      },
      [&](const released_view& x) {
        out.push_back("released " + std::to_string(x.conn) + " " + to_string(x.cause) +
                      " peer=" + std::string{x.peer} +
                      " reason=" + std::string{x.reason} + " at=" + std::to_string(x.at));
      });
  if (!ok)
    out.push_back("malformed");
  return out;
}

} // namespace

TEST_CASE("outcome_writer: a single event's texts copied in, \"\" as no_text") {
  outcome_batch b;
  outcome_writer w{b};
  auto e = w.add_texts(
      event(event_kind::pending_outbound, 4, "QmP", "", {"/a", "", "/b"}, "why"));
  CHECK(e.kind == event_kind::pending_outbound);
  CHECK(e.conn() == 4);
  CHECK(b.texts == text_table{"QmP", "why", "/a", "/b"});
  CHECK(e.peer == 0);
  CHECK(e.local() == no_text);
  CHECK(e.reason == 1);
  CHECK(e.remote_at() == 0);
  CHECK(e.remote_count() == 3);
  CHECK(b.lists == std::vector<text_ref>{2, no_text, 3});
  CHECK(w.text_of(e.peer) == "QmP");
  CHECK(w.text_of(no_text) == "");
  // A second event's lists follow the first's.
  auto e2 = w.add_texts(event(event_kind::pending_inbound, 5, "", "/l", {"/r"}, ""));
  CHECK(e2.remote_at() == 3);
  CHECK(e2.remote_count() == 1);
  CHECK(b.order.empty()); // texts only: no outcome yet
}

TEST_CASE("outcome_writer: each outcome as the single form would carry it") {
  outcome_batch b;
  outcome_writer w{b};
  auto in = w.add_texts(event(event_kind::pending_inbound, 1, "", "/l", {"/r"}, ""));
  auto out = w.add_texts(
      event(event_kind::pending_outbound, 2, "QmB", "/not-kept", {"/b1", "/b2"}, ""));
  auto est = w.add_texts(
      event(event_kind::established_outbound, 2, "QmB", "/not-kept", {"/b1"}, ""));
  auto fail = w.add_texts(event(event_kind::dial_failure, 3, "", "", {}, ""));
  auto close = w.add_texts(event(event_kind::connection_closed, 1, "", "", {}, "done"));
  auto close2 =
      w.add_texts(event(event_kind::connection_closed, 2, "QmX", "", {}, "bye"));
  w.admitted(in, conn_state::pending, direction::inbound, std::nullopt, false, 10);
  w.admitted(out, conn_state::pending, direction::outbound, std::nullopt, true, 11);
  w.denied(est, connection_limit_denial(limit_kind::established_outbound, 1, 1, 2, "QmB"),
           12);
  w.released(fail, peer_id{"QmDialled"}, "dial failure", 13);
  w.released(close, peer_id{""}, {}, 14); // known: no peer
  w.released(close2, std::nullopt, {}, 15);
  CHECK(b.order ==
        std::vector<outcome_kind>{outcome_kind::admitted, outcome_kind::admitted,
                                  outcome_kind::denied, outcome_kind::released,
                                  outcome_kind::released, outcome_kind::released});
  CHECK(well_formed(b));
  CHECK(outcome_lines(b) ==
        std::vector<std::string>{
            "admitted 1 pending inbound peer= local=/l remote=/r at=10",
            "admitted 2 pending outbound peer=QmB local= remote=/b1,/b2 bypassed at=11",
            "denied 2 established_outbound connection_limit at=12",
            "released 3 dial_failure peer=QmDialled reason=dial failure at=13",
            "released 1 connection_closed peer= reason=done at=14",
            "released 2 connection_closed peer=QmX reason=bye at=15"});
  CHECK(b.denials[0].why ==
        connection_limit_denial(limit_kind::established_outbound, 1, 1, 2, "QmB"));
  CHECK(to_string(outcome_kind::denied) == "denied");
}
