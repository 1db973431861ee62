#include "net/frame_codec.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "messages/json.hpp"

namespace rcmgr::net {

std::string to_string(frame_type x) {
  switch (x) {
  case frame_type::hello:
    return "HELLO";
  case frame_type::data:
    return "DATA";
  case frame_type::reject:
    return "REJECT";
  }
  return "frame type " + std::to_string(static_cast<unsigned>(x));
}

std::string to_string(decode_error_kind x) {
  switch (x) {
  case decode_error_kind::none:
    return "none";
  case decode_error_kind::oversized_frame:
    return "oversized_frame";
  case decode_error_kind::bad_frame:
    return "bad_frame";
  }
  return "unknown";
}

frame_decoder::frame_decoder(std::size_t max_frame_size) : max_(max_frame_size) {
  // The type byte counts towards the length: a limit below 1 admits nothing.
  if (max_ < 1)
    max_ = 1;
}

decode_error frame_decoder::fail(decode_error_kind kind, std::string text) {
  error_ = decode_error{kind, std::move(text)};
  return error_;
}

decode_error frame_decoder::feed(const void* data, std::size_t n,
                                 std::vector<frame>& out) {
  if (error_)
    return error_;
  auto p = static_cast<const std::uint8_t*>(data);
  auto end = p + n;
  while (p != end) {
    if (header_fill_ < 4) {
      header_[header_fill_++] = *p++;
      if (header_fill_ < 4)
        continue;
      length_ = (std::uint32_t{header_[0]} << 24) | (std::uint32_t{header_[1]} << 16) |
                (std::uint32_t{header_[2]} << 8) | std::uint32_t{header_[3]};
      if (length_ == 0)
        return fail(decode_error_kind::bad_frame,
                    "frame length 0: a frame holds at least its type byte");
      if (length_ > max_)
        return fail(decode_error_kind::oversized_frame,
                    "frame length " + std::to_string(length_) +
                        " exceeds the maximum of " + std::to_string(max_) + " bytes");
      continue;
    }
    if (!have_type_) {
      type_ = *p++;
      have_type_ = true;
      if (type_ < 1 || type_ > 3)
        return fail(decode_error_kind::bad_frame,
                    "unknown frame type " + std::to_string(type_) +
                        " (expected 1 HELLO, 2 DATA or 3 REJECT)");
      auto size = static_cast<std::size_t>(length_ - 1);
      if (type_ != static_cast<std::uint8_t>(frame_type::data) &&
          size > max_control_payload)
        return fail(decode_error_kind::bad_frame,
                    to_string(static_cast<frame_type>(type_)) + " payload of " +
                        std::to_string(size) + " bytes exceeds the maximum of " +
                        std::to_string(max_control_payload));
    } else {
      auto want = static_cast<std::size_t>(length_ - 1) - payload_.size();
      auto take = std::min<std::size_t>(want, static_cast<std::size_t>(end - p));
      payload_.append(reinterpret_cast<const char*>(p), take);
      p += take;
    }
    if (payload_.size() == static_cast<std::size_t>(length_ - 1)) {
      if (auto err = finish(out))
        return err;
    }
  }
  return error_;
}

namespace {

/// The JSON type each field of a denial must have on the wire. Unknown keys
/// are ignored (a later denial code may add some).
const char* denial_field_error(const nlohmann::json& j) {
  // The fields of a scope_limit denial are its own, as are the per-IP
  // denials' ip and prefix: other codes ignore them.
  auto code = j.find("code");
  bool scope_limit = code != j.end() && *code == "scope_limit";
  bool ip_rule = code != j.end() && (*code == "ip_limit" || *code == "attempt_rate");
  for (auto& [key, value] : j.items()) {
    if (key == "code" || key == "kind" || key == "peer" || key == "protocol" ||
        key == "scope" ||
        (scope_limit && (key == "resource" || key == "dir" || key == "service")) ||
        (ip_rule && (key == "ip" || key == "prefix"))) {
      if (!value.is_string())
        return "a text field of the denial is not a string";
    } else if (key == "exceeds_burst") {
      if (!value.is_boolean())
        return "\"exceeds_burst\" is not a boolean";
    } else if (key == "limit" || key == "current" || key == "conn" ||
               key == "process_bytes" || key == "max_bytes" || key == "retry_after_ms" ||
               key == "cost" || key == "burst" ||
               (scope_limit &&
                (key == "attempted" || key == "stream" || key == "priority"))) {
      if (!value.is_number_unsigned())
        return "a count field of the denial is not a non-negative integer";
    }
  }
  return nullptr;
}

} // namespace

decode_error frame_decoder::finish(std::vector<frame>& out) {
  // Bad input is an error value here, never an exception out of feed().
  try {
    return finish_frame(out);
  } catch (const std::exception& e) {
    return fail(decode_error_kind::bad_frame,
                to_string(static_cast<frame_type>(type_)) +
                    " payload could not be decoded: " + e.what());
  } catch (...) {
    return fail(decode_error_kind::bad_frame, to_string(static_cast<frame_type>(type_)) +
                                                  " payload could not be decoded");
  }
}

decode_error frame_decoder::finish_frame(std::vector<frame>& out) {
  frame f;
  f.type = static_cast<frame_type>(type_);
  switch (f.type) {
  case frame_type::hello: {
    auto j = nlohmann::json::parse(payload_, nullptr, false);
    if (j.is_discarded())
      return fail(decode_error_kind::bad_frame, "HELLO payload is not valid JSON");
    auto peer = j.is_object() ? j.find("peer") : j.end();
    if (peer == j.end() || !peer->is_string())
      return fail(decode_error_kind::bad_frame,
                  "HELLO payload must be a JSON object with a string \"peer\"");
    f.peer = peer->get_ref<const std::string&>();
    if (f.peer.empty())
      return fail(decode_error_kind::bad_frame, "HELLO carries an empty peer id");
    if (f.peer.size() > max_peer_id)
      return fail(decode_error_kind::bad_frame,
                  "HELLO peer id of " + std::to_string(f.peer.size()) +
                      " bytes exceeds the maximum of " + std::to_string(max_peer_id));
    break;
  }
  case frame_type::data: {
    if (payload_.empty())
      return fail(decode_error_kind::bad_frame,
                  "DATA payload is empty: it needs a protocol-name length byte");
    auto n = static_cast<std::uint8_t>(payload_[0]);
    if (n == 0)
      return fail(decode_error_kind::bad_frame, "DATA protocol-name length is 0");
    if (std::size_t{1} + n > payload_.size())
      return fail(decode_error_kind::bad_frame,
                  "DATA protocol-name length " + std::to_string(n) + " exceeds the " +
                      std::to_string(payload_.size() - 1) + " payload bytes that follow");
    f.protocol = payload_.substr(1, n);
    // The body takes the payload's buffer: no copy, and the decoder keeps no
    // megabyte-sized buffer once a large frame is through.
    f.body = std::move(payload_);
    f.body.erase(0, std::size_t{1} + n);
    break;
  }
  case frame_type::reject: {
    auto j = nlohmann::json::parse(payload_, nullptr, false);
    if (j.is_discarded())
      return fail(decode_error_kind::bad_frame, "REJECT payload is not valid JSON");
    if (j.is_object())
      if (auto wrong = denial_field_error(j))
        return fail(decode_error_kind::bad_frame,
                    std::string{"REJECT payload is not a denial: "} + wrong);
    auto d = denial_from_json(j);
    if (!d)
      return fail(decode_error_kind::bad_frame,
                  "REJECT payload is not a denial (needs a known \"code\")");
    f.why = std::move(*d);
    break;
  }
  }
  out.push_back(std::move(f));
  header_fill_ = 0;
  length_ = 0;
  have_type_ = false;
  type_ = 0;
  payload_.clear(); // at most max_control_payload of capacity is kept
  return {};
}

decode_one_result decode_one(std::string_view bytes, std::size_t max_frame_size) {
  frame_decoder dec{max_frame_size};
  std::vector<frame> frames;
  decode_one_result res;
  if (auto err = dec.feed(bytes, frames)) {
    res.error = err;
    return res;
  }
  if (frames.size() != 1 || dec.buffered() != 0) {
    res.error = decode_error{decode_error_kind::bad_frame,
                             frames.empty() ? "incomplete frame"
                                            : "more than one frame in the input"};
    return res;
  }
  res.value = std::move(frames.front());
  return res;
}

std::string encode_frame(frame_type type, std::string_view payload) {
  auto length = payload.size() + 1;
  if (length > 0xFFFFFFFFu)
    throw std::invalid_argument("frame payload too large for a 4-byte length");
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>((length >> 24) & 0xFF));
  out.push_back(static_cast<char>((length >> 16) & 0xFF));
  out.push_back(static_cast<char>((length >> 8) & 0xFF));
  out.push_back(static_cast<char>(length & 0xFF));
  out.push_back(static_cast<char>(type));
  out.append(payload);
  return out;
}

