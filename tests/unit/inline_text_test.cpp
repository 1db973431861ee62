#include <doctest/doctest.h>

#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "messages/inline_text.hpp"

using rcmgr::inline_text;

namespace {

// A libp2p Ed25519 peer id: 52 characters.
const std::string peer52 = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

} // namespace

TEST_CASE("inline_text keeps up to 63 bytes in place and longer text on the heap") {
  inline_text none;
  CHECK(none.empty());
  CHECK(none.size() == 0);
  CHECK(none.view() == "");
  CHECK(!none.on_heap());

  inline_text peer{peer52};
  CHECK(peer.size() == 52);
  CHECK(peer.view() == peer52);
  CHECK(!peer.on_heap());

  const std::string at63(63, 'a'), at64(64, 'b');
  inline_text in{at63}, out{at64};
  CHECK(!in.on_heap());
  CHECK(in.size() == 63);
  CHECK(in.view() == at63);
  CHECK(out.on_heap());
  CHECK(out.size() == 64);
  CHECK(out.view() == at64);
  CHECK(out.str() == at64);
  CHECK(sizeof(inline_text) == 64);
}

TEST_CASE("inline_text copies are independent; a moved-from text is empty") {
  const std::string long_text(100, 'x');
  for (const std::string& s : {peer52, long_text}) {
    CAPTURE(s.size());
    inline_text a{s};
    inline_text b{a};
    CHECK(b.view() == s);
    b = "other";
    CHECK(a.view() == s);
    CHECK(b.view() == "other");
    b = a;
    CHECK(b.view() == s);
    inline_text c{std::move(a)};
    CHECK(c.view() == s);
    // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from state is the point
    CHECK(a.empty());
    a = std::move(c);
    CHECK(a.view() == s);
    CHECK(c.empty()); // NOLINT(bugprone-use-after-move)
    a.clear();
    CHECK(a.empty());
    CHECK(!a.on_heap());
  }
}

TEST_CASE("inline_text assigned a view of its own text keeps it") {
  inline_text small{"/ip4/10.0.0.1/tcp/4001"};
  small = small.view().substr(5, 8);
  CHECK(small.view() == "10.0.0.1");
  inline_text big{std::string(80, 'y') + "tail"};
  big = big.view().substr(76);
  CHECK(big.view() == "yyyytail");
  CHECK(!big.on_heap());
  inline_text grow{"short"};
  grow = std::string(70, 'z');
  CHECK(grow.on_heap());
  CHECK(grow.size() == 70);
}

TEST_CASE("inline_text compares with strings, views and literals either way") {
  inline_text p{"peer-a"};
  const std::string s = "peer-a";
  const std::string_view v = "peer-a";
  CHECK(p == s);
  CHECK(s == p);
  CHECK(p == v);
  CHECK(v == p);
  CHECK(p == "peer-a");
  CHECK("peer-a" == p);
  CHECK(p != "peer-b");
  CHECK("peer-b" != p);
  CHECK(p != std::string{"peer"});
  CHECK(p == inline_text{"peer-a"});
  CHECK(p != inline_text{"peer-b"});
  CHECK(inline_text{"a"} < inline_text{"b"});
  CHECK(!(inline_text{"b"} < inline_text{"a"}));
  CHECK(std::hash<inline_text>{}(p) == std::hash<std::string_view>{}("peer-a"));
  std::ostringstream os;
  os << p << '|' << inline_text{std::string(70, 'q')}.view().substr(0, 2);
  CHECK(os.str() == "peer-a|qq");
  std::string assigned;
  assigned = p; // a std::string takes it like a view
  CHECK(assigned == "peer-a");
}
