// Bad input, by kind: the one vocabulary for what the dump counts under
// `anomalies`. Each kind has one name (the dump's key); a name this build
// does not know (from a remote sender) reads as `unknown_anomaly`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

namespace rcmgr {

enum class anomaly : std::uint8_t {
  // lifecycle events the gate's connection limits could not apply
  unknown_connection,
  duplicate_connection,
  failure_wrong_state,
  peer_mismatch,
  bad_input,
  // a batch event whose references fall outside the batch
  bad_batch_entry,
  // reported to the gate from outside the actors: a replay line, the net layer
  bad_replay_line,
  bad_frame,
  oversized_frame,
  handshake_timeout,
  handler_error,
  unknown_protocol,
  gate_unreachable,
  rate_limiter_unreachable,
  rate_limiter_error,
  unsolicited_reject,
  // the socket watcher's inputs from the net layer
  watch_duplicate,
  watch_unknown_unwatch,
  watch_unknown_traffic,
  // stream and memory events the resource scopes could not apply
  duplicate_stream,
  unknown_stream,
  missing_peer,
  missing_protocol,
  missing_service,
  service_before_protocol,
  stream_protocol_twice,
  stream_service_twice,
  unknown_scope,
  over_release,
  // an anomaly report naming a kind this build does not know
  unknown_anomaly,
};

constexpr std::size_t anomaly_count =
    static_cast<std::size_t>(anomaly::unknown_anomaly) + 1;

/// The kind's name, as the dump shows it.
std::string_view name_of(anomaly x);
std::string to_string(anomaly x);
/// The kind named `name`; `unknown_anomaly` for a name not in the table.
anomaly anomaly_from_name(std::string_view name);

/// A counter per kind: no strings, no lookups.
class anomaly_counts {
public:
  anomaly_counts() = default;
  anomaly_counts(std::initializer_list<std::pair<anomaly, std::uint64_t>> xs) {
    for (auto& [kind, n] : xs)
      add(kind, n);
  }

  void add(anomaly kind, std::uint64_t n = 1) { counts_[index(kind)] += n; }
  void add(const anomaly_counts& other) {
    for (std::size_t i = 0; i < anomaly_count; ++i)
      counts_[i] += other.counts_[i];
  }
  std::uint64_t operator[](anomaly kind) const { return counts_[index(kind)]; }
  /// Whether no kind was counted.
  bool empty() const {
    for (auto n : counts_)
      if (n > 0)
        return false;
    return true;
  }

  /// Calls `f(anomaly, count)` for each kind counted at least once.
  template <class F> void for_each(F&& f) const {
    for (std::size_t i = 0; i < anomaly_count; ++i)
      if (counts_[i] > 0)
        f(static_cast<anomaly>(i), counts_[i]);
  }

  friend bool operator==(const anomaly_counts& a, const anomaly_counts& b) {
    return a.counts_ == b.counts_;
  }
  friend bool operator!=(const anomaly_counts& a, const anomaly_counts& b) {
    return !(a == b);
  }

private:
  /// A value outside the enum (a cast from a remote byte) counts as unknown.
  static std::size_t index(anomaly kind) {
    auto i = static_cast<std::size_t>(kind);
    return i < anomaly_count ? i : anomaly_count - 1;
  }

  std::array<std::uint64_t, anomaly_count> counts_{};
};

/// The dump's `anomalies` object: {name: count} for each kind counted.
nlohmann::json to_json(const anomaly_counts& x);

} // namespace rcmgr
