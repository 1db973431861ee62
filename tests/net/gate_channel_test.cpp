// The gate channel: the events of one io-loop turn go to the gate as one
// lifecycle batch, in order; each asked event gets its own verdict back.
#include <mutex>

#include "net/actor_bridge.hpp"
#include "net/gate_channel.hpp"
#include "net_fixture.hpp"

using namespace rcmgr;
using namespace rcmgr::net;
using namespace rcmgr::test;

namespace {

/// What the recording gate was sent: each batch's events as (kind, conn).
struct batch_log {
  std::mutex mtx;
  std::vector<std::vector<std::pair<event_kind, connection_id>>> batches;
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return batches.size();
  }
  std::vector<std::vector<std::pair<event_kind, connection_id>>> now() {
    std::lock_guard<std::mutex> guard{mtx};
    return batches;
  }
};

/// Allows pending events, answers ok to the others; `silent`: answers
/// nothing (an ask stays out until the gate is gone).
caf::behavior recording_gate(caf::event_based_actor* self, std::shared_ptr<batch_log> log,
                             bool silent) {
  return {
      [self, log, silent](oneway_batch& ow) {
        std::vector<std::pair<event_kind, connection_id>> seen;
        std::vector<verdict> out;
        for (auto& e : ow.batch.events) {
          seen.emplace_back(e.kind, e.conn());
          bool pending = e.kind == event_kind::pending_inbound ||
                         e.kind == event_kind::pending_outbound;
          out.push_back(pending ? verdict::allow() : verdict::ok());
        }
        {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->batches.push_back(std::move(seen));
        }
        if (!silent && ow.reply_to)
          self->send(ow.reply_to, batch_verdicts{ow.id, std::move(out)});
      },
  };
}

/// Collects the verdicts the replies carry, by the asking event's id.
struct answers : std::enable_shared_from_this<answers> {
  std::mutex mtx;
  std::map<connection_id, std::string> got; // "allow", "ok", or "error"
  gate_channel::reply to(connection_id conn) {
    // Shared: a reply may run after a failed check ends the test.
    return [self = shared_from_this(), conn](caf::expected<verdict> v) {
      std::lock_guard<std::mutex> guard{self->mtx};
      self->got[conn] = !v ? "error" : v->allowed() ? "allow" : "ok";
    };
  }
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return got.size();
  }
  std::map<connection_id, std::string> now() {
    std::lock_guard<std::mutex> guard{mtx};
    return got;
  }
};

/// A recording gate, a bridge, an io_context this thread runs, and the
/// answers the replies carry.
struct channel_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{quiet(cfg)};
  std::shared_ptr<batch_log> log = std::make_shared<batch_log>();
  caf::actor gate = sys.spawn(recording_gate, log, false);
  caf::actor bridge = sys.spawn(actor_bridge, std::string{"test"});
  asio::io_context io;
  std::shared_ptr<answers> ap = std::make_shared<answers>();
  answers& a = *ap;

  std::shared_ptr<gate_channel> make_channel() {
    return std::make_shared<gate_channel>(io, bridge, caf::actor_cast<gate_actor>(gate));
  }

  ~channel_fixture() {
    caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
  }
};

} // namespace

TEST_CASE_FIXTURE(channel_fixture,
                  "one io-loop turn of events reaches the gate as one batch, in order") {
  auto channel = make_channel();
  channel->ask(to_lifecycle_event(pending_inbound{1, "l", "r"}), a.to(1));
  channel->ask(to_lifecycle_event(pending_outbound{2, "P", {"addr"}}), a.to(2));
  channel->tell(to_lifecycle_event(connection_closed{1, "", "done"}));
  channel->ask(to_lifecycle_event(established_outbound{2, "P", "addr"}), a.to(3));
  CHECK(log->size() == 0); // nothing leaves before the loop turns
  io.run();                // runs the one posted flush
  REQUIRE(eventually([&] { return a.size() == 3; }));
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    using E = event_kind;
    REQUIRE(log->batches.size() == 1);
    CHECK(log->batches[0] == std::vector<std::pair<event_kind, connection_id>>{
                                 {E::pending_inbound, 1},
                                 {E::pending_outbound, 2},
                                 {E::connection_closed, 1},
                                 {E::established_outbound, 2}});
  }
  {
    std::lock_guard<std::mutex> guard{a.mtx};
    CHECK(a.got ==
          std::map<connection_id, std::string>{{1, "allow"}, {2, "allow"}, {3, "ok"}});
  }
  CHECK(channel->batches() == 1);
  CHECK(channel->events() == 4);
  // With the loop stopped, flush() sends on the calling thread.
  channel->tell(to_lifecycle_event(dial_failure{2}));
  channel->flush();
  CHECK(eventually([&] { return log->size() == 2; }));
  CHECK(channel->events() == 5);
}

