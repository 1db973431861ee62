// text_table: a batch's texts in one block, read by index; a table read
// from the network may be malformed and is then read as empty texts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "messages/text_table.hpp"

using namespace rcmgr;

TEST_CASE("text_table: push returns consecutive indexes and reads the texts back") {
  text_table t;
  CHECK(t.empty());
  CHECK(t.size() == 0);
  CHECK(t.push("12D3KooWPeerIdOfFiftyTwoCharactersLongAbcdefghijkmnopq") == 0);
  CHECK(t.push("") == 1); // an empty text is a text (the writer maps "" to no_text)
  CHECK(t.push("/ip4/10.1.0.1/tcp/40001") == 2);
  CHECK_FALSE(t.empty());
  REQUIRE(t.size() == 3);
  CHECK(t[0] == "12D3KooWPeerIdOfFiftyTwoCharactersLongAbcdefghijkmnopq");
  CHECK(t[1] == "");
  CHECK(t[2] == "/ip4/10.1.0.1/tcp/40001");
  CHECK(t.has(0));
  CHECK(t.has(1));
  CHECK(t.has(2));
  CHECK_FALSE(t.has(3));
  CHECK(t[3] == ""); // past the end: empty, no read outside the table
  CHECK(t.to_vector() ==
        std::vector<std::string>{"12D3KooWPeerIdOfFiftyTwoCharactersLongAbcdefghijkmnopq",
                                 "", "/ip4/10.1.0.1/tcp/40001"});
}

TEST_CASE("text_table: texts share one block; views stay valid until the next push") {
  text_table t{"a", "bc", "def"};
  auto a = t[0], b = t[1], c = t[2];
  CHECK(b.data() == a.data() + 1);
  CHECK(c.data() == b.data() + 2);
  CHECK(t == text_table{"a", "bc", "def"});
  CHECK(t != text_table{"a", "bcd", "ef"}); // same characters, other texts
  CHECK(t != text_table{"a", "bc"});
}

TEST_CASE("text_table: truncate drops the texts from n on and their characters") {
  text_table t{"one", "two", "three"};
  SUBCASE("to 1") {
    t.truncate(1);
    CHECK(t.to_vector() == std::vector<std::string>{"one"});
    CHECK(t.push("four") == 1);
    CHECK(t == text_table{"one", "four"});
  }
  SUBCASE("to 0") {
    t.truncate(0);
    CHECK(t.empty());
    CHECK(t == text_table{});
  }
  SUBCASE("to the size or past it: nothing changes") {
    t.truncate(3);
    CHECK(t == text_table{"one", "two", "three"});
    t.truncate(10);
    CHECK(t == text_table{"one", "two", "three"});
  }
  SUBCASE("clear") {
    t.clear();
    CHECK(t.empty());
    CHECK(t.push("x") == 0);
    CHECK(t[0] == "x");
  }
}

TEST_CASE("text_table: a malformed table reads its bad texts as empty") {
  SUBCASE("an end past the characters") {
    auto t = text_table::from_parts("abcdef", {3, 7});
    REQUIRE(t.size() == 2);
    CHECK(t.has(0));
    CHECK(t[0] == "abc");
    CHECK_FALSE(t.has(1));
    CHECK(t[1] == "");
  }
  SUBCASE("ends that run backwards") {
    auto t = text_table::from_parts("abcdef", {4, 2, 6});
    CHECK(t[0] == "abcd");
    CHECK_FALSE(t.has(1));
    CHECK(t[1] == "");
    // Text 2 starts where text 1 ends (2): "cdef" is inside the characters.
    CHECK(t.has(2));
    CHECK(t[2] == "cdef");
  }
  SUBCASE("a first text past the characters, and no characters at all") {
    auto t = text_table::from_parts("", {1, 1});
    CHECK_FALSE(t.has(0));
    CHECK_FALSE(t.has(1));
    CHECK(t[0] == "");
    CHECK(t[1] == "");
  }
  SUBCASE("well formed parts read as pushed texts") {
    auto t = text_table::from_parts("abcdef", {1, 1, 6});
    CHECK(t == text_table{"a", "", "bcdef"});
  }
}

TEST_CASE("text_table: reserve keeps the contents") {
  text_table t{"x"};
  t.reserve(100, 10000);
  CHECK(t == text_table{"x"});
  CHECK(t.push("y") == 1);
  CHECK(t == text_table{"x", "y"});
}
