// What the runtime does when a resource actor stops abnormally
// (docs/faults.md): the fault is named in the dump and told to the fault
// hook, the other actors go on with exact counts, and a shutdown is no fault.
// A fault is injected by stopping the actor with exit reason
// `unhandled_exception`, which is how CAF stops an actor whose handler threw.
#include "actor_fixture.hpp"

#include <string>
#include <utility>
#include <vector>

#include "actors/runtime.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

using fault_lines = std::vector<std::pair<std::string, std::string>>;

struct runtime_fixture : actor_fixture {
  fault_lines told;
  std::unique_ptr<runtime> rt;

  void start(const std::string& config_text) {
    auto parsed = parse_config_text(config_text);
    REQUIRE(parsed);
    runtime_options opts;
    opts.memory.kind = memory_source_kind::injected;
    opts.on_fault = [this](const std::string& part, const std::string& reason) {
      told.emplace_back(part, reason);
    };
    rt = std::make_unique<runtime>(sys, *parsed, opts);
    run();
  }

  ~runtime_fixture() {
    if (rt)
      rt->shutdown();
    run();
  }

  const runtime_handles& h() const { return rt->handles(); }

  template <class Handle> void crash(const Handle& x) {
    caf::anon_send_exit(x, caf::exit_reason::unhandled_exception);
    run();
  }

  /// The error a request to `h` gets, or none.
  template <class Handle, class Message> caf::error error_of(const Handle& h, Message m) {
    caf::error result;
    auto handle = self->request(h, caf::infinite, std::move(m));
    run();
    handle.receive([](const verdict&) {}, [&](const caf::error& e) { result = e; });
    return result;
  }
};

constexpr const char* limits_config =
    R"({"connection_limits": {"max_pending_inbound": 2}})";

} // namespace

TEST_CASE_FIXTURE(runtime_fixture, "a healthy runtime has no faults part in its dump") {
  start(limits_config);
  auto doc = dump_of(h().dump);
  CHECK_FALSE(doc.contains("faults"));
  CHECK(doc["missing"] == nlohmann::json::array());
  CHECK(told.empty());
}

TEST_CASE_FIXTURE(runtime_fixture,
                  "each resource actor's fault is named in the dump and told once") {
  start(limits_config);
  SUBCASE("tracker") {
    crash(h().tracker);
    auto doc = dump_of(h().dump);
    CHECK(
        doc["faults"] ==
        nlohmann::json{{"tracker", {{"reason", "unhandled_exception"}, {"age_ms", 0}}}});
    CHECK(doc["missing"] == nlohmann::json{"tracker"});
    CHECK(doc["connections"].is_null());
    CHECK(told == fault_lines{{"tracker", "unhandled_exception"}});
  }
  SUBCASE("memory sampler") {
    crash(h().sampler);
    auto doc = dump_of(h().dump);
    CHECK(doc["faults"]["memory_sampler"]["reason"] == "unhandled_exception");
    CHECK(doc["missing"] == nlohmann::json{"memory_sampler"});
    CHECK(told == fault_lines{{"memory_sampler", "unhandled_exception"}});
  }
  SUBCASE("rate limiter") {
    crash(h().rate_limiter);
    auto doc = dump_of(h().dump);
    CHECK(doc["faults"]["rate_limiter"]["reason"] == "unhandled_exception");
    CHECK(doc["missing"] == nlohmann::json{"rate_limiter"});
    CHECK(doc["rate_limits"].is_null());
    CHECK(told == fault_lines{{"rate_limiter", "unhandled_exception"}});
  }
  SUBCASE("socket watcher") {
    crash(h().watcher);
    auto doc = dump_of(h().dump);
    CHECK(doc["faults"]["socket_watcher"]["reason"] == "unhandled_exception");
    CHECK(doc["missing"] == nlohmann::json{"socket_watcher"});
    CHECK(told == fault_lines{{"socket_watcher", "unhandled_exception"}});
  }
  SUBCASE("control") {
    crash(h().control);
    auto doc = dump_of(h().dump);
    CHECK(doc["faults"]["control"]["reason"] == "unhandled_exception");
    // The control actor has no dump part: nothing is missing.
    CHECK(doc["missing"] == nlohmann::json::array());
    CHECK(error_of(h().control, bypass_peer{"QmA"}) == caf::sec::request_receiver_down);
    CHECK(told == fault_lines{{"control", "unhandled_exception"}});
  }
  SUBCASE("state dump") {
    crash(h().dump);
    // Nobody can read a dump any more; the hook still names the part.
    CHECK(told == fault_lines{{"state_dump", "unhandled_exception"}});
  }
}

