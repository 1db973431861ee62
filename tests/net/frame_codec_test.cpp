// The wire framing, byte by byte.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "net/frame_codec.hpp"

using namespace rcmgr;
using namespace rcmgr::net;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string s;
  for (auto x : xs)
    s.push_back(static_cast<char>(x));
  return s;
}

} // namespace

TEST_CASE("HELLO encodes as length, type 1, JSON peer") {
  auto f = encode_hello("A");
  // {"peer":"A"} is 12 bytes; the length counts the type byte too: 13.
  CHECK(f == bytes({0, 0, 0, 13, 1}) + R"({"peer":"A"})");
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->type == frame_type::hello);
  CHECK(d.value->peer == "A");
}

TEST_CASE("DATA encodes the protocol-name length, the name and the body") {
  auto f = encode_data("/echo/1", "hi");
  CHECK(f == bytes({0, 0, 0, 11, 2, 7}) + "/echo/1" + "hi");
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->type == frame_type::data);
  CHECK(d.value->protocol == "/echo/1");
  CHECK(d.value->body == "hi");
  // An empty body is a valid DATA frame.
  auto e = decode_one(bytes({0, 0, 0, 3, 2, 1}) + "p");
  REQUIRE(e.value);
  CHECK(e.value->protocol == "p");
  CHECK(e.value->body.empty());
}

TEST_CASE("REJECT carries the denial as in the replay contract") {
  auto why = connection_limit_denial(limit_kind::established_inbound, 3, 3, 7, "B");
  auto f = encode_reject(why);
  std::string json =
      R"({"code":"connection_limit","conn":7,"current":3,"kind":"established_inbound","limit":3,"peer":"B"})";
  CHECK(f.substr(0, 5) == bytes({0, 0, 0, static_cast<int>(json.size() + 1), 3}));
  CHECK(f.substr(5) == json);
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->type == frame_type::reject);
  CHECK(d.value->why == why);
}

TEST_CASE("REJECT carries a scope_limit denial with every field") {
  denial why;
  why.code = denial_code::scope_limit;
  why.scope_name = "protocol:/chat.peer:B";
  why.scope_kind = scope_class::protocol_peer;
  why.resource = scope_resource::streams_inbound;
  why.has_dir = true;
  why.dir = direction::inbound;
  why.limit = 1;
  why.current = 1;
  why.attempted = 1;
  why.has_conn = true;
  why.conn = 7;
  why.has_stream = true;
  why.stream = 12;
  why.peer = "B";
  why.protocol = "/chat";
  auto f = encode_reject(why);
  CHECK(
      f.substr(5) ==
      R"({"attempted":1,"code":"scope_limit","conn":7,"current":1,"dir":"inbound","limit":1,"peer":"B","protocol":"/chat","resource":"streams_inbound","scope":"protocol:/chat.peer:B","stream":12})");
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->why == why);
  auto bad = [](const std::string& payload) {
    auto frame = bytes({0, 0, 0, static_cast<int>(payload.size() + 1), 3}) + payload;
    auto r = decode_one(frame);
    REQUIRE_FALSE(r.value);
    return r.error.text;
  };
  CHECK(bad(R"({"code":"scope_limit","scope":"system","resource":"fd","stream":-1})") ==
        "REJECT payload is not a denial: a count field of the denial is not a "
        "non-negative integer");
  CHECK(bad(R"({"code":"scope_limit","scope":"system","resource":["fd"]})") ==
        "REJECT payload is not a denial: a text field of the denial is not a string");
  CHECK(bad(R"({"code":"scope_limit","scope":"system","resource":"cpu"})") ==
        "REJECT payload is not a denial (needs a known \"code\")");
}

TEST_CASE("frames split at every byte boundary decode the same") {
  auto stream = encode_hello("peer-1") + encode_data("/chat/1", "hello there") +
                encode_data("/echo/1", "");
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    frame_decoder dec;
    std::vector<frame> out;
    for (std::size_t i = 0; i < stream.size(); i += chunk)
      CHECK_FALSE(dec.feed(stream.substr(i, chunk), out));
    REQUIRE(out.size() == 3);
    CHECK(out[0].peer == "peer-1");
    CHECK(out[1].protocol == "/chat/1");
    CHECK(out[1].body == "hello there");
    CHECK(out[2].protocol == "/echo/1");
    CHECK(out[2].body == "");
    CHECK(dec.buffered() == 0);
  }
}

