// node_recycler: erased entries' nodes serve the next inserts, up to a bound.
#include <doctest/doctest.h>

#include <string>
#include <unordered_map>

#include "actors/support/node_recycler.hpp"

using namespace rcmgr;

TEST_CASE("an erased entry's node serves the next insert, with the new key and value") {
  using map = std::unordered_map<int, std::string>;
  map m;
  node_recycler<map, 2> nodes;
  nodes.insert(m, 1, std::string{"one"});
  nodes.insert(m, 2, std::string{"two"});
  CHECK(nodes.spare() == 0);
  nodes.erase(m, m.find(1));
  CHECK(nodes.spare() == 1);
  CHECK(m.count(1) == 0);
  nodes.insert(m, 3, std::string{"three"});
  CHECK(nodes.spare() == 0);
  CHECK(m.size() == 2);
  CHECK(m.at(2) == "two");
  CHECK(m.at(3) == "three");
}

TEST_CASE("at most max_spare nodes are kept") {
  using map = std::unordered_map<int, int>;
  map m;
  node_recycler<map, 2> nodes;
  for (int i = 0; i < 5; ++i)
    nodes.insert(m, i, i * 10);
  for (int i = 0; i < 5; ++i)
    nodes.erase(m, m.find(i));
  CHECK(m.empty());
  CHECK(nodes.spare() == 2);
  for (int i = 0; i < 3; ++i)
    nodes.insert(m, 100 + i, i);
  CHECK(nodes.spare() == 0);
  CHECK(m == map{{100, 0}, {101, 1}, {102, 2}});
}

TEST_CASE("insert_reusing hands a spare node's value to reuse, or makes a new one") {
  using map = std::unordered_map<int, std::string>;
  map m;
  node_recycler<map, 2> nodes;
  auto i = nodes.insert_reusing(m, 1, [](std::string&) { FAIL("no spare yet"); });
  CHECK(i->first == 1);
  CHECK(i->second.empty());
  i->second = "one";
  nodes.erase(m, i);
  std::string seen;
  auto j = nodes.insert_reusing(m, 2, [&](std::string& old) {
    seen = old;
    old += "+";
  });
  CHECK(seen == "one");
  CHECK(j->first == 2);
  CHECK(m.at(2) == "one+");
  CHECK(nodes.spare() == 0);
  CHECK(m.size() == 1);
}
