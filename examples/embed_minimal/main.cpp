// The smallest embedding: spawn the resource actors into your own actor
// system, send a few lifecycle events, print the verdicts and the dump.
#include <iostream>

#include <caf/all.hpp>

#include "actors/runtime.hpp"
#include "messages/config_json.hpp"
#include "messages/json.hpp"

using namespace rcmgr;

int main() {
  caf::actor_system_config cfg;
  use_node_scheduler(cfg); // idle workers sleep instead of polling (docs/node.md)
  caf::actor_system sys{cfg};

  // Limits as a node would configure them (the DESIGN §5 JSON document).
  auto config = parse_config_text(R"({
    "connection_limits": {"max_pending_inbound": 2, "max_established_per_peer": 1}
  })");
  if (!config) {
    std::cerr << "bad config: " << config.error().text() << "\n";
    return 1;
  }
  runtime rt{sys, *config};
  auto& h = rt.handles();

  // A blocking helper for this example; an actor would use request().then().
  caf::scoped_actor self{sys};
  auto show = [&](const char* what, auto event) {
    self->request(h.gate, caf::infinite, event)
        .receive(
            [&](const verdict& v) { std::cout << what << " -> " << to_json(v) << "\n"; },
            [&](const caf::error& e) {
              std::cout << what << " failed: " << to_string(e) << "\n";
            });
  };
  show("pending_inbound 1",
       pending_inbound{1, "/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.7/tcp/5000"});
  show("pending_inbound 2",
       pending_inbound{2, "/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.8/tcp/5000"});
  show("pending_inbound 3",
       pending_inbound{3, "/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.9/tcp/5000"});
  show("established_inbound 1 (QmA)", established_inbound{1, "QmA", "", ""});
  show("established_inbound 2 (QmA)", established_inbound{2, "QmA", "", ""});
  show("connection_closed 1", connection_closed{1, "QmA", "done"});

  self->request(h.dump, caf::infinite, dump_atom::value)
      .receive(
          [&](const std::string& doc) {
            std::cout << nlohmann::json::parse(doc).dump(2) << "\n";
          },
          [&](const caf::error& e) {
            std::cout << "dump failed: " << to_string(e) << "\n";
          });
  rt.shutdown(); // the actor system's destructor returns once they are gone
}
