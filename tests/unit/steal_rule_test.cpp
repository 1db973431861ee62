// steal_rule: a worker takes a job from another's queue only once that
// queue has not been found empty by its owner for the rule's patience.
#include <doctest/doctest.h>

#include "scheduler/steal_rule.hpp"

using namespace rcmgr;

TEST_CASE("the first look at a worker never steals; the wait counts from it") {
  steal_rule rule{1000};
  CHECK_FALSE(rule.may_steal(1, 0, 5000));
  CHECK_FALSE(rule.may_steal(1, 0, 5999));
  CHECK(rule.may_steal(1, 0, 6000));
  // Once due, every later look with the count unchanged is too: the jobs
  // behind a long one are taken one by one.
  CHECK(rule.may_steal(1, 0, 6001));
  CHECK(rule.may_steal(1, 0, 90000));
}

TEST_CASE("a queue emptied since the last look starts the wait again") {
  steal_rule rule{1000};
  CHECK_FALSE(rule.may_steal(0, 7, 0));
  // Two actors answering each other empty their worker's queue at every
  // turn: the count moves between any two looks and nothing is taken.
  for (std::int64_t t = 1000; t <= 10000; t += 1000)
    CHECK_FALSE(rule.may_steal(0, 7 + static_cast<std::uint64_t>(t / 1000), t));
  // The count stops at 17 from 10000 on: due 1000 later, not before.
  CHECK_FALSE(rule.may_steal(0, 17, 10999));
  CHECK(rule.may_steal(0, 17, 11000));
  CHECK_FALSE(rule.may_steal(0, 18, 11001));
}

TEST_CASE("each worker looked at has its own wait") {
  steal_rule rule{1000};
  CHECK_FALSE(rule.may_steal(3, 1, 0));
  CHECK_FALSE(rule.may_steal(0, 4, 500));
  CHECK(rule.may_steal(3, 1, 1000));
  CHECK_FALSE(rule.may_steal(0, 4, 1499));
  CHECK(rule.may_steal(0, 4, 1500));
  // A worker never looked at before starts its own wait.
  CHECK_FALSE(rule.may_steal(2, 0, 1500));
}

TEST_CASE("a patience of zero steals from the second look with the count unchanged") {
  steal_rule rule{0};
  CHECK_FALSE(rule.may_steal(1, 0, 10));
  CHECK(rule.may_steal(1, 0, 10));
  CHECK_FALSE(rule.may_steal(1, 1, 10));
}