std::string encode_hello(const peer_id& peer) {
  if (peer.empty())
    throw std::invalid_argument("HELLO needs a non-empty peer id");
  if (peer.size() > max_peer_id)
    throw std::invalid_argument("HELLO peer id must be at most " +
                                std::to_string(max_peer_id) + " bytes, got " +
                                std::to_string(peer.size()));
  return encode_frame(frame_type::hello, dump_text(nlohmann::json{{"peer", peer}}));
}

std::string encode_data(std::string_view protocol, std::string_view body) {
  if (protocol.empty() || protocol.size() > max_protocol_name)
    throw std::invalid_argument("DATA protocol name must be 1..255 bytes, got " +
                                std::to_string(protocol.size()));
  std::string payload;
  payload.reserve(1 + protocol.size() + body.size());
  payload.push_back(static_cast<char>(protocol.size()));
  payload.append(protocol);
  payload.append(body);
  return encode_frame(frame_type::data, payload);
}

std::string encode_reject(const denial& why) {
  // A protocol name comes from the wire and may not be UTF-8: replace it.
  auto payload =
      to_json(why).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (payload.size() > max_control_payload)
    throw std::invalid_argument("REJECT payload must be at most " +
                                std::to_string(max_control_payload) + " bytes, got " +
                                std::to_string(payload.size()));
  return encode_frame(frame_type::reject, payload);
}

} // namespace rcmgr::net
