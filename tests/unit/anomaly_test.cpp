// The anomaly vocabulary: one name per kind, counted without strings.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "messages/anomaly.hpp"

using namespace rcmgr;

TEST_CASE("every kind has its own name, and the name reads back as the kind") {
  for (std::size_t i = 0; i < anomaly_count; ++i) {
    auto kind = static_cast<anomaly>(i);
    CHECK(anomaly_from_name(name_of(kind)) == kind);
    for (std::size_t j = 0; j < i; ++j)
      CHECK(name_of(static_cast<anomaly>(j)) != name_of(kind));
  }
  CHECK(name_of(anomaly::unknown_connection) == "unknown_connection");
  CHECK(name_of(anomaly::bad_batch_entry) == "bad_batch_entry");
  CHECK(name_of(anomaly::watch_unknown_traffic) == "watch_unknown_traffic");
  CHECK(to_string(anomaly::rate_limiter_unreachable) == "rate_limiter_unreachable");
}

TEST_CASE("a name not in the table, or a value outside the enum, is unknown_anomaly") {
  CHECK(anomaly_from_name("made_up") == anomaly::unknown_anomaly);
  CHECK(anomaly_from_name("") == anomaly::unknown_anomaly);
  CHECK(anomaly_from_name(std::string_view{"bad_frame\0x", 11}) ==
        anomaly::unknown_anomaly);
  auto outside = static_cast<anomaly>(200);
  CHECK(name_of(outside) == "unknown_anomaly");
  anomaly_counts c;
  c.add(outside);
  CHECK(c[anomaly::unknown_anomaly] == 1);
}

TEST_CASE("anomaly_counts: add, sum, compare, and the dump's object") {
  anomaly_counts a;
  CHECK(a.empty());
  CHECK(to_json(a) == nlohmann::json::object());
  a.add(anomaly::unknown_connection);
  a.add(anomaly::unknown_connection);
  a.add(anomaly::bad_frame, 5);
  CHECK_FALSE(a.empty());
  CHECK(a[anomaly::unknown_connection] == 2);
  CHECK(a[anomaly::bad_frame] == 5);
  CHECK(a[anomaly::peer_mismatch] == 0);
  anomaly_counts b{{anomaly::unknown_connection, 1}, {anomaly::peer_mismatch, 3}};
  a.add(b);
  CHECK(a == anomaly_counts{{anomaly::unknown_connection, 3},
                            {anomaly::bad_frame, 5},
                            {anomaly::peer_mismatch, 3}});
  CHECK(a != b);
  // Only kinds counted appear, by name.
  CHECK(to_json(a).dump() ==
        R"({"bad_frame":5,"peer_mismatch":3,"unknown_connection":3})");
}
