// The gate's memory rule (DESIGN §4): strict `>`, the smallest maximum wins,
// stale samples, hysteresis. Time is a parameter (nanoseconds).
#include <doctest/doctest.h>

#include <limits>

#include "actors/gate/gate_json.hpp"
#include "actors/gate/memory_policy.hpp"

using namespace rcmgr;

namespace {

constexpr time_ns ms = 1000000;

memory_config with_max_bytes(std::uint64_t max_bytes) {
  memory_config c;
  c.max_bytes = max_bytes;
  return c;
}

memory_sample sample(std::uint64_t rss, std::uint64_t total, time_ns at,
                     std::uint64_t cgroup_limit = 0, std::uint64_t cgroup_usage = 0) {
  memory_sample s;
  s.rss = rss;
  s.total = total;
  s.cgroup_limit = cgroup_limit;
  s.cgroup_usage = cgroup_usage;
  s.at = at;
  return s;
}

void check_memory_denial(const std::optional<denial>& d, std::uint64_t process_bytes,
                         std::uint64_t max_bytes, connection_id conn) {
  REQUIRE(d.has_value());
  CHECK(d->code == denial_code::memory_limit);
  CHECK(d->process_bytes == process_bytes);
  CHECK(d->max_bytes == max_bytes);
  CHECK(d->conn == conn);
}

} // namespace

TEST_CASE("without max_bytes or max_fraction the rule never denies") {
  memory_policy p;
  CHECK_FALSE(p.active());
  CHECK_FALSE(p.check(1, 0).has_value()); // no sample at all: still admits
  p.on_sample(sample(1ull << 40, 1000, 0, 1000, 900));
  CHECK_FALSE(p.check(2, 0).has_value());
  CHECK(p.effective_max() == no_limit);
  CHECK(p.max_source() == "none");
  CHECK(p.denials() == 0);
  CHECK(p.stale_admits() == 0);
  auto j = to_json(p.stats(0));
  CHECK(j["active"] == false);
  CHECK(j["effective_max_bytes"].is_null());
  CHECK(j["stale"] == false);
}

TEST_CASE("usage equal to max_bytes is admitted, one byte more is denied") {
  for (std::uint64_t max :
       {std::uint64_t{1}, std::uint64_t{4096}, std::uint64_t{1} << 30, no_limit - 1}) {
    CAPTURE(max);
    memory_policy p;
    p.configure(with_max_bytes(max));
    p.on_sample(sample(max, 0, 10 * ms));
    CHECK_FALSE(p.check(1, 10 * ms).has_value());
    p.on_sample(sample(max + 1, 0, 20 * ms));
    check_memory_denial(p.check(2, 20 * ms), max + 1, max, 2);
    CHECK(p.denials() == 1);
    p.on_sample(sample(max - 1, 0, 30 * ms));
    CHECK_FALSE(p.check(3, 30 * ms).has_value());
  }
}

TEST_CASE("max_fraction x total is the maximum, with the same strict rule") {
  memory_config c;
  c.max_fraction = 0.5;
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(1000, 2000, 0));
  CHECK(p.effective_max() == 1000);
  CHECK(p.max_source() == "max_fraction");
  CHECK_FALSE(p.check(1, 0).has_value());
  p.on_sample(sample(1001, 2000, 0));
  check_memory_denial(p.check(2, 0), 1001, 1000, 2);
}

TEST_CASE("max_fraction x total is exact for decimal fractions") {
  // 0.57 * 100 is 56.99999999999999 in double arithmetic: the maximum must
  // still be 57 bytes, not 56.
  struct row {
    double fraction;
    std::uint64_t total;
    std::uint64_t max;
  };
  for (auto r :
       {row{0.57, 100, 57}, row{0.29, 100, 29}, row{0.8, 1000, 800}, row{0.7, 1000, 700},
        row{0.1, 30, 3}, row{0.5, 3, 1}, row{1.0, 16ull << 30, 16ull << 30},
        row{0.8, 16ull << 30, 13743895347ull}}) { // 0.8 x 16 GiB, floored
    CAPTURE(r.fraction);
    CAPTURE(r.total);
    memory_config c;
    c.max_fraction = r.fraction;
    memory_policy p;
    p.configure(c);
    p.on_sample(sample(r.max, r.total, 0));
    CHECK(p.effective_max() == r.max);
    CHECK_FALSE(p.check(1, 0).has_value());
    p.on_sample(sample(r.max + 1, r.total, 0));
    check_memory_denial(p.check(2, 0), r.max + 1, r.max, 2);
  }
}

