// GET /config's document (actors/dump/effective_config): the config in force
// joined with the scope limits the dump shows.
#include <doctest/doctest.h>

#include "actors/dump/effective_config.hpp"

using namespace rcmgr;
using json = nlohmann::json;

TEST_CASE("the scope limits come from the fixed scopes and the scope classes") {
  json config{{"connection_limits", {{"max_pending_inbound", 4}}},
              {"scopes", json::object()}};
  json state{
      {"scopes",
       {{"system", {{"usage", {{"fd", 1}}}, {"limits", {{"conns", 10}}}}},
        {"transient", {{"limits", {{"conns", "unlimited"}}}}},
        {"peers", {{"QmA", {{"limits", {{"conns", 3}}}}}}},
        {"class_limits", {{"peer", {{"conns", 3}}}, {"conn", {{"memory", 4096}}}}}}}};
  auto doc = effective_config(config, state);
  CHECK(doc == json{{"config", config},
                    {"scope_limits",
                     {{"system", {{"conns", 10}}},
                      {"transient", {{"conns", "unlimited"}}},
                      {"peer", {{"conns", 3}}},
                      {"conn", {{"memory", 4096}}}}}});
}

TEST_CASE("without scopes, or with a malformed state, the scope limits are null") {
  json config{{"memory", {{"sample_interval_ms", 100}}}};
  for (auto& state : {json::object(), json{{"scopes", nullptr}}, json{{"scopes", 3}},
                      json::array(), json(nullptr)})
    CHECK(effective_config(config, state) ==
          json{{"config", config}, {"scope_limits", nullptr}});
}
