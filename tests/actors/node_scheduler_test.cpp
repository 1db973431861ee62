// use_node_scheduler: the work-stealing settings peer-node and rcmgr-bench
// run with, a command-line flag still winning over them, and an actor system
// on the real scheduler with them delivering what a thread outside CAF sends
// and what actors send each other; its scheduler (patient_stealing, CAF's
// own for the other policies), which still takes a job waiting behind a long
// one to the idle worker (docs/node.md, "Threads").
#include <atomic>
#include <chrono>
#include <cstddef>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <doctest/doctest.h>

#include "actors/runtime.hpp"
#include "scheduler/patient_stealing.hpp"

using namespace std::chrono_literals;

namespace {

std::size_t count_of(const caf::actor_system_config& cfg, const char* key) {
  return caf::get_or(cfg, std::string{"work-stealing."} + key, std::size_t{0});
}

caf::timespan time_of(const caf::actor_system_config& cfg, const char* key) {
  return caf::get_or(cfg, std::string{"work-stealing."} + key, caf::timespan{0});
}

// Adds one to what it is given, through `next` when there is one: a message
// between two actors, which stays on the sender's worker until it is stolen.
caf::behavior adder(caf::event_based_actor* self, caf::actor next) {
  if (!next)
    return {[](int x) { return x + 1; }};
  return {[self, next](int x) -> caf::result<int> {
    auto rp = self->make_response_promise<int>();
    self->request(next, 10s, x)
        .then([rp](int y) mutable { rp.deliver(y + 1); },
              [rp](caf::error& e) mutable { rp.deliver(e); });
    return rp;
  }};
}

} // namespace

TEST_CASE("use_node_scheduler: one poll in each polling phase, a steal every 1 ms") {
  caf::actor_system_config cfg;
  rcmgr::use_node_scheduler(cfg);
  CHECK(count_of(cfg, "aggressive-poll-attempts") == 1);
  CHECK(count_of(cfg, "moderate-poll-attempts") == 1);
  CHECK(time_of(cfg, "relaxed-sleep-duration") == caf::timespan{1ms});
  // The rest is CAF's: nothing else is set.
  CHECK(count_of(cfg, "aggressive-steal-interval") == 0);
  CHECK(count_of(cfg, "moderate-steal-interval") == 0);
  CHECK(count_of(cfg, "relaxed-steal-interval") == 0);
  CHECK(time_of(cfg, "moderate-sleep-duration") == caf::timespan{0});
}

TEST_CASE("a --work-stealing flag parsed after use_node_scheduler wins") {
  caf::actor_system_config cfg;
  rcmgr::use_node_scheduler(cfg);
  std::vector<std::string> args{"--work-stealing.aggressive-poll-attempts=7",
                                "--work-stealing.relaxed-sleep-duration=10ms"};
  std::istringstream no_file;
  REQUIRE(!cfg.parse(args, no_file));
  CHECK(count_of(cfg, "aggressive-poll-attempts") == 7);
  CHECK(time_of(cfg, "relaxed-sleep-duration") == caf::timespan{10ms});
  CHECK(count_of(cfg, "moderate-poll-attempts") == 1);
}

TEST_CASE("an actor system with the node's scheduler delivers every message") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::size_t{2});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  rcmgr::use_node_scheduler(cfg);
  caf::actor_system sys{cfg};
  auto last = sys.spawn(adder, caf::actor{});
  auto first = sys.spawn(adder, last);
  caf::scoped_actor self{sys};
  int answered = 0;
  int errors = 0;
  // One at a time, so that both workers are parked between two of them.
  for (int i = 0; i < 200; ++i)
    self->request(first, 10s, i)
        .receive([&](int y) { answered += y == i + 2 ? 1 : 0; },
                 [&](caf::error&) { ++errors; });
  CHECK(answered == 200);
  CHECK(errors == 0);
  self->send_exit(first, caf::exit_reason::user_shutdown);
  self->send_exit(last, caf::exit_reason::user_shutdown);
}

namespace {

void use_two_workers(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", std::size_t{2});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  rcmgr::use_node_scheduler(cfg);
}

/// Whether an actor system built with use_node_scheduler, then `args` parsed
/// as peer-node parses its command line, runs on `Coordinator`.
template <class Coordinator> bool scheduler_is(std::vector<std::string> args) {
  caf::actor_system_config cfg;
  use_two_workers(cfg);
  std::istringstream no_file;
  if (auto err = cfg.parse(std::move(args), no_file)) {
    FAIL_CHECK("bad arguments: " << cfg.render(err));
    return false;
  }
  caf::actor_system sys{cfg};
  return dynamic_cast<Coordinator*>(&sys.scheduler()) != nullptr;
}

using hold_atom = caf::atom_constant<caf::atom("hold")>;
using mark_atom = caf::atom_constant<caf::atom("mark")>;

struct stolen_job {
  std::atomic<bool> ran{false};
  std::atomic<std::size_t> thread{0};        // the marker's
  std::atomic<std::size_t> holder_thread{0}; // the holder's
};

std::size_t this_thread_hash() {
  return std::hash<std::thread::id>{}(std::this_thread::get_id());
}

// Records that it ran, and on which thread.
caf::behavior marker(caf::event_based_actor*, stolen_job* job) {
  return {[job](mark_atom) {
    job->thread = this_thread_hash();
    job->ran = true;
  }};
}

// Queues a message to the idle `mark` actor on its own worker, then keeps
// that worker until the marker has run (or 10 s have passed): only the other
// worker can run it. Answers whether it ran.
caf::behavior holder(caf::event_based_actor* self, caf::actor mark, stolen_job* job) {
  return {[self, mark, job](hold_atom) {
    job->holder_thread = this_thread_hash();
    self->send(mark, mark_atom::value);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!job->ran && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    return job->ran.load();
  }};
}

} // namespace

TEST_CASE("use_node_scheduler: patient stealing, CAF's work stealing as `eager`, CAF's "
          "scheduler for the other policies") {
  using caf::scheduler::coordinator;
  using patient = coordinator<rcmgr::patient_stealing>;
  using eager = coordinator<caf::policy::work_stealing>;
  CHECK(scheduler_is<patient>({}));
  CHECK(scheduler_is<patient>({"--scheduler.policy=stealing"}));
  CHECK(scheduler_is<eager>({"--scheduler.policy=eager"}));
  CHECK_FALSE(scheduler_is<patient>({"--scheduler.policy=eager"}));
  CHECK(scheduler_is<caf::scheduler::test_coordinator>({"--scheduler.policy=testing"}));
  CHECK(scheduler_is<coordinator<caf::policy::work_sharing>>(
      {"--scheduler.policy=sharing"}));
  // As CAF does: a warning, and work stealing (the node's).
  CHECK(scheduler_is<patient>({"--scheduler.policy=bogus"}));
}

TEST_CASE("a job queued behind a long one on a worker is taken by the other") {
  caf::actor_system_config cfg;
  use_two_workers(cfg);
  caf::actor_system sys{cfg};
  stolen_job job;
  auto mark = sys.spawn(marker, &job);
  auto hold = sys.spawn(holder, mark, &job);
  caf::scoped_actor self{sys};
  bool ran = false;
  self->request(hold, 20s, hold_atom::value)
      .receive([&](bool r) { ran = r; },
               [&](caf::error& e) { FAIL("the holder failed: " << sys.render(e)); });
  CHECK(ran);
  CHECK(job.thread.load() != job.holder_thread.load());
  self->send_exit(hold, caf::exit_reason::user_shutdown);
  self->send_exit(mark, caf::exit_reason::user_shutdown);
}
