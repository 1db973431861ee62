// Durations at their extremes: the config refuses a duration above the
// documented maximum, and the watcher core saturates what an embedding program
// passes in a node_config directly, so no duration wraps around.
#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "actors/watcher/socket_watch.hpp"
#include "actors/watcher/watcher_json.hpp"
#include "messages/config_json.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms(std::int64_t x) {
  return x * 1'000'000;
}

constexpr std::uint64_t ms_1e13 = 10'000'000'000'000; // about 317 years

/// {"a": {"b": value}} for the path "/a/b".
std::string doc_with(const std::string& section, const std::string& key,
                     const std::string& value) {
  return R"({")" + section + R"(": {")" + key + R"(": )" + value + "}}";
}

} // namespace

TEST_CASE("every duration of the config is at most 10^12 ms") {
  struct field {
    std::string section;
    std::string key;
  };
  std::vector<field> fields{{"memory", "sample_interval_ms"},
                            {"watcher", "refresh_interval_ms"},
                            {"watcher", "idle_timeout_ms"},
                            {"watcher", "max_lifetime_ms"},
                            {"watcher", "cooldown_ms"}};
  for (auto& f : fields) {
    CAPTURE(f.key);
    auto path = "/" + f.section + "/" + f.key;
    auto at_max = parse_config_text(doc_with(f.section, f.key, "1000000000000"));
    REQUIRE(at_max);
    CHECK(to_json(*at_max)[f.section][f.key] == 1'000'000'000'000u);
    for (auto over :
         {"1000000000001", "10000000000000", "1e13", "18446744073709551615"}) {
      CAPTURE(over);
      auto r = parse_config_text(doc_with(f.section, f.key, over));
      REQUIRE_FALSE(r);
      CHECK(r.error().text() ==
            path + ": must be at most 1000000000000 (about 31 years)");
    }
  }
}

TEST_CASE("an idle timeout or lifetime of 1e13 ms does not close at the first refresh") {
  socket_watch w;
  watcher_config c;
  c.refresh_interval_ms = 1000;
  c.idle_timeout_ms = ms_1e13;
  c.max_lifetime_ms = ms_1e13;
  w.configure(c);
  w.watch(1, "A", -1, ms(0));
  auto never = [](int) { return false; };
  CHECK(w.refresh(ms(1000), never).close.empty());
  CHECK(w.refresh(ms(86'400'000), never).close.empty());
  // Saturated, the timeout is the end of time itself: nothing is older.
  CHECK(w.refresh(std::numeric_limits<time_ns>::max(), never).close.empty());
  CHECK(w.watched() == 1);
}

TEST_CASE("a cooldown of 1e13 ms blocks until the end of time, not into the past") {
  socket_watch w;
  watcher_config c;
  c.misbehaviour_threshold = 1;
  c.cooldown_ms = ms_1e13;
  w.configure(c);
  CHECK(w.on_violation("bad", "bad_frame", ms(10)).block.empty());
  auto acts = w.on_violation("bad", "bad_frame", ms(20));
  REQUIRE(acts.block.size() == 1);
  CHECK(acts.block[0].until == std::numeric_limits<time_ns>::max());
  CHECK(to_json(w.stats_at(ms(30)))["peers"]["bad"]["blocked"] == true);
}

TEST_CASE("a cooldown that ends past the end of time saturates there") {
  socket_watch w;
  watcher_config c;
  c.misbehaviour_threshold = 1;
  c.cooldown_ms = 1000;
  w.configure(c);
  auto late = std::numeric_limits<time_ns>::max() - ms(10);
  CHECK(w.on_violation("bad", "bad_frame", late).block.empty());
  auto acts = w.on_violation("bad", "bad_frame", late);
  REQUIRE(acts.block.size() == 1);
  CHECK(acts.block[0].until == std::numeric_limits<time_ns>::max());
}