TEST_CASE("an oversized length is refused as soon as the header is read") {
  frame_decoder dec{16};
  std::vector<frame> out;
  // 17 > 16: refused after the 4 length bytes, before a type or payload byte.
  auto err = dec.feed(bytes({0, 0, 0, 17}), out);
  CHECK(err.kind == decode_error_kind::oversized_frame);
  CHECK(err.text == "frame length 17 exceeds the maximum of 16 bytes");
  CHECK(dec.buffered() == 4);
  CHECK(out.empty());
  // The decoder stays failed.
  CHECK(dec.feed(encode_hello("A"), out).kind == decode_error_kind::oversized_frame);
  CHECK(out.empty());
  // The default maximum is 1 MiB: 1048576 passes the header, 1048577 does not.
  frame_decoder big;
  CHECK_FALSE(big.feed(bytes({0, 0x10, 0, 0}), out));
  frame_decoder bigger;
  auto e2 = bigger.feed(bytes({0, 0x10, 0, 1, 2}), out);
  CHECK(e2.kind == decode_error_kind::oversized_frame);
  CHECK(e2.text == "frame length 1048577 exceeds the maximum of 1048576 bytes");
  // 0xFFFFFFFF never allocates anything.
  frame_decoder huge;
  CHECK(huge.feed(bytes({0xFF, 0xFF, 0xFF, 0xFF}), out).kind ==
        decode_error_kind::oversized_frame);
}

TEST_CASE("frames before a bad one are delivered") {
  frame_decoder dec;
  std::vector<frame> out;
  auto err = dec.feed(encode_hello("A") + bytes({0, 0, 0, 1, 9}), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].peer == "A");
  CHECK(err.kind == decode_error_kind::bad_frame);
  CHECK(err.text == "unknown frame type 9 (expected 1 HELLO, 2 DATA or 3 REJECT)");
}

TEST_CASE("bad frames name what is wrong") {
  auto err = [](const std::string& b) {
    auto d = decode_one(b);
    CHECK_FALSE(d.value);
    CHECK(d.error.kind == decode_error_kind::bad_frame);
    return d.error.text;
  };
  CHECK(err(bytes({0, 0, 0, 0})) ==
        "frame length 0: a frame holds at least its type byte");
  CHECK(err(bytes({0, 0, 0, 1, 0})) ==
        "unknown frame type 0 (expected 1 HELLO, 2 DATA or 3 REJECT)");
  CHECK(err(bytes({0, 0, 0, 4, 1}) + "abc") == "HELLO payload is not valid JSON");
  CHECK(err(bytes({0, 0, 0, 3, 1}) + "[]") ==
        "HELLO payload must be a JSON object with a string \"peer\"");
  CHECK(err(bytes({0, 0, 0, 11, 1}) + R"({"peer":1})") ==
        "HELLO payload must be a JSON object with a string \"peer\"");
  CHECK(err(bytes({0, 0, 0, 12, 1}) + R"({"peer":""})") ==
        "HELLO carries an empty peer id");
  CHECK(err(bytes({0, 0, 0, 1, 2})) ==
        "DATA payload is empty: it needs a protocol-name length byte");
  CHECK(err(bytes({0, 0, 0, 3, 2, 0, 'x'})) == "DATA protocol-name length is 0");
  CHECK(err(bytes({0, 0, 0, 4, 2, 5, 'a', 'b'})) ==
        "DATA protocol-name length 5 exceeds the 2 payload bytes that follow");
  CHECK(err(bytes({0, 0, 0, 3, 3}) + "{}") ==
        "REJECT payload is not a denial (needs a known \"code\")");
  CHECK(err(bytes({0, 0, 0, 2, 3}) + "{") == "REJECT payload is not valid JSON");
  CHECK(err(bytes({0, 0, 0, 5, 1})) == "incomplete frame");
  CHECK(err(encode_hello("A") + encode_hello("B")) == "more than one frame in the input");
}

TEST_CASE("text sent to a node is caught by the length check") {
  // "GET " read as a big-endian length is 0x47455420 = 1195725856.
  auto d = decode_one("GET / HTTP/1.1\r\n\r\n");
  CHECK(d.error.kind == decode_error_kind::oversized_frame);
  CHECK(d.error.text == "frame length 1195725856 exceeds the maximum of 1048576 bytes");
}