TEST_CASE("max_bytes and max_fraction together: the smaller wins") {
  memory_config c;
  c.max_bytes = 1500;
  c.max_fraction = 0.5;
  memory_policy p;
  p.configure(c);

  SUBCASE("the fraction is smaller") {
    p.on_sample(sample(1000, 2000, 0)); // 0.5 x 2000 = 1000 < 1500
    CHECK(p.effective_max() == 1000);
    CHECK(p.max_source() == "max_fraction");
    CHECK_FALSE(p.check(1, 0).has_value());
    p.on_sample(sample(1001, 2000, 0));
    check_memory_denial(p.check(2, 0), 1001, 1000, 2);
  }
  SUBCASE("max_bytes is smaller") {
    p.on_sample(sample(1500, 4000, 0)); // 0.5 x 4000 = 2000 > 1500
    CHECK(p.effective_max() == 1500);
    CHECK(p.max_source() == "max_bytes");
    CHECK_FALSE(p.check(1, 0).has_value());
    p.on_sample(sample(1501, 4000, 0));
    check_memory_denial(p.check(2, 0), 1501, 1500, 2);
  }
  SUBCASE("a tie is reported as max_bytes") {
    p.on_sample(sample(10, 3000, 0));
    CHECK(p.effective_max() == 1500);
    CHECK(p.max_source() == "max_bytes");
  }
}

TEST_CASE("a cgroup limit below the configured maximum wins; alone it does nothing") {
  memory_policy p;
  p.on_sample(sample(5000, 100000, 0, 1000, 4000));
  CHECK_FALSE(p.check(1, 0).has_value()); // the cgroup limit alone never turns it on
  p.configure(with_max_bytes(2000));
  p.on_sample(sample(1000, 100000, 0, 1000, 1200));
  CHECK(p.effective_max() == 1000);
  CHECK(p.max_source() == "cgroup");
  CHECK_FALSE(p.check(2, 0).has_value());
  p.on_sample(sample(1001, 100000, 0, 1000, 1200));
  check_memory_denial(p.check(3, 0), 1001, 1000, 3);
  // A cgroup limit above max_bytes changes nothing.
  p.on_sample(sample(2001, 100000, 0, 8000, 2500));
  CHECK(p.effective_max() == 2000);
  CHECK(p.max_source() == "max_bytes");
  check_memory_denial(p.check(4, 0), 2001, 2000, 4);
  // No cgroup limit (0) is ignored.
  p.on_sample(sample(2000, 100000, 0, 0, 0));
  CHECK(p.effective_max() == 2000);
  CHECK_FALSE(p.check(5, 0).has_value());
}

TEST_CASE("max_fraction without a total in the sample sets no maximum") {
  memory_config c;
  c.max_fraction = 0.5;
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(1ull << 40, 0, 0));
  CHECK(p.effective_max() == no_limit);
  CHECK(p.max_source() == "none");
  CHECK_FALSE(p.check(1, 0).has_value());
  CHECK(to_json(p.stats(0))["effective_max_bytes"].is_null());
}

TEST_CASE("fail_open: a stale or missing sample admits and is counted") {
  memory_config c = with_max_bytes(1000);
  c.sample_interval_ms = 100;
  c.stale = stale_policy::fail_open;
  memory_policy p;
  p.configure(c);
  // No sample yet.
  CHECK(p.stale(0));
  CHECK_FALSE(p.check(1, 0).has_value());
  CHECK(p.stale_admits() == 1);
  // A fresh sample over the limit denies; fresh = at most 3 intervals old.
  p.on_sample(sample(2000, 0, 50 * ms));
  check_memory_denial(p.check(2, 350 * ms), 2000, 1000, 2);
  CHECK_FALSE(p.stale(350 * ms));
  CHECK(p.stale(350 * ms + 1));
  // One nanosecond later it is stale: admitted.
  CHECK_FALSE(p.check(3, 350 * ms + 1).has_value());
  CHECK(p.stale_admits() == 2);
  CHECK(p.denials() == 1);
  auto j = to_json(p.stats(350 * ms + 1));
  CHECK(j["stale"] == true);
  CHECK(j["stale_admits"] == 2);
  CHECK(j["age_ms"] == 300);
}

TEST_CASE("fail_closed: a stale or missing sample denies") {
  memory_config c = with_max_bytes(1000);
  c.sample_interval_ms = 100;
  c.stale = stale_policy::fail_closed;
  memory_policy p;
  p.configure(c);
  check_memory_denial(p.check(1, 0), 0, 1000, 1); // no sample: process_bytes 0
  p.on_sample(sample(500, 0, 0));
  CHECK_FALSE(p.check(2, 300 * ms).has_value());
  check_memory_denial(p.check(3, 300 * ms + 1), 500, 1000, 3);
  CHECK(p.denials() == 2);
  CHECK(p.stale_denials() == 2);
  CHECK(p.stale_admits() == 0);
  // A fresh sample admits again.
  p.on_sample(sample(500, 0, 400 * ms));
  CHECK_FALSE(p.check(4, 400 * ms).has_value());
  CHECK(to_json(p.stats(400 * ms))["stale_denials"] == 2);
}

