// A CAF actor system on the deterministic test coordinator, for doctest.
// Everything runs on the test thread: run() delivers every queued message,
// advance() moves virtual time and fires what fell due.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "messages/interfaces.hpp"
#include "messages/json.hpp"

namespace rcmgr::test {

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

struct actor_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched{
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())};
  caf::scoped_actor self{sys};

  void run() { sched.run(); }

  void advance(std::chrono::milliseconds ms) {
    sched.run();
    sched.advance_time(ms);
    sched.run();
  }

  /// Sends `msg`, runs every actor to quiescence, returns the reply. A
  /// missing reply or an error fails the test.
  template <class Result, class Handle, class... Ts>
  Result ask(const Handle& h, Ts&&... xs) {
    Result result{};
    auto handle = self->request(h, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    bool got = false;
    handle.receive(
        [&](Result& x) {
          result = std::move(x);
          got = true;
        },
        // FAIL_CHECK, not FAIL: the test goes on to stop its actors, so the
        // actor system's destructor does not wait forever.
        [&](const caf::error& e) {
          FAIL_CHECK("request failed: " << caf::to_string(e));
        });
    CHECK(got);
    return result;
  }

  template <class Handle, class Message>
  verdict verdict_of(const Handle& h, Message msg) {
    return ask<verdict>(h, std::move(msg));
  }

  template <class Handle> nlohmann::json dump_of(const Handle& h) {
    return nlohmann::json::parse(ask<std::string>(h, dump_atom::value));
  }

  /// Stops the given actors and lets them finish, so that the actor system's
  /// destructor returns.
  template <class... Handles> void stop(const Handles&... hs) {
    (caf::anon_send_exit(hs, caf::exit_reason::user_shutdown), ...);
    sched.run();
  }
};

/// What a recording listener saw, as short strings: "admitted 1 pending
/// inbound", "denied 2 pending_inbound connection_limit", "released 1
/// connection_closed".
struct outcome_log {
  std::vector<std::string> lines;
};

struct recorder_state {
  outcome_log* log = nullptr;
};

inline std::string describe(const admitted& x) {
  return "admitted " + std::to_string(x.conn) + " " + to_string(x.state) + " " +
         to_string(x.dir) + (x.bypassed ? " bypassed" : "");
}

inline std::string describe(const denied& x) {
  return "denied " + std::to_string(x.conn) + " " + to_string(x.event) + " " +
         to_string(x.why.code);
}

inline std::string describe(const released& x) {
  return "released " + std::to_string(x.conn) + " " + to_string(x.cause);
}

inline std::string describe(const admitted_view& x) {
  return describe(x.owned());
}

inline std::string describe(const released_view& x) {
  return describe(x.owned());
}

/// Records each outcome as a line; a batch's outcomes are recorded as
/// "batch N" followed by each of them.
inline lifecycle_listener::behavior_type
recorder(lifecycle_listener::stateful_pointer<recorder_state> self, outcome_log* log) {
  self->state.log = log;
  return {
      [self](const admitted& x) { self->state.log->lines.push_back(describe(x)); },
      [self](const denied& x) { self->state.log->lines.push_back(describe(x)); },
      [self](const released& x) { self->state.log->lines.push_back(describe(x)); },
      [self](const outcome_batch& b) {
        auto& lines = self->state.log->lines;
        lines.push_back("batch " + std::to_string(b.order.size()));
        auto line = [&](const auto& x) { lines.push_back(describe(x)); };
        if (!for_each_outcome(b, line, line, line))
          lines.push_back("malformed batch");
      },
  };
}

} // namespace rcmgr::test
