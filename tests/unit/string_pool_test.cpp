// The pool of interned peer ids and addresses: one text per distinct string,
// freed with its last reference, its slot reused.
#include <doctest/doctest.h>

#include "actors/support/string_pool.hpp"

using namespace rcmgr;

TEST_CASE("equal texts share one handle, counted per reference") {
  string_pool pool;
  auto a = pool.acquire("12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  auto b = pool.acquire(std::string{"12D3KooW"} + std::string(44, 'A'));
  auto c = pool.acquire("QmOther");
  CHECK(a == b);
  CHECK(a != c);
  CHECK(pool.size() == 2);
  CHECK(pool.references(a) == 2);
  CHECK(pool.text(c) == "QmOther");
  string_pool::handle found = 99;
  REQUIRE(pool.find("QmOther", found));
  CHECK(found == c);
  CHECK(pool.references(c) == 1); // find takes no reference
  CHECK_FALSE(pool.find("QmNobody", found));
}

TEST_CASE("the empty text is handle 0, never counted or freed") {
  string_pool pool;
  CHECK(pool.acquire("") == string_pool::empty);
  pool.release(string_pool::empty);
  pool.release(string_pool::empty);
  CHECK(pool.text(string_pool::empty) == "");
  CHECK(pool.size() == 0);
  string_pool::handle found = 99;
  REQUIRE(pool.find("", found));
  CHECK(found == string_pool::empty);
}

TEST_CASE("the last release frees the text and its slot is reused") {
  string_pool pool;
  auto a = pool.acquire("A");
  pool.retain(a);
  pool.release(a);
  CHECK(pool.size() == 1);
  string_pool::handle found;
  CHECK(pool.find("A", found));
  pool.release(a);
  CHECK(pool.size() == 0);
  CHECK_FALSE(pool.find("A", found));
  pool.release(a); // one release too many: ignored, nothing underflows
  CHECK(pool.references(a) == 0);
  auto b = pool.acquire("B");
  CHECK(b == a); // the freed slot
  CHECK(pool.text(b) == "B");
  CHECK(pool.references(b) == 1);
}

TEST_CASE("texts stay put while the pool grows past many slots") {
  // Short texts live inside std::string itself; the index's keys point at
  // them, so a slot must never move as others are added.
  string_pool pool;
  std::vector<string_pool::handle> hs;
  for (int i = 0; i < 5000; ++i)
    hs.push_back(pool.acquire("p" + std::to_string(i)));
  for (int i = 0; i < 5000; ++i) {
    string_pool::handle found;
    REQUIRE(pool.find("p" + std::to_string(i), found));
    CHECK(found == hs[static_cast<std::size_t>(i)]);
  }
  for (auto h : hs)
    pool.release(h);
  CHECK(pool.size() == 0);
}

TEST_CASE("a text's value lives and dies with the text") {
  basic_string_pool<std::uint64_t> pool;
  auto a = pool.acquire("A");
  pool.value(a) = 7;
  pool.retain(a);
  pool.release(a);
  CHECK(pool.value(a) == 7);
  std::vector<string_pool::handle> live;
  pool.for_each([&](string_pool::handle h) { live.push_back(h); });
  CHECK(live == std::vector<string_pool::handle>{a});
  pool.release(a);
  auto b = pool.acquire("B"); // reuses the slot, with a fresh value
  CHECK(b == a);
  CHECK(pool.value(b) == 0);
}

TEST_CASE("a freed text's characters and index entry serve the next new text") {
  string_pool pool;
  auto a = pool.acquire("12D3KooW" + std::string(44, 'A'));
  auto* chars = pool.text(a).data();
  pool.release(a);
  CHECK(pool.size() == 0);
  auto b = pool.acquire("12D3KooW" + std::string(44, 'B'));
  CHECK(b == a);
  CHECK(pool.text(b).data() == chars); // no new block for the characters
  CHECK(pool.text(b) == "12D3KooW" + std::string(44, 'B'));
  string_pool::handle found;
  CHECK_FALSE(pool.find("12D3KooW" + std::string(44, 'A'), found));
  REQUIRE(pool.find("12D3KooW" + std::string(44, 'B'), found));
  CHECK(found == b);
  CHECK(pool.size() == 1);
}
