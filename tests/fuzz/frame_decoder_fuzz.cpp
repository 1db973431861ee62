// Fuzz target: the wire frame decoder (net/frame_codec.hpp).
//
// Input: byte 0 seeds the split of the stream into chunks, byte 1 picks the
// decoder's maximum frame size, the rest is the stream as a socket delivers it.
// Properties:
// - decoding the stream in one call or in chunks gives the same frames and
//   the same error (kind and text), and the same bytes left buffered;
// - after an error, feeding more returns that error again and adds nothing;
// - the decoder never buffers more than one frame's header and payload;
// - every decoded frame, encoded again, decodes to the same frame (a REJECT:
//   to a denial whose encoding is the same again: the encoding is a fixed point).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "messages/json.hpp"
#include "net/frame_codec.hpp"

using namespace rcmgr;
using namespace rcmgr::net;

namespace {

bool same(const decode_error& a, const decode_error& b) {
  return a.kind == b.kind && a.text == b.text;
}

bool same(const frame& a, const frame& b) {
  return a.type == b.type && a.peer == b.peer && a.protocol == b.protocol &&
         a.body == b.body && a.why == b.why;
}

std::string encode(const frame& f) {
  switch (f.type) {
  case frame_type::hello:
    return encode_hello(f.peer);
  case frame_type::data:
    return encode_data(f.protocol, f.body);
  case frame_type::reject:
    return encode_reject(f.why);
  }
  FUZZ_CHECK(!"a decoded frame has a known type");
  return {};
}

void check_round_trip(const frame& f) {
  auto bytes = encode(f);
  auto again = decode_one(bytes, bytes.size());
  FUZZ_CHECK(again.value);
  FUZZ_CHECK(!again.error);
  if (f.type == frame_type::reject)
    FUZZ_CHECK(encode(*again.value) == bytes);
  else
    FUZZ_CHECK(same(*again.value, f));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  static constexpr std::size_t maxima[] = {1, 5, 64, 300, default_max_frame_size};
  auto max = maxima[data[1] % (sizeof maxima / sizeof maxima[0])];
  std::string_view stream{reinterpret_cast<const char*>(data) + 2, size - 2};

  frame_decoder whole{max};
  std::vector<frame> at_once;
  auto whole_error = whole.feed(stream, at_once);
  FUZZ_CHECK(same(whole_error, whole.error()));
  FUZZ_CHECK(whole.buffered() <= 4 + max);

  frame_decoder pieces{max};
  std::vector<frame> chunked;
  decode_error pieces_error;
  std::uint32_t rng = data[0] * 2654435761u + 1;
  std::size_t at = 0;
  while (at < stream.size()) {
    rng = rng * 1103515245u + 12345u;
    auto n = std::min<std::size_t>(rng >> 28, stream.size() - at); // 0..15 bytes
    pieces_error = pieces.feed(stream.substr(at, n), chunked);
    at += n;
    FUZZ_CHECK(pieces.buffered() <= 4 + max);
    if (pieces_error)
      break;
  }
  if (pieces_error) {
    auto count = chunked.size();
    FUZZ_CHECK(same(pieces.feed(stream.substr(at), chunked), pieces_error));
    FUZZ_CHECK(chunked.size() == count);
  }

  FUZZ_CHECK(same(whole_error, pieces_error));
  FUZZ_CHECK(at_once.size() == chunked.size());
  for (std::size_t i = 0; i < at_once.size() && i < chunked.size(); ++i)
    FUZZ_CHECK(same(at_once[i], chunked[i]));
  if (!whole_error)
    FUZZ_CHECK(whole.buffered() == pieces.buffered());

  for (auto& f : at_once)
    check_round_trip(f);
  return 0;
}
