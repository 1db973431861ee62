// An anomaly report crosses the middleman by its kind's name: a known name
// reads back as its kind, an unknown one is counted as unknown_anomaly.
#include "actor_fixture.hpp"

#include "actors/gate/gate_actor.hpp"

using namespace rcmgr;
using namespace rcmgr::test;

namespace {

/// What a sender whose vocabulary differs puts on the wire: the same form,
/// with a name of its own.
struct foreign_report {
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, foreign_report& x) {
  return f(caf::meta::type_name("anomaly_report"), x.name);
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture,
                  "an anomaly report survives CAF's binary serialization") {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(anomaly_report{anomaly::handshake_timeout}));
  anomaly_report back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE(!source(back));
  CHECK(back.kind == anomaly::handshake_timeout);
  // Its wire form is the name.
  foreign_report as_text;
  caf::binary_deserializer text_source{sys, buf};
  REQUIRE(!text_source(as_text));
  CHECK(as_text.name == "handshake_timeout");
}

TEST_CASE_FIXTURE(actor_fixture,
                  "a report naming a kind this build does not know is counted as such") {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(foreign_report{"from_a_newer_node"}));
  anomaly_report back{anomaly::bad_frame};
  caf::binary_deserializer source{sys, buf};
  REQUIRE(!source(back));
  CHECK(back.kind == anomaly::unknown_anomaly);
  auto gate = spawn_gate(sys, node_config{});
  caf::anon_send(gate, back);
  caf::anon_send(gate, anomaly_report{anomaly::bad_frame});
  caf::anon_send(gate, anomaly_report{anomaly::bad_frame});
  auto part = nlohmann::json::parse(ask<std::string>(gate, dump_part_atom::value));
  CHECK(part["anomalies"] == nlohmann::json{{"bad_frame", 2}, {"unknown_anomaly", 1}});
  stop(gate);
}
