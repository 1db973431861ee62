// steal_rule: a worker takes a job from another's queue only once that
// queue has not been found empty by its owner for the rule's patience.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "scheduler/steal_rule.hpp"

using namespace rcmgr;

namespace {

struct look {
  std::size_t victim;
  std::uint64_t emptied; // the victim's count at this look
  std::int64_t now;
  bool steals; // what the rule must answer
};

/// Asks `rule` each look in order, checking each answer.
void expect(steal_rule& rule, const std::vector<look>& looks) {
  for (const auto& l : looks) {
    CAPTURE(l.victim);
    CAPTURE(l.emptied);
    CAPTURE(l.now);
    CHECK(rule.may_steal(l.victim, l.emptied, l.now) == l.steals);
  }
}

} // namespace

TEST_CASE("the first look at a worker never steals; the wait counts from it") {
  steal_rule rule{1000};
  // Once due, every later look with the count unchanged is too: the jobs
  // behind a long one are taken one by one.
  expect(rule, {{1, 0, 5000, false},
                {1, 0, 5999, false},
                {1, 0, 6000, true},
                {1, 0, 6001, true},
                {1, 0, 90000, true}});
}

TEST_CASE("a queue emptied since the last look starts the wait again") {
  steal_rule rule{1000};
  // Two actors answering each other empty their worker's queue at every
  // turn: the count moves between any two looks and nothing is taken.
  std::vector<look> pair;
  for (std::uint64_t k = 0; k <= 10; ++k)
    pair.push_back({0, 7 + k, static_cast<std::int64_t>(k) * 1000, false});
  expect(rule, pair);
  // The count stops at 17 from 10000 on: due 1000 later, not before.
  expect(rule, {{0, 17, 10999, false}, {0, 17, 11000, true}, {0, 18, 11001, false}});
}

TEST_CASE("each worker looked at has its own wait") {
  steal_rule rule{1000};
  // A worker never looked at before (2) starts its own wait.
  expect(rule, {{3, 1, 0, false},
                {0, 4, 500, false},
                {3, 1, 1000, true},
                {0, 4, 1499, false},
                {0, 4, 1500, true},
                {2, 0, 1500, false}});
}

TEST_CASE("a patience of zero steals from the second look with the count unchanged") {
  steal_rule rule{0};
  expect(rule, {{1, 0, 10, false}, {1, 0, 10, true}, {1, 1, 10, false}});
}
