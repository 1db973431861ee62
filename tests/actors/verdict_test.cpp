// verdict and denial_box (messages/verdict.hpp): a verdict that allows holds
// no denial; one that denies holds its own copy; both travel as before.
// verdict_list (messages/verdict_list.hpp): a batch's verdicts, the plain ones
// as their kind alone, read back equal to what was pushed; a list read off the
// wire with its whole verdicts out of place reads them as plain.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/verdict.hpp"
#include "messages/verdict_list.hpp"

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

namespace {

/// A verdict_list's parts as a sender may write them, checked by no one.
struct raw_verdict_list {
  std::vector<verdict_kind> kinds;
  std::vector<std::uint32_t> full_at;
  std::vector<verdict> full;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raw_verdict_list& x) {
  return f(caf::meta::type_name("verdict_list"), x.kinds, x.full_at, x.full);
}

verdict_list from_raw(raw_verdict_list raw) {
  return read_back<verdict_list>(bytes_of(raw));
}

/// "deny:peer" for a denial, "allow!peer" for a would-denial, "error:text"
/// for an error, else the kind. (A verdict read off the wire holds a default
/// denial in its box: the kind says whether it is one.)
std::string line_of(const verdict& v) {
  auto s = to_string(v.kind);
  if (v.denied())
    return s + ":" + v.why->peer;
  if (v.would())
    return s + "!" + v.why->peer;
  if (v.kind == verdict_kind::error)
    return s + ":" + v.error;
  return s;
}

std::string lines_of(const std::vector<verdict>& vs) {
  std::string out;
  for (auto& v : vs)
    out += (out.empty() ? "" : " ") + line_of(v);
  return out;
}

denial denial_of(const char* peer) {
  return connection_limit_denial(limit_kind::established_per_peer, 2, 2, 7, peer);
}

std::vector<verdict> mixed() {
  std::vector<verdict> vs;
  vs.push_back(verdict::allow());
  vs.push_back(verdict::ok());
  vs.push_back(verdict::deny(denial_of("QmA")));
  vs.push_back(verdict::allow_but(denial_of("QmB")));
  vs.push_back(verdict::fail("bad entry"));
  vs.push_back(verdict::allow());
  return vs;
}

} // namespace

TEST_CASE("a plain verdict is its kind alone") {
  CHECK(is_plain(verdict::allow()));
  CHECK(is_plain(verdict::ok()));
  CHECK_FALSE(is_plain(verdict::deny(denial_of("QmA"))));
  CHECK_FALSE(is_plain(verdict::allow_but(denial_of("QmA"))));
  CHECK_FALSE(is_plain(verdict::fail("x")));
  // A deny with no denial stored is a deny with the default denial: plain.
  CHECK(is_plain(verdict{verdict_kind::deny, false, {}, {}}));
}

TEST_CASE("a verdict list reads back every verdict pushed, in order") {
  verdict_list vs{mixed()};
  REQUIRE(vs.size() == 6);
  CHECK(vs.kind(0) == verdict_kind::allow);
  CHECK(vs.kind(1) == verdict_kind::ok);
  CHECK(vs.kind(2) == verdict_kind::deny);
  CHECK(vs.kind(3) == verdict_kind::allow);
  CHECK(vs.kind(4) == verdict_kind::error);
  CHECK(vs.kind(5) == verdict_kind::allow);
  auto expected = "allow ok deny:QmA allow!QmB error:bad entry allow";
  CHECK(lines_of(vs.to_vector()) == expected);
  std::vector<verdict> one_by_one;
  for (std::size_t k = 0; k < vs.size(); ++k)
    one_by_one.push_back(vs[k]);
  CHECK(lines_of(one_by_one) == expected);
  CHECK(vs[2].why == denial_of("QmA"));
  CHECK(vs[3].why == denial_of("QmB"));
  std::vector<std::size_t> at;
  std::vector<verdict> walked;
  vs.each([&](std::size_t k, const verdict& v) {
    at.push_back(k);
    walked.push_back(v);
  });
  CHECK(at == std::vector<std::size_t>{0, 1, 2, 3, 4, 5});
  CHECK(lines_of(walked) == expected);
  // push_plain and push_back of a plain verdict are the same list.
  verdict_list a;
  a.push_plain(verdict_kind::allow);
  a.push_plain(verdict_kind::ok);
  verdict_list b;
  b.push_back(verdict::allow());
  b.push_back(verdict::ok());
  CHECK(a == b);
  CHECK(a != vs);
  CHECK(verdict_list{}.empty());
}

TEST_CASE("drain moves each full verdict out, in order") {
  verdict_list vs{mixed()};
  std::vector<verdict> got;
  vs.drain([&](std::size_t k, verdict&& v) {
    CHECK(k == got.size());
    got.push_back(std::move(v));
  });
  CHECK(lines_of(got) == "allow ok deny:QmA allow!QmB error:bad entry allow");
  // The kinds stay.
  CHECK(vs.size() == 6);
  CHECK(vs.kind(4) == verdict_kind::error);
}

TEST_CASE("a verdict list serializes and reads back equal") {
  verdict_list vs{mixed()};
  auto back = read_back<verdict_list>(bytes_of(vs));
  CHECK(back == vs);
  CHECK(lines_of(back.to_vector()) == lines_of(vs.to_vector()));
  verdict_list empty;
  CHECK(read_back<verdict_list>(bytes_of(empty)).empty());
}

TEST_CASE("a list off the wire reads its misplaced full verdicts as plain") {
  using k = verdict_kind;
  // Indices descending, one past the size, and fewer verdicts than indices.
  auto vs = from_raw({{k::allow, k::allow, k::deny, k::ok},
                      {2, 1, 3},
                      {verdict::deny(denial_of("QmA")), verdict::fail("x")}});
  CHECK(lines_of(vs.to_vector()) == "allow allow deny:QmA ok");
  CHECK(line_of(vs[1]) == "allow");
  CHECK(line_of(vs[2]) == "deny:QmA");
  CHECK(line_of(vs[3]) == "ok");
  // An index past the size stops the walk; later ones are never taken.
  auto past =
      from_raw({{k::allow, k::allow}, {5, 1}, {verdict::fail("x"), verdict::fail("y")}});
  CHECK(lines_of(past.to_vector()) == "allow allow");
  CHECK(line_of(past[1]) == "allow");
  // The same index twice: the first is taken, the second never.
  auto twice =
      from_raw({{k::error, k::error}, {0, 0}, {verdict::fail("x"), verdict::fail("y")}});
  CHECK(lines_of(twice.to_vector()) == "error:x error:"); // the second: no text
  CHECK(line_of(twice[0]) == "error:x");
  std::string drained;
  twice.drain([&](std::size_t, verdict&& v) { drained += line_of(v) + ";"; });
  CHECK(drained == "error:x;error:;");
  // More verdicts than indices: the extra ones are never read.
  auto extra = from_raw({{k::ok}, {}, {verdict::fail("x")}});
  CHECK(lines_of(extra.to_vector()) == "ok");
}
