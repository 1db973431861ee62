#include <doctest/doctest.h>

#include "actors/faults/fault_log.hpp"

using namespace rcmgr;

TEST_CASE("fault_log: a shutdown is no fault, an abnormal stop is recorded once") {
  fault_log log;
  CHECK(log.dump_part(0) == "{}");
  CHECK_FALSE(log.on_stop("gate", "user_shutdown", true, 1'000'000));
  CHECK(log.faults().empty());
  CHECK(log.on_stop("tracker", "unhandled_exception", false, 2'000'000));
  CHECK_FALSE(log.on_stop("tracker", "kill", false, 3'000'000));
  REQUIRE(log.faults().size() == 1);
  CHECK(log.faults()[0].reason == "unhandled_exception");
  CHECK(log.dump_part(1'502'000'000) ==
        R"({"faults":{"tracker":{"age_ms":1500,"reason":"unhandled_exception"}}})");
  // A clock behind the fault (it cannot go back, but the age never underflows).
  CHECK(log.dump_part(0) ==
        R"({"faults":{"tracker":{"age_ms":0,"reason":"unhandled_exception"}}})");
}
