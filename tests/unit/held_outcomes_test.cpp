// The held outcomes of single events: what is held, when it is due, and the
// single form of a lone outcome.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "actors/gate/held_outcomes.hpp"

using namespace rcmgr;

namespace {

lifecycle_event event(event_kind kind, connection_id conn, peer_id peer,
                      std::string local, std::vector<std::string> remote) {
  lifecycle_event e;
  e.kind = kind;
  e.conn = conn;
  e.peer = std::move(peer);
  e.local = std::move(local);
  e.remote = std::move(remote);
  return e;
}

/// Holds one event: its outcome is admitted (when `admit`) or none; the
/// reply is held when due. Returns whether it was held.
bool hold_one(held_outcomes<int>& held, const lifecycle_event& e, bool admit, int reply) {
  auto be = held.open(e);
  if (admit)
    held.writer().admitted(be, conn_state::pending, direction::inbound, std::nullopt,
                           false, 0);
  if (!held.close())
    return false;
  held.hold(reply);
  return true;
}

const auto never_idle = [] { return false; };
const auto idle = [] { return true; };

} // namespace

TEST_CASE("an event with an outcome holds its texts, its outcome and its reply") {
  held_outcomes<int> held;
  CHECK(held.empty());
  CHECK_FALSE(held.publish_due(idle));
  auto e = event(event_kind::pending_inbound, 1, "", "/l", {"/r"});
  CHECK(hold_one(held, e, true, 10));
  CHECK_FALSE(held.empty());
  CHECK(held.size() == 1);
  CHECK(held.replies() == 1);
  CHECK_FALSE(held.publish_due(never_idle));
  CHECK(held.publish_due(idle));
  auto out = held.take();
  CHECK(held.empty());
  CHECK(out.replies == std::vector<int>{10});
  CHECK(out.outcomes.texts == text_table{"/l", "/r"});
  REQUIRE(out.outcomes.admits.size() == 1);
  CHECK(out.outcomes.admits[0].conn == 1);
  CHECK(out.outcomes.admits[0].local == 0);
  CHECK(out.outcomes.lists == std::vector<text_ref>{1});
  // Taken: the next event starts a fresh batch.
  CHECK(hold_one(held, event(event_kind::pending_inbound, 2, "", "/l2", {}), true, 11));
  CHECK(held.take().outcomes.texts == text_table{"/l2"});
}

TEST_CASE("an event without an outcome leaves no texts, and waits only behind others") {
  held_outcomes<int> held;
  // Nothing held: answered at once, nothing kept.
  CHECK_FALSE(
      hold_one(held, event(event_kind::connection_closed, 9, "P", "", {}), false, 1));
  CHECK(held.empty());
  // Behind a held reply: held too, in order, but its texts go.
  CHECK(hold_one(held, event(event_kind::pending_inbound, 1, "", "/l", {"/r"}), true, 2));
  CHECK(hold_one(held, event(event_kind::connection_closed, 9, "QmLong", "", {"/x"}),
                 false, 3));
  CHECK(held.size() == 1);
  CHECK(held.replies() == 2);
  auto out = held.take();
  CHECK(out.replies == std::vector<int>{2, 3});
  CHECK(out.outcomes.texts == text_table{"/l", "/r"});
  CHECK(out.outcomes.lists == std::vector<text_ref>{1});
  CHECK(well_formed(out.outcomes));
}

TEST_CASE("at most 64 outcomes are held: the 64th makes a publication due") {
  held_outcomes<int> held;
  CHECK(held_outcomes<int>::max_outcomes == 64);
  for (int i = 0; i < 63; ++i) {
    CHECK(hold_one(held, event(event_kind::pending_inbound, i, "", "/l", {}), true, i));
    CHECK_FALSE(held.publish_due(never_idle));
  }
  CHECK(hold_one(held, event(event_kind::pending_inbound, 63, "", "/l", {}), true, 63));
  CHECK(held.size() == 64);
  CHECK(held.publish_due(never_idle));
  auto out = held.take();
  CHECK(out.outcomes.order.size() == 64);
  CHECK(out.replies.size() == 64);
  CHECK(out.replies.back() == 63);
  CHECK_FALSE(held.publish_due(idle));
}

TEST_CASE("the replies' vector given back is used again, with its capacity") {
  held_outcomes<int> held;
  for (int i = 0; i < 40; ++i)
    CHECK(hold_one(held, event(event_kind::pending_inbound, i, "", "/l", {}), true, i));
  auto out = held.take();
  REQUIRE(out.replies.size() == 40);
  auto capacity = out.replies.capacity();
  held.recycle(std::move(out.replies));
  CHECK(held.empty());
  CHECK(hold_one(held, event(event_kind::pending_inbound, 40, "", "/l", {}), true, 40));
  auto again = held.take();
  CHECK(again.replies == std::vector<int>{40});
  CHECK(again.replies.capacity() == capacity);
  CHECK(again.outcomes.order.size() == 1);
}

TEST_CASE("idleness is asked only when something is held and below the bound") {
  held_outcomes<int> held;
  int asked = 0;
  auto counting = [&] {
    ++asked;
    return false;
  };
  CHECK_FALSE(held.publish_due(counting));
  CHECK(asked == 0);
  CHECK(hold_one(held, event(event_kind::pending_inbound, 1, "", "", {}), true, 1));
  CHECK_FALSE(held.publish_due(counting));
  CHECK(asked == 1);
}

TEST_CASE("a lone outcome in its single form, texts copied out") {
  using single = std::variant<admitted, denied, released>;
  auto single_of = [](outcome_batch& b) {
    std::vector<single> got;
    with_single_form(b, [&](auto x) { got.emplace_back(std::move(x)); });
    REQUIRE(got.size() == 1);
    return got[0];
  };
  SUBCASE("admitted: every dial address kept") {
    outcome_batch b;
    outcome_writer w{b};
    auto be =
        w.add_texts(event(event_kind::pending_outbound, 4, "QmP", "", {"/a", "/b"}));
    w.admitted(be, conn_state::pending, direction::outbound, std::nullopt, true, 77);
    auto x = std::get<admitted>(single_of(b));
    CHECK(x.conn == 4);
    CHECK(x.state == conn_state::pending);
    CHECK(x.dir == direction::outbound);
    CHECK(x.peer == "QmP");
    CHECK(x.local == "");
    CHECK(x.remote == std::vector<std::string>{"/a", "/b"});
    CHECK(x.bypassed);
    CHECK(x.at == 77);
  }
  SUBCASE("denied") {
    outcome_batch b;
    outcome_writer w{b};
    auto be = w.add_texts(event(event_kind::pending_inbound, 5, "", "/l", {"/r"}));
    w.denied(be, memory_limit_denial(9, 8, 5), 78);
    auto x = std::get<denied>(single_of(b));
    CHECK(x.conn == 5);
    CHECK(x.event == event_kind::pending_inbound);
    CHECK(x.why == memory_limit_denial(9, 8, 5));
    CHECK(x.at == 78);
  }
  SUBCASE("released: the known peer and the fixed reason") {
    outcome_batch b;
    outcome_writer w{b};
    auto be = w.add_texts(event(event_kind::dial_failure, 6, "", "", {}));
    w.released(be, peer_id{"QmD"}, "dial failure", 79);
    auto x = std::get<released>(single_of(b));
    CHECK(x.conn == 6);
    CHECK(x.cause == event_kind::dial_failure);
    CHECK(x.peer == "QmD");
    CHECK(x.reason == "dial failure");
    CHECK(x.at == 79);
  }
}
