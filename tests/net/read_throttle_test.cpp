// The read throttle: the rate limiter's exact bucket arithmetic, in bytes.
#include <doctest/doctest.h>

#include "net/read_throttle.hpp"

using namespace rcmgr;
using namespace rcmgr::net;

namespace {

constexpr time_ns ms(std::int64_t x) {
  return x * 1'000'000;
}

} // namespace

TEST_CASE("the bucket holds 50 ms of the rate and refills exactly") {
  read_throttle t;
  CHECK_FALSE(t.limited());
  CHECK(t.allow(16384, ms(0)).bytes == 16384); // no limit: a full buffer
  t.set_rate(1000, ms(0));                     // burst: 50 bytes, full
  auto a = t.allow(16384, ms(0));
  CHECK(a.bytes == 50);
  t.consume(50);
  auto b = t.allow(16384, ms(0));
  CHECK(b.bytes == 0);
  CHECK(b.wait == 50'000'000); // 50 bytes at 1000 B/s
  auto c = t.allow(16384, ms(20));
  CHECK(c.bytes == 0);
  CHECK(c.wait == 30'000'000);
  CHECK(t.allow(16384, ms(50)).bytes == 50);
  // A read smaller than the burst waits for its own size only.
  t.consume(50);
  auto d = t.allow(10, ms(50));
  CHECK(d.wait == 10'000'000);
  CHECK(t.allow(10, ms(60)).bytes == 10);
}

TEST_CASE("a new rate keeps what was earned, up to its own burst") {
  read_throttle t;
  t.set_rate(1000, ms(0));
  t.consume(50);
  t.set_rate(2000, ms(10)); // 10 bytes earned; burst now 100 bytes
  auto a = t.allow(16384, ms(10));
  CHECK(a.bytes == 0);
  CHECK(a.wait == 45'000'000); // 90 bytes at 2000 B/s
  t.set_rate(20, ms(10));      // burst 1 byte: what was earned is capped
  CHECK(t.allow(16384, ms(10)).bytes == 1);
  t.set_rate(0, ms(10));
  CHECK(t.allow(100, ms(10)).bytes == 100);
  // A limit set again after none starts full.
  t.set_rate(1000, ms(11));
  CHECK(t.allow(16384, ms(11)).bytes == 50);
}

TEST_CASE("huge rates are clamped, and nothing overflows") {
  read_throttle t;
  t.set_rate(~std::uint64_t{0}, ms(0));
  CHECK(t.rate() == read_throttle::max_rate);
  CHECK(t.allow(16384, ms(0)).bytes == 16384);
  t.consume(16384);
  CHECK(t.allow(16384, ms(1'000'000'000)).bytes == 16384);
}
