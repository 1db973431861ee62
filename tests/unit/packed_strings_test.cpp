// A connection's remote addresses packed in one heap block.
#include <doctest/doctest.h>

#include "actors/support/packed_strings.hpp"

using namespace rcmgr;

TEST_CASE("packed strings give back exactly what was packed, in order") {
  std::vector<std::string> xs{"/ip4/10.1.0.7/tcp/40007", "", std::string("a\0b", 3),
                              std::string(300, 'x')};
  packed_strings p{xs};
  CHECK_FALSE(p.empty());
  CHECK(p.size() == 4);
  CHECK(p.unpack() == xs);
  std::vector<std::string> seen;
  p.for_each([&](std::string_view s) { seen.emplace_back(s); });
  CHECK(seen == xs);
}

TEST_CASE("an empty list holds no block; assign replaces; copies are deep") {
  packed_strings p;
  CHECK(p.empty());
  CHECK(p.size() == 0);
  CHECK(p.unpack().empty());
  p.assign({"one"});
  packed_strings copy = p;
  p.assign({"two", "three"});
  CHECK(copy.unpack() == std::vector<std::string>{"one"});
  CHECK(p.unpack() == std::vector<std::string>{"two", "three"});
  p.assign({});
  CHECK(p.empty());
  copy = p;
  CHECK(copy.empty());
}

TEST_CASE("clear reads as empty; the next strings that fit reuse the block") {
  packed_strings p{std::vector<std::string>{"/ip4/10.1.3.200/tcp/41000"}};
  p.clear();
  CHECK(p.empty());
  CHECK(p.size() == 0);
  CHECK(p.unpack().empty());
  std::vector<std::string> shorter{"/ip4/10.1.0.7/tcp/4007"};
  p.assign(shorter);
  CHECK(p.unpack() == shorter);
  std::vector<std::string> longer{"/ip4/10.1.0.7/tcp/4007", "/ip6/::1/tcp/4001"};
  p.assign(longer); // past the block: a new one
  CHECK(p.unpack() == longer);
  packed_strings copy = p;
  p.assign(shorter);
  CHECK(p.unpack() == shorter);
  CHECK(copy.unpack() == longer);
  CHECK(p.holds(shorter));
  CHECK_FALSE(p.holds(longer));
}