TEST_CASE_FIXTURE(channel_fixture,
                  "a gate that is gone answers every asked event with an error") {
  caf::scoped_actor self{sys};
  self->monitor(gate);
  caf::anon_send_exit(gate, caf::exit_reason::kill);
  self->receive([](const caf::down_msg&) {});
  auto channel = make_channel();
  channel->ask(to_lifecycle_event(pending_inbound{7, "l", "r"}), a.to(7));
  channel->tell(to_lifecycle_event(connection_closed{7, "", "done"}));
  channel->ask(to_lifecycle_event(pending_inbound{8, "l", "r"}), a.to(8));
  io.run();
  REQUIRE(eventually([&] { return a.size() == 2; }));
  CHECK(a.now() == std::map<connection_id, std::string>{{7, "error"}, {8, "error"}});
  CHECK(log->size() == 0);
}

TEST_CASE_FIXTURE(
    channel_fixture,
    "an ask out when the gate goes gets an error, and so does a later one") {
  caf::actor silent = sys.spawn(recording_gate, log, true);
  auto channel =
      std::make_shared<gate_channel>(io, bridge, caf::actor_cast<gate_actor>(silent));
  channel->ask(to_lifecycle_event(pending_inbound{3, "l", "r"}), a.to(3));
  io.run();
  REQUIRE(eventually([&] { return log->size() == 1; }));
  CHECK(a.size() == 0); // asked, not answered
  caf::anon_send_exit(silent, caf::exit_reason::kill);
  REQUIRE(eventually([&] { return a.size() == 1; }));
  CHECK(a.now() == std::map<connection_id, std::string>{{3, "error"}});
  channel->ask(to_lifecycle_event(pending_inbound{4, "l", "r"}), a.to(4));
  io.restart();
  io.run();
  REQUIRE(eventually([&] { return a.size() == 2; }));
  CHECK(a.now() == std::map<connection_id, std::string>{{3, "error"}, {4, "error"}});
  CHECK(log->size() == 1);
}

TEST_CASE("bridge asks: each answer reaches its own replies once; a gone destination "
          "fails its asks") {
  caf::actor_system_config cfg;
  caf::actor_system sys{quiet(cfg)};
  caf::scoped_actor g1{sys};
  caf::scoped_actor g2{sys};
  auto d1 = caf::actor_cast<caf::actor_addr>(g1);
  auto d2 = caf::actor_cast<caf::actor_addr>(g2);
  std::vector<std::string> got;
  auto rec = [&](std::string tag) -> verdict_reply {
    return [&got, tag](caf::expected<verdict> v) {
      if (v && v->denied())
        got.push_back(tag + " deny(" + std::to_string(v->why->conn) + ")");
      else
        got.push_back(tag + (!v ? " error" : v->allowed() ? " allow" : " ok"));
    };
  };
  bridge_asks asks;
  auto one = asks.add(d1, rec("one"));
  auto batch = asks.add(d1, std::vector<verdict_reply>{rec("b0"), nullptr, rec("b2")});
  auto other = asks.add(d2, rec("other"));
  auto short_batch = asks.add(d2, std::vector<verdict_reply>{rec("s0"), rec("s1")});
  CHECK(one == 1);
  CHECK(batch == 2);
  CHECK(other == 3);
  CHECK(short_batch == 4);
  CHECK(asks.size() == 4);
  // An answer of the wrong form, or to an unknown id, is dropped.
  batch_verdicts wrong{one, {verdict::allow()}};
  asks.answer(wrong);
  asks.answer(event_verdict{batch, verdict::allow()});
  asks.answer(event_verdict{99, verdict::allow()});
  CHECK(got.empty());
  asks.answer(event_verdict{one, verdict::allow()});
  asks.answer(event_verdict{one, verdict::ok()}); // counted once
  // Its denial reaches its reply whole (the allow in between is a byte).
  batch_verdicts vs{
      batch,
      {verdict::ok(), verdict::allow(),
       verdict::deny(connection_limit_denial(limit_kind::pending_inbound, 1, 1, 9, ""))}};
  asks.answer(vs);
  // A batch answered with fewer verdicts than entries: the rest get an error.
  batch_verdicts few{short_batch, {verdict::allow()}};
  asks.answer(few);
  CHECK(got == std::vector<std::string>{"one allow", "b0 ok", "b2 deny(9)", "s0 allow",
                                        "s1 error"});
  CHECK(asks.size() == 1);
  asks.add(d1, rec("late"));
  CHECK_FALSE(asks.gone(d2));
  asks.fail(d2, caf::make_error(caf::sec::request_receiver_down));
  CHECK(asks.gone(d2));
  CHECK_FALSE(asks.gone(d1));
  CHECK(got.back() == "other error");
  CHECK(asks.size() == 1); // d1's ask is still out
}
