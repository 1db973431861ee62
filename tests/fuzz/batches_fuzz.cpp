// Fuzz target: the batch messages (messages/batches.hpp) as a remote sender
// may send them: any bytes through CAF's binary_deserializer.
//
// Input: byte 0 picks the type (even: lifecycle_batch, odd: outcome_batch),
// the rest is its serialized form.
// Properties:
// - deserializing never crashes and never reads outside the input;
// - a lifecycle_batch event whose references are valid (`refs_valid`) reads
//   back every text inside the batch (`view_of`);
// - `for_each_outcome` refuses a malformed outcome_batch whole and, for a
//   well-formed one, calls back once per entry of `order`, every view inside
//   the batch;
// - what deserialized serializes to bytes that deserialize to the same bytes
//   again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "fuzz_check.hpp"
#include "messages/batches.hpp"
#include "messages/json.hpp"

using namespace rcmgr;

namespace {

/// Reads every character of `s`, so that ASan sees a view outside its batch.
std::size_t touch(std::string_view s) {
  std::size_t sum = 0;
  for (char c : s)
    sum += static_cast<unsigned char>(c);
  return sum;
}

std::size_t touch(const text_list& xs) {
  std::size_t sum = 0;
  for (std::size_t i = 0; i < xs.size(); ++i)
    sum += touch(xs[i]);
  return sum + xs.owned().size();
}

template <class T> bool read(const char* data, std::size_t size, T& out) {
  caf::binary_deserializer source{nullptr, data, size};
  return !source(out);
}

template <class T> std::vector<char> write(T& x) {
  std::vector<char> bytes;
  caf::binary_serializer sink{nullptr, bytes};
  FUZZ_CHECK(!sink(x));
  return bytes;
}

template <class T> void check_round_trip(T& x) {
  auto bytes = write(x);
  T again;
  FUZZ_CHECK(read(bytes.data(), bytes.size(), again));
  FUZZ_CHECK(write(again) == bytes);
}

void lifecycle(const char* data, std::size_t size) {
  lifecycle_batch b;
  if (!read(data, size, b))
    return;
  for (auto& e : b.events) {
    if (!refs_valid(b.texts, b.lists, e))
      continue;
    auto v = view_of(b.texts, b.lists, e);
    touch(v.peer);
    touch(v.local);
    touch(v.reason);
    touch(v.remote);
    touch(to_string(v.kind));
  }
  check_round_trip(b);
}

void outcomes(const char* data, std::size_t size) {
  outcome_batch b;
  if (!read(data, size, b))
    return;
  std::size_t calls = 0;
  auto on_admitted = [&](const admitted_view& x) {
    ++calls;
    touch(x.peer);
    touch(x.local);
    touch(x.remote);
    auto owned = x.owned();
    touch(owned.peer);
    touch(to_string(owned.dir) + to_string(owned.state));
  };
  auto on_denied = [&](const denied& x) {
    ++calls;
    touch(dump_text(to_json(x.why)));
  };
  auto on_released = [&](const released_view& x) {
    ++calls;
    touch(x.peer);
    touch(x.reason);
    touch(x.owned().reason);
  };
  auto ok = for_each_outcome(b, on_admitted, on_denied, on_released);
  FUZZ_CHECK(ok == well_formed(b));
  FUZZ_CHECK(calls == (ok ? b.order.size() : 0));
  check_round_trip(b);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  auto bytes = reinterpret_cast<const char*>(data) + 1;
  if (data[0] % 2 == 0)
    lifecycle(bytes, size - 1);
  else
    outcomes(bytes, size - 1);
  return 0;
}
