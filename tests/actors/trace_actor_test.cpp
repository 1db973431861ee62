// The decision trace through the runtime, on the virtual clock: what the gate
// and the rate limiter decide reaches the file with its exact time and
// verdict, in time order, all of it by the time the runtime has shut down;
// a full buffer drops and counts (docs/trace.md).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actor_fixture.hpp"
#include "actors/runtime.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;
using namespace rcmgr::test;
using namespace std::chrono_literals;

namespace {

std::string temp_trace_path(const char* name) {
  return "/tmp/rcmgr_trace_test_" + std::to_string(::getpid()) + "_" + name + ".ndjson";
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

node_config limits() {
  auto cfg = parse_config_text(R"({"connection_limits": {"max_pending_inbound": 1},
    "rate_limits": {"/echo/1": {"per_peer": {"rate_per_s": 1, "burst": 1}}}})");
  REQUIRE(cfg);
  return *cfg;
}

runtime_options traced(const std::string& path) {
  runtime_options opts;
  opts.memory.kind = memory_source_kind::injected;
  opts.trace_file = path;
  return opts;
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "every decision reaches the trace with its time and verdict") {
  auto path = temp_trace_path("decisions");
  {
    runtime rt{sys, limits(), traced(path)};
    auto& h = rt.handles();
    REQUIRE(h.trace);
    run();
    advance(5ms);
    CHECK(ask<verdict>(h.gate, pending_inbound{1, "", "/ip4/10.0.0.1/tcp/1"}).kind ==
          verdict_kind::allow);
    CHECK(ask<verdict>(h.gate, pending_inbound{2, "", "/ip4/10.0.0.2/tcp/1"}).kind ==
          verdict_kind::deny);
    advance(1ms);
    CHECK(ask<verdict>(h.rate_limiter, protocol_message{1, "QmA", "/echo/1", 1}).kind ==
          verdict_kind::allow);
    CHECK(ask<verdict>(h.rate_limiter, protocol_message{1, "QmA", "/echo/1", 1}).kind ==
          verdict_kind::deny);
    advance(1ms);
    lifecycle_batch b;
    batch_writer w{b};
    std::string remote = "/ip4/10.0.0.3/tcp/1";
    w.add(event_kind::established_inbound, 1, "QmA", "", text_list{&remote, 1}, "");
    w.add(event_kind::dial_failure, 9, "", "", {}, "");
    CHECK(ask<std::vector<verdict>>(h.gate, b).size() == 2);
    advance(1ms);
    caf::anon_send(h.gate, memory_sample{100, 1000, 0, 0, 0});
    run();
    rt.shutdown();
    run();
  }
  auto lines = read_lines(path);
  std::remove(path.c_str());
  REQUIRE(lines.size() == 8);
  CHECK(lines[0].rfind(R"({"t":0,"t_ns":0,"event":"config","config":{)", 0) == 0);
  CHECK(lines[0].find(R"("verdict":"ok"})") != std::string::npos);
  std::vector<std::string> rest(lines.begin() + 1, lines.end());
  CHECK(
      rest ==
      std::vector<std::string>{
          R"({"t":5,"t_ns":5000000,"event":"pending_inbound","conn":1,"local":"","remote":"/ip4/10.0.0.1/tcp/1","verdict":"allow"})",
          R"({"t":5,"t_ns":5000000,"event":"pending_inbound","conn":2,"local":"","remote":"/ip4/10.0.0.2/tcp/1","verdict":"deny","denial":{"code":"connection_limit","conn":2,"current":1,"kind":"pending_inbound","limit":1}})",
          R"({"t":6,"t_ns":6000000,"event":"protocol_message","conn":1,"cost":1,"peer":"QmA","protocol":"/echo/1","verdict":"allow"})",
          R"({"t":6,"t_ns":6000000,"event":"protocol_message","conn":1,"cost":1,"peer":"QmA","protocol":"/echo/1","verdict":"deny","denial":{"code":"rate_limit","peer":"QmA","protocol":"/echo/1","retry_after_ms":1000,"scope":"per_peer"}})",
          R"({"t":7,"t_ns":7000000,"event":"established_inbound","conn":1,"local":"","peer":"QmA","remote":"/ip4/10.0.0.3/tcp/1","verdict":"allow"})",
          R"({"t":7,"t_ns":7000000,"event":"dial_failure","conn":9,"verdict":"ok"})",
          R"({"t":8,"t_ns":8000000,"event":"memory_sample","rss":100,"total":1000,"verdict":"ok"})"});
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a full trace buffer drops lines and the dump counts them") {
  auto path = temp_trace_path("full");
  auto opts = traced(path);
  opts.trace_buffer_bytes = 1; // not even the config line fits
  {
    runtime rt{sys, limits(), opts};
    auto& h = rt.handles();
    run();
    ask<verdict>(h.gate, pending_inbound{1, "", ""});
    ask<verdict>(h.rate_limiter, protocol_message{1, "QmA", "/echo/1", 1});
    auto part = nlohmann::json::parse(ask<std::string>(h.trace, dump_part_atom::value));
    CHECK(part["trace"]["dropped_lines"] == 3);
    CHECK(part["trace"]["written_lines"] == 0);
    CHECK(part["trace"]["write_errors"] == 0);
    CHECK(part["trace"]["buffer_bytes"] == 1);
    rt.shutdown();
    run();
  }
  CHECK(read_lines(path).empty());
  std::remove(path.c_str());
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a trace file that cannot be opened counts write errors") {
  auto opts = traced("/nonexistent-dir/trace.ndjson");
  runtime rt{sys, limits(), opts};
  auto& h = rt.handles();
  run();
  ask<verdict>(h.gate, pending_inbound{1, "", ""});
  advance(1500ms); // the flush tick fires: its lines are lost, counted
  auto part = nlohmann::json::parse(ask<std::string>(h.trace, dump_part_atom::value));
  CHECK(part["trace"]["open"] == false);
  CHECK(part["trace"]["write_errors"] == 1);
  CHECK(part["trace"]["lost_lines"] == 2);
  rt.shutdown();
  run();
}

TEST_CASE_FIXTURE(actor_fixture, "without a trace file there is no trace actor") {
  runtime rt{sys, limits()};
  CHECK_FALSE(rt.handles().trace);
  run();
  rt.shutdown();
  run();
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a confirmation hands back the blocks the trace has written, emptied") {
  auto path = temp_trace_path("blocks");
  trace_options opts;
  opts.file = path;
  auto tr = start_trace(sys, opts);
  run();
  auto block = [](const std::string& line, int n) {
    std::string s;
    s.reserve(4096);
    for (int k = 0; k < n; ++k)
      s += line;
    return s;
  };
  caf::anon_send(tr.actor, trace_atom::value, time_ns{1}, block("{\"a\":1}\n", 3),
                 std::uint64_t{3});
  caf::anon_send(tr.actor, trace_atom::value, time_ns{2}, block("{\"b\":2}\n", 2),
                 std::uint64_t{2});
  advance(1500ms); // the flush tick writes both blocks
  using blocks = std::vector<std::string>;
  auto first = ask<blocks>(tr.actor, trace_atom::value, confirm_atom::value, time_ns{3},
                           block("{\"c\":3}\n", 1), std::uint64_t{1}, std::uint64_t{1});
  REQUIRE(first.size() == 1); // as many as asked for
  CHECK(first[0].empty());
  CHECK(first[0].capacity() >= 4096);
  // One written block is left; the one just sent is not written yet.
  auto rest = ask<blocks>(tr.actor, trace_atom::value, confirm_atom::value, time_ns{4},
                          block("{\"d\":4}\n", 1), std::uint64_t{1}, std::uint64_t{5});
  CHECK(rest.size() == 1);
  CHECK(ask<blocks>(tr.actor, trace_atom::value, confirm_atom::value, time_ns{5},
                    std::string{"{\"e\":5}\n"}, std::uint64_t{1}, std::uint64_t{0})
            .empty());
  stop(tr.actor); // its last flush writes the rest
  CHECK(read_lines(path) ==
        std::vector<std::string>{R"({"a":1})", R"({"a":1})", R"({"a":1})", R"({"b":2})",
                                 R"({"b":2})", R"({"c":3})", R"({"d":4})", R"({"e":5})"});
  std::remove(path.c_str());
}
