// rcmgr-replay [--config FILE] [--dump-list-cap=N] < events.ndjson > verdicts.ndjson
// rcmgr-replay --expect [--config FILE] < trace.ndjson
//
// Feeds each input line, in order, through the real actors on a virtual
// clock (CAF's test coordinator) and writes exactly one output line per input
// line (DESIGN §5). It waits for each verdict before sending the next event.
// With --expect it reads a decision trace (docs/trace.md): each line's own
// verdict is the expected one, and only the lines whose verdict differs are
// written.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/runtime.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"
#include "messages/time.hpp"
#include "messages/trace_input.hpp"

using namespace rcmgr;
using ojson = nlohmann::ordered_json;

namespace {

struct options {
  std::string config_file;
  bool expect = false;
  std::size_t dump_list_cap = runtime_options{}.dump_list_cap;
};

/// The largest `--dump-list-cap`: a dump's lists are cut well before this.
constexpr std::uint64_t max_dump_list_cap = 10'000'000;

/// `text` as a list cap: digits only, 1..max_dump_list_cap.
std::optional<std::size_t> parse_list_cap(const std::string& text) {
  if (text.empty() || text.size() > 8 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto n = std::stoull(text);
  if (n < 1 || n > max_dump_list_cap)
    return std::nullopt;
  return static_cast<std::size_t>(n);
}

/// The latest virtual time a replay reaches: 10^12 ms (about 31.7 years). A
/// `t` or an `advance` that would pass it is a bad line and moves nothing. The
/// clock counts ns in a signed 64-bit integer; from here, with every timer at
/// most a day ahead (timer_delay), nothing it computes comes near wrapping.
constexpr std::uint64_t max_virtual_ms = 1'000'000'000'000;

int usage(const std::string& why) {
  std::cerr
      << "rcmgr-replay: " << why << "\n"
      << "usage: rcmgr-replay [--config FILE] [--dump-list-cap=N] < events.ndjson > "
         "verdicts.ndjson\n"
      << "       rcmgr-replay --expect [--config FILE] < trace.ndjson\n"
      << "  --expect  compare each verdict with the one the line carries; print the\n"
      << "            lines that differ, exit 1 if any does\n"
      << "  --dump-list-cap=N  how many entries each list of a dump shows (1.."
      << max_dump_list_cap << ", default " << runtime_options{}.dump_list_cap << ")\n";
  return 2;
}

/// A line's verdict fields, as --expect compares them.
nlohmann::json verdict_of(const ojson& out) {
  auto v = nlohmann::json::object();
  for (auto key : verdict_fields)
    if (auto i = out.find(key); i != out.end())
      v[key] = nlohmann::json::parse(dump_text(*i));
  return v;
}

/// Drives one runtime on the test coordinator, one event at a time.
class replayer {
public:
  replayer(caf::actor_system& sys, const node_config& cfg, std::size_t dump_list_cap)
      : sys_(sys),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
        rt_(sys, cfg, make_options(dump_list_cap)), self_(sys) {
    sched_.run();
    start_ = sched_.clock().now();
  }

  ~replayer() {
    rt_.shutdown();
    sched_.run();
  }

  ojson handle(std::size_t line_no, const std::string& line, bool expect,
               line_extras& extras) {
    ojson out;
    out["line"] = line_no;
    auto parsed = parse_trace_input(line, expect, extras);
    out["event"] = parsed.name.empty() ? ojson(nullptr) : ojson(parsed.name);
    if (!parsed.value)
      return fail(out, parsed.value.error().text());
    auto& line_event = *parsed.value;
    if (auto why = past_the_latest_time(line_event, extras.t_ns))
      return fail(out, *why);
    if (extras.t_ns) {
      // The exact time of a trace line; `t`, when there, must agree.
      auto t_ns = *extras.t_ns;
      if (line_event.t && *line_event.t != t_ns / ns_per_ms)
        return fail(out, "t_ns " + std::to_string(t_ns) + " is not within t " +
                             std::to_string(*line_event.t) + " ms");
      auto now = elapsed_ns();
      if (t_ns < now)
        return fail(out, "t_ns " + std::to_string(t_ns) +
                             " goes back in time (virtual time is " +
                             std::to_string(now) + " ns)");
      advance_ns(t_ns - now);
    } else if (line_event.t) {
      auto now_ms = elapsed_ms();
      if (*line_event.t < now_ms)
        return fail(out, "t " + std::to_string(*line_event.t) +
                             " goes back in time (virtual time is " +
                             std::to_string(now_ms) + " ms)");
      // Whole ms: a clock already past ms t (after a t_ns line) stays.
      auto target = *line_event.t * ns_per_ms;
      auto now = elapsed_ns();
      advance_ns(target > now ? target - now : 0);
    }
    if (extras.block)
      return apply_block(out, *extras.block);
    return std::visit([&](auto& ev) { return apply(out, ev); }, line_event.event);
  }

private:
  static runtime_options make_options(std::size_t dump_list_cap) {
    runtime_options opts;
    opts.dump_list_cap = dump_list_cap;
    opts.memory.kind = memory_source_kind::injected;
    // "scopes_scale": "auto" reads no machine either: 64 GiB of RAM, no
    // cgroup limit and an RLIMIT_NOFILE of 32768 scale go's defaults to
    // 8 GiB and 16384 FDs (the figures of go's own golden table).
    opts.scope_readings = scale_readings{64ULL << 30, 0, 32768};
    return opts;
  }

  /// Why the line's `t` or `advance` would take the virtual clock past
  /// max_virtual_ms, checked before anything moves.
  std::optional<std::string> past_the_latest_time(const timed_event& p,
                                                  std::optional<std::uint64_t> t_ns) {
    auto latest = std::to_string(max_virtual_ms);
    if (p.t && *p.t > max_virtual_ms)
      return "t " + std::to_string(*p.t) + " is past the latest virtual time (" + latest +
             " ms)";
    if (t_ns && *t_ns / ns_per_ms >= max_virtual_ms)
      return "t_ns " + std::to_string(*t_ns) + " is past the latest virtual time (" +
             latest + " ms)";
    auto from = std::max(p.t.value_or(0), elapsed_ms());
    auto a = std::get_if<advance_clock>(&p.event);
    if (a && a->ms > max_virtual_ms - from)
      return "advance of " + std::to_string(a->ms) +
             " ms would pass the latest virtual time (" + latest +
             " ms; virtual time is " + std::to_string(from) + " ms)";
    return std::nullopt;
  }

  std::uint64_t elapsed_ms() { return elapsed_ns() / ns_per_ms; }

  std::uint64_t elapsed_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(sched_.clock().now() -
                                                             start_)
            .count());
  }

