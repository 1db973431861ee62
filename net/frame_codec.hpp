// The wire framing of DESIGN §5, as plain C++ (no Asio, no CAF runtime).
//
//   +----------------+------+-----------------+
//   | length (4, BE) | type | payload         |
//   +----------------+------+-----------------+
//   length = 1 + payload size (the type byte and the payload)
//
//   HELLO  = 1: payload is JSON {"peer": "<id>"} (a non-empty string)
//   DATA   = 2: payload is [n: 1 byte][protocol: n bytes, n >= 1][body]
//   REJECT = 3: payload is a denial as JSON (the replay contract's form)
//
// Caps on what comes off the wire (a longer one is a bad frame):
//   - a frame's length: max_frame_size (1 MiB by default), refused as
//     `oversized_frame` as soon as its 4 bytes are seen;
//   - a HELLO or REJECT payload: max_control_payload (4096 bytes), refused
//     as soon as the type byte is seen, before any of it is buffered;
//   - a peer id: max_peer_id (128 bytes; a libp2p peer id is about 52);
//   - a protocol name: max_protocol_name (255 bytes, its length is 1 byte).
// A field of a REJECT's denial with the wrong JSON type is a bad frame, and
// no read of a decoded JSON value can throw: any exception while a frame is
// decoded becomes a `bad_frame` error.
//
// frame_decoder is incremental: feed it whatever the socket returned, in
// any split, and it hands back every complete frame. After an error the
// decoder stays failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/ids.hpp"
#include "messages/verdict.hpp"

namespace rcmgr::net {

enum class frame_type : std::uint8_t { hello = 1, data = 2, reject = 3 };

std::string to_string(frame_type x);

/// 1 MiB: the default limit on a frame's announced length.
inline constexpr std::size_t default_max_frame_size = 1024 * 1024;

/// The longest protocol name a DATA frame can carry (its length is 1 byte).
inline constexpr std::size_t max_protocol_name = 255;

/// The longest peer id a HELLO may carry, in bytes.
inline constexpr std::size_t max_peer_id = 128;

/// The largest HELLO or REJECT payload, in bytes (a denial's JSON is far
/// smaller).
inline constexpr std::size_t max_control_payload = 4096;

/// One decoded, validated frame. Which fields apply depends on `type`.
struct frame {
  frame_type type = frame_type::hello;
  peer_id peer;         // hello
  protocol_id protocol; // data
  std::string body;     // data
  denial why;           // reject
};

/// What went wrong with the input. `oversized` is kept apart from the other
/// violations because it is counted under its own name.
enum class decode_error_kind : std::uint8_t { none, oversized_frame, bad_frame };

std::string to_string(decode_error_kind x);

struct decode_error {
  decode_error_kind kind = decode_error_kind::none;
  std::string text;
  explicit operator bool() const { return kind != decode_error_kind::none; }
};

class frame_decoder {
public:
  explicit frame_decoder(std::size_t max_frame_size = default_max_frame_size);

  /// Consumes `n` bytes; appends each complete frame to `out`, in order.
  /// Stops at the first bad frame and returns the error (also kept in
  /// error()); every later call returns the same error at once.
  decode_error feed(const void* data, std::size_t n, std::vector<frame>& out);
  decode_error feed(std::string_view bytes, std::vector<frame>& out) {
    return feed(bytes.data(), bytes.size(), out);
  }

  const decode_error& error() const { return error_; }
  bool failed() const { return static_cast<bool>(error_); }

  /// Bytes of a frame received so far but not yet complete (header included).
  std::size_t buffered() const { return header_fill_ + payload_.size(); }

  std::size_t max_frame_size() const { return max_; }

  /// Memory the decoder holds for frames to come (its buffer's capacity):
  /// at most max_control_payload once a frame is through.
  std::size_t held_bytes() const { return payload_.capacity(); }

private:
  decode_error fail(decode_error_kind kind, std::string text);
  /// Validates the complete frame in `type_`/`payload_`; never throws.
  decode_error finish(std::vector<frame>& out);
  decode_error finish_frame(std::vector<frame>& out);

  std::size_t max_;
  std::uint8_t header_[4] = {0, 0, 0, 0};
  std::size_t header_fill_ = 0; // 0..4 bytes of the length read
  std::uint32_t length_ = 0;    // once the header is complete
  bool have_type_ = false;
  std::uint8_t type_ = 0;
  std::string payload_;
  decode_error error_;
};

/// Parses a single frame from exactly one frame's bytes (tests, tools).
/// Returns the error when `bytes` holds anything but one complete frame.
struct decode_one_result {
  std::optional<frame> value;
  decode_error error;
};
decode_one_result decode_one(std::string_view bytes,
                             std::size_t max_frame_size = default_max_frame_size);

// -- encoders (throw std::invalid_argument on a value the wire cannot carry) --

/// HELLO with {"peer": id}; the id must be 1..max_peer_id bytes.
std::string encode_hello(const peer_id& peer);

/// DATA for `protocol` (1..255 bytes) with `body`.
std::string encode_data(std::string_view protocol, std::string_view body);

/// REJECT carrying the denial as JSON (at most max_control_payload bytes).
std::string encode_reject(const denial& why);

/// Any frame: the header, the type byte, the raw payload.
std::string encode_frame(frame_type type, std::string_view payload);

} // namespace rcmgr::net
