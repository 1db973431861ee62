// Batch messages as a remote node may send them: bytes through CAF's binary
// deserializer, as the middleman reads them.
#include <doctest/doctest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/detail/type_traits.hpp>

#include "messages/batches.hpp"

using namespace rcmgr;

TEST_CASE("an outcome batch announcing 2^32 - 1 order bytes is refused, not allocated") {
  // CAF resizes a byte vector to the announced length before it reads; the
  // order is therefore not a plain byte vector.
  CHECK_FALSE(caf::detail::is_byte_sequence<decltype(outcome_batch::order)>::value);
  // Empty texts (chars, ends), empty lists, then an order of 0xFFFFFFFF bytes
  // (varbyte) with none following: CAF reads the kinds one at a time and stops
  // at the end of the input.
  const char bytes[] = {0, 0, 0, '\xff', '\xff', '\xff', '\xff', 0x0f};
  outcome_batch b;
  caf::binary_deserializer source{nullptr, bytes, sizeof bytes};
  CHECK(source(b));
  CHECK(b.order.size() == 0);
}

TEST_CASE("an outcome batch keeps its wire form: the order is the same bytes") {
  outcome_batch b;
  b.order = {outcome_kind::admitted, outcome_kind::denied, outcome_kind::released};
  std::vector<char> wire;
  caf::binary_serializer sink{nullptr, wire};
  REQUIRE_FALSE(sink(b));
  // chars, ends, lists (empty), then the order: its length (3) and its bytes.
  CHECK(std::vector<char>(wire.begin(), wire.begin() + 7) ==
        std::vector<char>{0, 0, 0, 3, 0, 1, 2});
  outcome_batch again;
  caf::binary_deserializer source{nullptr, wire};
  REQUIRE_FALSE(source(again));
  CHECK(again.order == b.order);
}
