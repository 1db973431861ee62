// REJECT frames carrying the denials of DESIGN §6.2: ip_limit and
// attempt_rate, every field through the wire and back.
#include <doctest/doctest.h>

#include <string>

#include "net/frame_codec.hpp"

using namespace rcmgr;
using namespace rcmgr::net;

TEST_CASE("REJECT carries an ip_limit denial") {
  auto why = ip_limit_denial("2001:db8::1", "2001:db8::/56", 8, 8, 7);
  auto f = encode_reject(why);
  CHECK(
      f.substr(5) ==
      R"({"code":"ip_limit","conn":7,"current":8,"ip":"2001:db8::1","limit":8,"prefix":"2001:db8::/56"})");
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->type == frame_type::reject);
  CHECK(d.value->why == why);
}

TEST_CASE("REJECT carries an attempt_rate denial") {
  auto why = attempt_rate_denial("1.2.3.4", "global", 1000, 3);
  auto f = encode_reject(why);
  CHECK(
      f.substr(5) ==
      R"({"code":"attempt_rate","conn":3,"ip":"1.2.3.4","prefix":"global","retry_after_ms":1000})");
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->why == why);
  std::string payload = R"({"code":"attempt_rate","ip":5,"prefix":"global"})";
  std::string frame{'\0', '\0', '\0', static_cast<char>(payload.size() + 1), '\3'};
  auto bad = decode_one(frame + payload);
  REQUIRE_FALSE(bad.value);
  CHECK(bad.error.text ==
        "REJECT payload is not a denial: a text field of the denial is not a string");
  payload = R"({"code":"ip_limit","ip":"1.2.3.4","prefix":["1.2.3.4/32"]})";
  frame[3] = static_cast<char>(payload.size() + 1);
  bad = decode_one(frame + payload);
  REQUIRE_FALSE(bad.value);
  CHECK(bad.error.text ==
        "REJECT payload is not a denial: a text field of the denial is not a string");
  // Another code ignores them, as it ignores any key it does not define.
  payload = R"({"code":"blocked","peer":"p","ip":5})";
  frame[3] = static_cast<char>(payload.size() + 1);
  auto other = decode_one(frame + payload);
  REQUIRE(other.value);
  CHECK(other.value->why.code == denial_code::blocked);
}
