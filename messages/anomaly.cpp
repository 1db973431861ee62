#include "messages/anomaly.hpp"

#include <nlohmann/json.hpp>

namespace rcmgr {

namespace {

/// The names, in the order of the enum.
constexpr std::array<std::string_view, anomaly_count> names{
    "unknown_connection",
    "duplicate_connection",
    "failure_wrong_state",
    "peer_mismatch",
    "bad_input",
    "bad_batch_entry",
    "bad_replay_line",
    "bad_frame",
    "oversized_frame",
    "handshake_timeout",
    "handler_error",
    "unknown_protocol",
    "gate_unreachable",
    "rate_limiter_unreachable",
    "rate_limiter_error",
    "unsolicited_reject",
    "watch_duplicate",
    "watch_unknown_unwatch",
    "watch_unknown_traffic",
    "duplicate_stream",
    "unknown_stream",
    "missing_peer",
    "missing_protocol",
    "missing_service",
    "service_before_protocol",
    "stream_protocol_twice",
    "stream_service_twice",
    "unknown_scope",
    "over_release",
    "unknown_anomaly",
};

} // namespace

std::string_view name_of(anomaly x) {
  auto i = static_cast<std::size_t>(x);
  return i < anomaly_count ? names[i] : names[anomaly_count - 1];
}

std::string to_string(anomaly x) {
  return std::string{name_of(x)};
}

anomaly anomaly_from_name(std::string_view name) {
  for (std::size_t i = 0; i < anomaly_count; ++i)
    if (names[i] == name)
      return static_cast<anomaly>(i);
  return anomaly::unknown_anomaly;
}

nlohmann::json to_json(const anomaly_counts& x) {
  nlohmann::json j = nlohmann::json::object();
  x.for_each([&](anomaly kind, std::uint64_t n) { j[std::string{name_of(kind)}] = n; });
  return j;
}

} // namespace rcmgr
