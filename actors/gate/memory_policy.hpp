// The gate's memory rule (DESIGN §4): plain C++, no CAF, time as a parameter.
//
// Deny when the process's resident bytes are strictly greater than the
// effective maximum: the smallest of `max_bytes`, `max_fraction` x total and
// the cgroup limit when there is one. The rule is active only when
// `max_bytes` or `max_fraction` is configured; the cgroup limit alone never
// turns it on (a node without memory config never denies for memory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// The memory rule's state at one time (the dump's `memory` part).
struct memory_stats {
  bool active = false;
  stale_policy on_stale = stale_policy::fail_open;
  std::uint64_t sample_interval_ms = 0;
  std::optional<memory_sample> last_sample;
  time_ns age_ms = 0; // of the last sample
  bool stale = false; // active, and the sample is stale
  std::uint64_t effective_max_bytes = no_limit;
  std::string max_source;
  std::optional<double> pressure; // rss / effective maximum
  double resume_below_fraction = 0;
  bool hysteresis_active = false;
  std::uint64_t denials = 0;
  std::uint64_t stale_admits = 0;
  std::uint64_t stale_denials = 0;
  std::uint64_t would_denials = 0;
};

class memory_policy {
public:
  void configure(const memory_config& cfg);
  const memory_config& config() const { return cfg_; }

  void on_sample(const memory_sample& sample);

  /// Decides one pending connection at time `now`: nullopt admits. In a
  /// dry run a refusal is counted in would_denials() instead of denials().
  std::optional<denial> check(connection_id conn, time_ns now, bool dry_run = false);

  bool active() const { return cfg_.max_bytes != no_limit || cfg_.max_fraction > 0; }
  /// The effective maximum for the last sample (no_limit when inactive).
  std::uint64_t effective_max() const;
  /// "max_bytes", "max_fraction", "cgroup" or "none".
  std::string max_source() const;
  /// A sample is stale when none came for more than 3 intervals.
  bool stale(time_ns now) const;
  bool tripped() const { return tripped_; }

  std::uint64_t denials() const { return denials_; }
  std::uint64_t stale_admits() const { return stale_admits_; }
  /// Denials because the sample was stale under fail_closed (also counted
  /// in denials()).
  std::uint64_t stale_denials() const { return stale_denials_; }
  std::uint64_t would_denials() const { return would_denials_; }

  /// The state at `now`, for the dump.
  memory_stats stats(time_ns now) const;

private:
  memory_config cfg_;
  std::optional<memory_sample> last_;
  bool tripped_ = false; // hysteresis: denying until usage falls below the mark
  std::uint64_t denials_ = 0;
  std::uint64_t stale_admits_ = 0;
  std::uint64_t stale_denials_ = 0;
  std::uint64_t would_denials_ = 0;
};

} // namespace rcmgr
