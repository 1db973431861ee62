// The state dump: asks every resource actor for its part in parallel and
// joins the parts into one JSON document (DESIGN §5, "schema": 1). A part
// that does not answer within the timeout is named under "missing"; the dump
// still arrives.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

struct dump_source {
  std::string name; // reported under "missing" when it does not answer
  dump_part_source handle;
};

struct state_dump_options {
  std::chrono::milliseconds part_timeout{1000};
};

state_dump_actor spawn_state_dump(caf::actor_system& sys,
                                  std::vector<dump_source> sources,
                                  state_dump_options opts);

} // namespace rcmgr