TEST_CASE("encoders refuse what the wire cannot carry") {
  CHECK_THROWS_AS(encode_hello(""), std::invalid_argument);
  CHECK_THROWS_AS(encode_data("", "x"), std::invalid_argument);
  CHECK_THROWS_AS(encode_data(std::string(256, 'p'), "x"), std::invalid_argument);
  auto f = encode_data(std::string(255, 'p'), "x");
  CHECK(f.size() == 4 + 1 + 1 + 255 + 1);
  auto d = decode_one(f);
  REQUIRE(d.value);
  CHECK(d.value->protocol.size() == 255);
  // A protocol name that is not UTF-8 still yields a REJECT (replaced characters).
  denial r;
  r.code = denial_code::rate_limit;
  r.protocol = "\xff";
  r.peer = "P";
  r.scope = rate_scope::per_peer;
  r.retry_after_ms = 5;
  auto rf = decode_one(encode_reject(r));
  REQUIRE(rf.value);
  CHECK(rf.value->why.protocol == "\xEF\xBF\xBD");
  CHECK(rf.value->why.retry_after_ms == 5);
}

TEST_CASE("a denial field of the wrong JSON type is a bad frame, never an exception") {
  auto err = [](const std::string& payload) {
    auto d = decode_one(encode_frame(frame_type::reject, payload));
    CHECK_FALSE(d.value);
    CHECK(d.error.kind == decode_error_kind::bad_frame);
    return d.error.text;
  };
  CHECK(err(R"({"code":"rate_limit","exceeds_burst":null})") ==
        R"(REJECT payload is not a denial: "exceeds_burst" is not a boolean)");
  CHECK(err(R"({"code":"rate_limit","retry_after_ms":-1})") ==
        "REJECT payload is not a denial: a count field of the denial is not a "
        "non-negative integer");
  CHECK(err(R"({"code":"blocked","peer":["x"]})") ==
        "REJECT payload is not a denial: a text field of the denial is not a string");
  CHECK(err(R"({"code":7})") ==
        "REJECT payload is not a denial: a text field of the denial is not a string");
  // Keys a later denial code may add are ignored.
  auto d = decode_one(encode_frame(frame_type::reject,
                                   R"({"code":"blocked","peer":"P","resource":[1]})"));
  REQUIRE(d.value);
  CHECK(d.value->why.code == denial_code::blocked);
  CHECK(d.value->why.peer == "P");
}

TEST_CASE("text off the wire is capped: peer ids, HELLO and REJECT payloads") {
  auto hello = [](const std::string& peer) {
    return encode_frame(frame_type::hello, R"({"peer":")" + peer + R"("})");
  };
  auto ok = decode_one(hello(std::string(max_peer_id, 'p')));
  REQUIRE(ok.value);
  CHECK(ok.value->peer.size() == 128);
  auto too_long = decode_one(hello(std::string(max_peer_id + 1, 'p')));
  CHECK(too_long.error.kind == decode_error_kind::bad_frame);
  CHECK(too_long.error.text == "HELLO peer id of 129 bytes exceeds the maximum of 128");
  CHECK_THROWS_AS(encode_hello(std::string(max_peer_id + 1, 'p')), std::invalid_argument);
  // A HELLO or REJECT payload over 4096 bytes is refused at its type byte,
  // before any of the payload is buffered.
  for (auto type : {1, 3}) {
    frame_decoder dec;
    std::vector<frame> out;
    auto err = dec.feed(bytes({0, 0, 0x10, 0x02, type}), out); // 4097 + type byte
    CHECK(err.kind == decode_error_kind::bad_frame);
    CHECK(err.text == (type == 1 ? "HELLO" : std::string{"REJECT"}) +
                          " payload of 4097 bytes exceeds the maximum of 4096");
    CHECK(dec.buffered() == 4);
  }
  denial big;
  big.code = denial_code::blocked;
  big.peer = std::string(5000, 'p');
  CHECK_THROWS_AS(encode_reject(big), std::invalid_argument);
  // A DATA frame may still be as large as the frame limit.
  CHECK(decode_one(encode_data("/p", std::string(100000, 'x'))).value);
}

TEST_CASE("a large DATA body leaves no large buffer in the decoder") {
  frame_decoder dec;
  std::vector<frame> out;
  auto big = encode_data("/echo/1", std::string(500000, 'x'));
  for (std::size_t i = 0; i < big.size(); i += 4096)
    CHECK_FALSE(dec.feed(std::string_view{big}.substr(i, 4096), out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].body.size() == 500000);
  CHECK(out[0].protocol == "/echo/1");
  CHECK(dec.buffered() == 0);
  CHECK(dec.held_bytes() <= max_control_payload);
}
