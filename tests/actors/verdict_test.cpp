// verdict and denial_box (messages/verdict.hpp): a verdict that allows holds
// no denial; one that denies holds its own copy; both travel as before.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/verdict.hpp"

using namespace rcmgr;

namespace {

template <class T> std::vector<char> bytes_of(T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(x));
  return buf;
}

template <class T> T read_back(const std::vector<char>& buf) {
  T x;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(x));
  return x;
}

} // namespace

TEST_CASE("a verdict is 48 bytes: its denial is out of line") {
  CHECK(sizeof(verdict) == 48);
}

TEST_CASE("an allowing verdict holds no denial and reads as a default one") {
  auto v = verdict::allow();
  CHECK(v.why.empty());
  CHECK(v.why->code == denial_code::connection_limit);
  CHECK(v.why->peer == "");
  CHECK(v.why == denial{});
  auto copy = v;
  CHECK(copy.why.empty());
}

TEST_CASE("a denying verdict owns its denial; copies are deep") {
  auto d = connection_limit_denial(limit_kind::established_per_peer, 2, 2, 7, "QmA");
  auto v = verdict::deny(d);
  REQUIRE_FALSE(v.why.empty());
  CHECK(v.why == d);
  CHECK(d == v.why);
  auto copy = v;
  copy.why.edit().peer = "QmB";
  CHECK(v.why->peer == "QmA");
  CHECK(copy.why != v.why);
  CHECK(copy.why != d);
  auto moved = std::move(copy);
  CHECK(moved.why->peer == "QmB");
  v = moved;
  CHECK(v.why->peer == "QmB");
  v = verdict::allow();
  CHECK(v.why.empty());
}

TEST_CASE("edit() gives an empty box a denial to write into") {
  verdict v;
  v.why.edit().code = denial_code::blocked;
  REQUIRE_FALSE(v.why.empty());
  CHECK(v.why->code == denial_code::blocked);
  v.why = memory_limit_denial(10, 5, 3);
  CHECK(v.why->process_bytes == 10);
  CHECK(v.why->conn == 3);
}

TEST_CASE("verdicts serialize with or without a denial, and read back equal") {
  auto denied = verdict::deny(
      connection_limit_denial(limit_kind::pending_inbound, 1, 1, 9, "QmPeer"));
  auto allowed = verdict::allow();
  auto failed = verdict::fail("bad input");
  for (auto* v : {&denied, &allowed, &failed}) {
    auto back = read_back<verdict>(bytes_of(*v));
    CHECK(back.kind == v->kind);
    CHECK(back.why == v->why);
    CHECK(back.error == v->error);
  }
  // Saving an allowing verdict leaves its box empty.
  bytes_of(allowed);
  CHECK(allowed.why.empty());
  // An empty box and a default denial are the same bytes.
  auto explicit_default = verdict::allow();
  explicit_default.why = denial{};
  CHECK(bytes_of(allowed) == bytes_of(explicit_default));
}
