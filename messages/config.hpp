// The config structs of DESIGN §5. Parsing and validation: config_json.hpp.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/config_basics.hpp"
#include "messages/ids.hpp"
#include "messages/ip_config.hpp"
#include "messages/scope_config.hpp"

namespace rcmgr {

struct connection_limits_config {
  std::uint64_t max_pending_inbound = no_limit;
  std::uint64_t max_pending_outbound = no_limit;
  std::uint64_t max_established_inbound = no_limit;
  std::uint64_t max_established_outbound = no_limit;
  std::uint64_t max_established_per_peer = no_limit;
  std::uint64_t max_established_total = no_limit;
  friend bool operator==(const connection_limits_config& a,
                         const connection_limits_config& b) {
    return a.max_pending_inbound == b.max_pending_inbound &&
           a.max_pending_outbound == b.max_pending_outbound &&
           a.max_established_inbound == b.max_established_inbound &&
           a.max_established_outbound == b.max_established_outbound &&
           a.max_established_per_peer == b.max_established_per_peer &&
           a.max_established_total == b.max_established_total;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_limits_config& x) {
  return f(caf::meta::type_name("connection_limits_config"), x.max_pending_inbound,
           x.max_pending_outbound, x.max_established_inbound, x.max_established_outbound,
           x.max_established_per_peer, x.max_established_total);
}

enum class stale_policy : std::uint8_t { fail_open, fail_closed };
std::string to_string(stale_policy x);

struct memory_config {
  std::uint64_t max_bytes = no_limit;
  /// In (0, 1]; 0 means "not set".
  double max_fraction = 0;
  std::uint64_t sample_interval_ms = 100;
  stale_policy stale = stale_policy::fail_open;
  /// In (0, 1]; 0 means hysteresis is off.
  double resume_below_fraction = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_config& x) {
  return f(caf::meta::type_name("memory_config"), x.max_bytes, x.max_fraction,
           x.sample_interval_ms, x.stale, x.resume_below_fraction);
}

struct protocol_rate_config {
  protocol_id protocol; // "*" is the default for protocols not named
  bucket_config total;
  bucket_config per_peer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, protocol_rate_config& x) {
  return f(caf::meta::type_name("protocol_rate_config"), x.protocol, x.total, x.per_peer);
}

struct rate_limits_config {
  std::vector<protocol_rate_config> protocols;
  /// Hard cap on live per-peer buckets (all protocols together).
  std::uint64_t max_tracked_peers = 100000;
  /// Dry run: a message the buckets refuse is allowed with `would_deny`
  /// (set from the config's "dry_run"; not a key of "rate_limits").
  bool dry_run = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rate_limits_config& x) {
  return f(caf::meta::type_name("rate_limits_config"), x.protocols, x.max_tracked_peers,
           x.dry_run);
}

struct watcher_config {
  std::uint64_t refresh_interval_ms = 1000;
  std::uint64_t idle_timeout_ms = 60000;
  std::uint64_t max_lifetime_ms = 0;            // 0 = no maximum
  std::uint64_t peer_bandwidth_bytes_per_s = 0; // 0 = no budget
  std::uint64_t misbehaviour_threshold = 0;     // 0 = never block
  std::uint64_t cooldown_ms = 60000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watcher_config& x) {
  return f(caf::meta::type_name("watcher_config"), x.refresh_interval_ms,
           x.idle_timeout_ms, x.max_lifetime_ms, x.peer_bandwidth_bytes_per_s,
           x.misbehaviour_threshold, x.cooldown_ms);
}

/// The rule families a dry run can name (DESIGN §6.3), as bits of
/// `node_config::dry_run`.
enum class rule_family : std::uint8_t {
  connection_limits,
  memory,
  scopes,
  ip_limits,
  attempt_rates,
  rate_limits,
  blocked,
};
inline constexpr std::size_t rule_family_count = 7;
inline constexpr std::uint8_t all_rule_families = (1u << rule_family_count) - 1;
inline constexpr std::uint8_t family_bit(rule_family f) {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(f));
}
/// "connection_limits", "memory", ...
const char* to_string(rule_family f);

/// The whole config in force. An update replaces all of it.
struct node_config {
  connection_limits_config connection_limits;
  std::vector<peer_id> bypass_peers;
  memory_config memory;
  rate_limits_config rate_limits;
  watcher_config watcher;
  /// "scopes" (DESIGN §6.1): the go-libp2p limit document, when has_scopes;
  /// without it there are no scope limits.
  bool has_scopes = false;
  scope_limit_document scopes;
  /// "scopes_scale": what go's defaults are scaled by.
  scopes_scale_config scopes_scale;
  /// "ip_limits", "attempt_rates", "allowlist" (DESIGN §6.2).
  ip_limits_config ip_limits;
  attempt_rates_config attempt_rates;
  std::vector<std::string> allowlist;
  /// "dry_run" (DESIGN §6.3): the families whose rules do not deny, as
  /// family_bit()s; 0 = every rule enforced. (The rate limiter reads its
  /// bit from rate_limits.dry_run, which parsing sets to match.)
  std::uint8_t dry_run = 0;

  bool dry(rule_family f) const { return (dry_run & family_bit(f)) != 0; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_config& x) {
  return f(caf::meta::type_name("node_config"), x.connection_limits, x.bypass_peers,
           x.memory, x.rate_limits, x.watcher, x.has_scopes, x.scopes, x.scopes_scale,
           x.ip_limits, x.attempt_rates, x.allowlist, x.dry_run);
}

} // namespace rcmgr