  void advance(std::uint64_t ms) { advance_ns(ms * ns_per_ms); }

  void advance_ns(std::uint64_t ns) {
    sched_.run();
    if (ns > 0)
      sched_.advance_time(std::chrono::nanoseconds(ns));
    sched_.run();
  }

  /// The watcher's block of a peer: `until` counts from the replay's start.
  ojson apply_block(ojson& out, peer_blocked b) {
    auto start =
        std::chrono::duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch())
            .count();
    b.until = add_saturating(start, b.until);
    caf::anon_send(rt_.handles().gate, std::move(b));
    sched_.run();
    out["verdict"] = "ok";
    return out;
  }

  ojson fail(ojson& out, const std::string& why) {
    // Bad input is counted in the dump, like everywhere else.
    caf::anon_send(rt_.handles().gate, anomaly_report{anomaly::bad_replay_line});
    sched_.run();
    out["verdict"] = "error";
    out["error"] = why;
    return out;
  }

  template <class Handle, class Message>
  ojson ask(ojson& out, const Handle& h, Message msg) {
    auto handle = self_->request(h, caf::infinite, std::move(msg));
    sched_.run();
    handle.receive(
        [&](const verdict& v) {
          // "verdict" first, then "denial" or "error", as in the contract.
          auto j = to_json(v); // items() must not outlive the object it walks
          out["verdict"] = j["verdict"];
          for (auto& [k, val] : j.items())
            if (k != "verdict")
              out[k] = val;
        },
        [&](const caf::error& e) {
          out["verdict"] = "error";
          out["error"] = "actor failed: " + caf::to_string(e);
        });
    return out;
  }

  ojson apply(ojson& out, const node_config& c) {
    return ask(out, rt_.handles().control, c);
  }
  ojson apply(ojson& out, const pending_inbound& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const pending_outbound& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const established_inbound& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const established_outbound& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const dial_failure& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const listen_failure& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const connection_closed& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const stream_opened& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const stream_protocol& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const stream_service& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const stream_closed& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const reserve_memory& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const release_memory& e) {
    return ask(out, rt_.handles().gate, e);
  }
  ojson apply(ojson& out, const bypass_peer& e) {
    return ask(out, rt_.handles().control, e);
  }
  ojson apply(ojson& out, const remove_bypass& e) {
    return ask(out, rt_.handles().control, e);
  }
  ojson apply(ojson& out, const protocol_message& e) {
    return ask(out, rt_.handles().rate_limiter, e);
  }

  ojson apply(ojson& out, const memory_sample& e) {
    // The sampler takes the injected reading at once and pushes it to the
    // gate, so it is in force for the very next event.
    caf::anon_send(rt_.handles().sampler, e);
    sched_.run();
    out["verdict"] = "ok";
    return out;
  }

  ojson apply(ojson& out, const advance_clock& e) {
    advance(e.ms);
    out["verdict"] = "ok";
    return out;
  }

  ojson apply(ojson& out, const dump_request&) {
    auto handle = self_->request(rt_.handles().dump, caf::infinite, dump_atom::value);
    sched_.run(); // every part is local and answers within this run
    handle.receive([&](const std::string& text) { out["state"] = ojson::parse(text); },
                   [&](const caf::error& e) {
                     out["verdict"] = "error";
                     out["error"] = "dump failed: " + caf::to_string(e);
                   });
    return out;
  }

  caf::actor_system& sys_;
  caf::scheduler::test_coordinator& sched_;
  runtime rt_;
  caf::scoped_actor self_;
  caf::actor_clock::time_point start_;
};

} // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage("replays lifecycle events through the resource actors");
      return 0;
    }
    if (arg == "--config") {
      if (i + 1 >= argc)
        return usage("--config needs a file");
      opts.config_file = argv[++i];
    } else if (arg == "--expect") {
      opts.expect = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      opts.config_file = arg.substr(9);
    } else if (arg.rfind("--dump-list-cap=", 0) == 0) {
      auto cap = parse_list_cap(arg.substr(16));
      if (!cap)
        return usage("--dump-list-cap wants a whole number from 1 to " +
                     std::to_string(max_dump_list_cap) + ", not '" + arg.substr(16) +
                     "'");
      opts.dump_list_cap = *cap;
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  node_config cfg;
  if (!opts.config_file.empty()) {
    std::ifstream in{opts.config_file};
    if (!in)
      return usage("cannot read config file '" + opts.config_file + "'");
    std::stringstream buf;
    buf << in.rdbuf();
    auto parsed = parse_config_text(buf.str());
    if (!parsed) {
      std::cerr << "rcmgr-replay: invalid config " << opts.config_file << ": "
                << parsed.error().text() << "\n";
      return 2;
    }
    cfg = std::move(*parsed);
  }
  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.policy", caf::atom("testing"));
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{sys_cfg};
  std::size_t line_no = 0, checked = 0, differ = 0;
  {
    replayer r{sys, cfg, opts.dump_list_cap};
    std::string line;
    while (std::getline(std::cin, line)) {
      ++line_no;
      line_extras extras;
      auto out = r.handle(line_no, line, opts.expect, extras);
      if (!opts.expect) {
        std::cout << dump_text(out) << '\n';
        continue;
      }
      if (!extras.expected)
        continue; // a line without a verdict (advance, dump) is not checked
      ++checked;
      auto got = verdict_of(out);
      if (got == *extras.expected)
        continue;
      ++differ;
      ojson diff;
      diff["line"] = line_no;
      diff["event"] = out["event"];
      diff["expected"] = ojson::parse(dump_text(*extras.expected));
      diff["got"] = ojson::parse(dump_text(got));
      std::cout << dump_text(diff) << '\n';
    }
    std::cout.flush();
  }
  if (opts.expect) {
    std::cerr << "rcmgr-replay: " << line_no << " lines, " << checked << " checked, "
              << differ << " differ\n";
    return differ > 0 ? 1 : 0;
  }
  return 0;
}