TEST_CASE("a huge sample interval never makes a sample stale (no overflow)") {
  memory_config c = with_max_bytes(1000);
  c.sample_interval_ms = std::numeric_limits<std::uint64_t>::max();
  c.stale = stale_policy::fail_closed;
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(10, 0, 0));
  CHECK_FALSE(p.stale(std::numeric_limits<time_ns>::max()));
  CHECK_FALSE(p.check(1, std::numeric_limits<time_ns>::max()).has_value());
}

TEST_CASE("hysteresis: once tripped, deny until usage falls below the resume mark") {
  memory_config c = with_max_bytes(1000);
  c.resume_below_fraction = 0.8; // mark: 800
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(1000, 0, 0));
  CHECK_FALSE(p.check(1, 0).has_value());
  CHECK_FALSE(p.tripped());
  p.on_sample(sample(1001, 0, 0));
  check_memory_denial(p.check(2, 0), 1001, 1000, 2);
  CHECK(p.tripped());
  // Back under the maximum but not below the mark: still denied, and the
  // denial names the mark in force.
  p.on_sample(sample(900, 0, 0));
  check_memory_denial(p.check(3, 0), 900, 800, 3);
  p.on_sample(sample(800, 0, 0));
  check_memory_denial(p.check(4, 0), 800, 800, 4);
  CHECK(to_json(p.stats(0))["hysteresis_active"] == true);
  // Below the mark: admitted, and the hysteresis is over.
  p.on_sample(sample(799, 0, 0));
  CHECK_FALSE(p.check(5, 0).has_value());
  CHECK_FALSE(p.tripped());
  p.on_sample(sample(1000, 0, 0));
  CHECK_FALSE(p.check(6, 0).has_value());
  p.on_sample(sample(1001, 0, 0));
  check_memory_denial(p.check(7, 0), 1001, 1000, 7);
  CHECK(p.denials() == 4);
}

TEST_CASE("without resume_below_fraction the rule resumes at the maximum") {
  memory_policy p;
  p.configure(with_max_bytes(1000));
  p.on_sample(sample(1001, 0, 0));
  CHECK(p.check(1, 0).has_value());
  CHECK_FALSE(p.tripped());
  p.on_sample(sample(1000, 0, 0));
  CHECK_FALSE(p.check(2, 0).has_value());
}

TEST_CASE("a config update ends the hysteresis") {
  memory_config c = with_max_bytes(1000);
  c.resume_below_fraction = 0.5;
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(1001, 0, 0));
  CHECK(p.check(1, 0).has_value());
  p.on_sample(sample(900, 0, 0));
  CHECK(p.check(2, 0).has_value());
  p.configure(c);
  CHECK_FALSE(p.tripped());
  CHECK_FALSE(p.check(3, 0).has_value());
}

TEST_CASE("hysteresis with a maximum that disappears does not overflow") {
  memory_config c;
  c.max_fraction = 1.0;
  c.resume_below_fraction = 1.0;
  memory_policy p;
  p.configure(c);
  p.on_sample(sample(1001, 1000, 0));
  CHECK(p.check(1, 0).has_value());
  CHECK(p.tripped());
  // The next sample has no total: no maximum any more, so nothing to resume
  // below; the rule admits.
  p.on_sample(sample(1001, 0, 0));
  CHECK(p.effective_max() == no_limit);
  CHECK_FALSE(p.check(2, 0).has_value());
}

TEST_CASE("to_json shows the sample, its age, the maximum and the pressure") {
  memory_config c = with_max_bytes(2000);
  c.max_fraction = 0.5;
  c.resume_below_fraction = 0.9;
  memory_policy p;
  p.configure(c);
  auto empty = to_json(p.stats(0));
  CHECK(empty["last_sample"].is_null());
  CHECK(empty["age_ms"].is_null());
  CHECK(empty["stale"] == true);
  CHECK(empty["active"] == true);
  CHECK(empty["effective_max_bytes"] == 2000);
  CHECK(empty["max_source"] == "max_bytes");
  CHECK(empty["pressure"].is_null());
  p.on_sample(sample(500, 2000, 10 * ms, 4000, 600));
  auto j = to_json(p.stats(60 * ms));
  CHECK(j["last_sample"]["rss"] == 500);
  CHECK(j["last_sample"]["total"] == 2000);
  CHECK(j["last_sample"]["cgroup_limit"] == 4000);
  CHECK(j["last_sample"]["cgroup_usage"] == 600);
  CHECK(j["last_sample"]["at_ms"] == 10);
  CHECK(j["age_ms"] == 50);
  CHECK(j["stale"] == false);
  CHECK(j["effective_max_bytes"] == 1000);
  CHECK(j["max_source"] == "max_fraction");
  CHECK(j["pressure"].get<double>() == doctest::Approx(0.5));
  CHECK(j["stale_policy"] == "fail_open");
  CHECK(j["sample_interval_ms"] == 100);
  CHECK(j["resume_below_fraction"].get<double>() == doctest::Approx(0.9));
  CHECK(j["hysteresis_active"] == false);
  CHECK(j["denials"] == 0);
  CHECK(j["stale_admits"] == 0);
}