TEST_CASE_FIXTURE(runtime_fixture, "a dead gate answers nobody: callers get an error") {
  start(limits_config);
  crash(h().gate);
  CHECK(error_of(h().gate, pending_inbound{1, "l", "r"}) ==
        caf::sec::request_receiver_down);
  auto doc = dump_of(h().dump);
  CHECK(doc["faults"]["gate"]["reason"] == "unhandled_exception");
  CHECK(doc["missing"] == nlohmann::json{"gate"});
  CHECK(doc["limits"].is_null());
  CHECK(told == fault_lines{{"gate", "unhandled_exception"}});
}

TEST_CASE_FIXTURE(runtime_fixture,
                  "the gate's counts stay exact when the tracker is gone") {
  start(limits_config);
  crash(h().tracker);
  CHECK(verdict_of(h().gate, pending_inbound{1, "l", "r1"}).allowed());
  CHECK(verdict_of(h().gate, pending_inbound{2, "l", "r2"}).allowed());
  CHECK(verdict_of(h().gate, pending_inbound{3, "l", "r3"}).denied());
  CHECK(verdict_of(h().gate, established_inbound{1, "QmA", "l", "r1"}).allowed());
  CHECK(verdict_of(h().gate, connection_closed{2, "", "gone"}).kind == verdict_kind::ok);
  auto counts = ask<admission_counts>(h().gate, get_atom::value, counts_atom::value);
  CHECK(counts.pending_inbound == 0);
  CHECK(counts.established_inbound == 1);
  auto doc = dump_of(h().dump);
  // The gate dropped its dead subscriber.
  CHECK(doc["limits"]["subscribers"] == 0);
  CHECK(doc["limits"]["denials"]["connection_limit"]["by_kind"] ==
        nlohmann::json{{"pending_inbound", 1}});
}

TEST_CASE_FIXTURE(runtime_fixture,
                  "a dead sampler leaves the memory rule to its stale policy") {
  SUBCASE("fail closed") {
    start(R"({"memory": {"max_bytes": 1000, "sample_interval_ms": 100,
                         "stale_policy": "fail_closed"}})");
    caf::anon_send(h().sampler, memory_sample{400, 8000, 0, 0, 0});
    run();
    CHECK(verdict_of(h().gate, pending_inbound{1, "l", "r1"}).allowed());
    crash(h().sampler);
    advance(1000ms);
    auto v = verdict_of(h().gate, pending_inbound{2, "l", "r2"});
    REQUIRE(v.denied());
    CHECK(v.why->code == denial_code::memory_limit);
    CHECK(told == fault_lines{{"memory_sampler", "unhandled_exception"}});
  }
  SUBCASE("fail open") {
    start(R"({"memory": {"max_bytes": 1000, "sample_interval_ms": 100,
                         "stale_policy": "fail_open"}})");
    caf::anon_send(h().sampler, memory_sample{400, 8000, 0, 0, 0});
    run();
    crash(h().sampler);
    advance(1000ms);
    CHECK(verdict_of(h().gate, pending_inbound{2, "l", "r2"}).allowed());
    auto doc = dump_of(h().dump);
    CHECK(doc["memory"]["stale_admits"] == 1);
  }
}

TEST_CASE_FIXTURE(runtime_fixture, "a shutdown is no fault") {
  start(limits_config);
  rt->shutdown();
  run();
  CHECK(told.empty());
}
