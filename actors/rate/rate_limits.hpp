// The rate-limits core (DESIGN §5 "Rate limits"): token buckets per protocol
// (`total`) and per (protocol, peer) (`per_peer`). Plain C++, no CAF, no
// clock: every call takes the current time as a parameter.
//
// Arithmetic is exact and integral. Tokens are held in units of 1e-12 token
// ("picotokens") and a rate in milli-tokens per second, so that
//     elapsed_ns * rate_mtps == refill in picotokens
// with no rounding at all. A rate is resolved to 0.001 token/s (rounded to
// the nearest multiple; anything in (0, 0.0005] counts as 0.001 token/s).
//
// Rules:
// - A protocol named in the config uses its rule; any other protocol uses the
//   "*" rule when there is one, and is unlimited (always allowed) otherwise.
//   A named protocol whose rule has neither bucket is unlimited, even when
//   there is a "*" rule.
// - `total` is one bucket per protocol (a protocol that falls under "*" gets
//   its own total bucket with the "*" parameters); `per_peer` is one bucket
//   per (protocol, peer).
// - A bucket starts full (`burst` tokens) and refills continuously at
//   `rate_per_s` up to `burst`. A message costs `cost` tokens (0 counts as 1).
// - A message must fit both of its buckets and takes from both only when
//   both allow. When one denies, the denial names it (scope). When both deny,
//   the denial names the one that takes longer to refill (the larger
//   retry_after: retrying earlier is useless); on a tie it names `total`.
// - cost > burst of a bucket: denied at once with exceeds_burst, cost and
//   burst; no bucket changes. If the cost exceeds both bursts, the denial
//   names the bucket with the smaller burst (`total` on a tie). exceeds_burst
//   is reported before any "not enough tokens yet" denial.
// - retry_after_ms = time until enough tokens are back in the bucket it
//   names, rounded up to the next millisecond (retrying at exactly that time
//   succeeds, barring other traffic).
//
// Bounded state:
// - A bucket that has refilled to full is indistinguishable from a new one,
//   so it is dropped (lazily: at the start of every call, in full-at order).
//   A denied message never creates a bucket.
// - Live per-peer buckets (all protocols together) never exceed
//   max_tracked_peers. When a new one is needed at the cap, the live bucket
//   closest to full (the earliest full-at time; on a tie the one least
//   recently touched) is evicted and counted. The total buckets of protocols
//   under "*" (whose names come from peers) are bounded the same way, by the
//   same number, separately. Total buckets of named protocols are never
//   evicted (there are only as many as the config names).
// - Every bucket is filed in an ordered index keyed by its full-at time, so
//   the lazy drop and the eviction are O(log n) each.
// - Counters exist only for the rules in the config (named protocols and
//   "*"); messages of unlimited unnamed protocols only bump one counter.
//
// Dry run (DESIGN §6.3, rate_limits_config::dry_run): a message a bucket
// refuses is allowed with `would_deny` (the denial it would have had) and
// counted apart; like a denied one it takes no token, so the would-denials
// are exactly the denials enforcing would make. Turning the dry run on or
// off alone resets nothing.
//
// Time: a `now` earlier than one already seen counts as the latest seen (the
// buckets never refill backwards).
//
// Config updates replace the rules. When the new rate-limits section differs
// from the one in force, every bucket is reset (all buckets start full again)
// and the counters restart from zero; an identical section changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// One token bucket's parameters in exact units.
struct bucket_params {
  std::uint64_t rate_mtps = 0; // milli-tokens per second, >= 1 when present
  std::uint64_t burst = 0;     // tokens; 0 = no such bucket
  std::uint64_t capacity = 0;  // burst in picotokens

  static bucket_params from(const bucket_config& cfg);
  bool present() const { return burst > 0; }
};

/// Buckets keyed by text, each filed in an index ordered by the time it is
/// full again. Used for total buckets and for per-peer buckets.
class bucket_table {
public:
  struct bucket {
    std::uint64_t tokens = 0; // picotokens at `last`
    time_ns last = 0;
    time_ns full_at = 0;
    std::uint64_t seq = 0;  // tie-break in the index: last touched
    std::uint32_t rule = 0; // the rule the bucket belongs to
  };

  /// The bucket for `key`, or nullptr (= full).
  const bucket* find(const std::string& key) const;

  /// Sets `key` to hold `tokens` picotokens at `now`; creates it if needed.
  void put(const std::string& key, std::uint32_t rule, const bucket_params& p,
           std::uint64_t tokens, time_ns now);

  /// Drops every bucket that is full at `now`; calls `on_drop(rule)` for each.
  template <class F> void drop_full(time_ns now, F on_drop) {
    while (!index_.empty() && index_.begin()->first.first <= now)
      on_drop(erase_first());
  }

  /// Evicts the bucket closest to full; returns its rule. Precondition: !empty().
  std::uint32_t evict_first() { return erase_first(); }

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  void clear();

private:
  using map_type = std::unordered_map<std::string, bucket>;
  using index_key = std::pair<time_ns, std::uint64_t>; // (full_at, seq)

  std::uint32_t erase_first();

  map_type map_;
  // Values point into map_'s nodes, which stay put across rehashing.
  std::map<index_key, map_type::value_type*> index_;
  std::uint64_t next_seq_ = 0;
};

/// The retry-after of a rule's enforced denials that can succeed later (not
/// the exceeds_burst ones, which never can), in ms: counts per bucket
/// (`counts[i]` holds the values in (bounds_ms[i-1], bounds_ms[i]], the
/// last those above every bound), their number and sum. Buckets from 1 ms to
/// a minute: a rate of 1000/s gives 1 ms, one of 1/min a minute.
struct retry_after_histogram {
  static constexpr std::uint64_t bounds_ms[] = {1,   5,    10,   50,    100,
                                                500, 1000, 5000, 10000, 60000};
  static constexpr std::size_t bucket_count = std::size(bounds_ms) + 1;
  std::uint64_t counts[bucket_count] = {};
  std::uint64_t count = 0;
  std::uint64_t sum_ms = 0; // saturates

  void add(std::uint64_t ms) {
    std::size_t i = 0;
    while (i < std::size(bounds_ms) && ms > bounds_ms[i])
      ++i;
    ++counts[i];
    ++count;
    sum_ms = ms > std::numeric_limits<std::uint64_t>::max() - sum_ms
                 ? std::numeric_limits<std::uint64_t>::max()
                 : sum_ms + ms;
  }
};

/// Per-rule counters, as in the dump.
struct rate_rule_stats {
  std::uint64_t allowed = 0;
  std::uint64_t denied_total = 0;
  std::uint64_t denied_per_peer = 0;
  std::uint64_t would_deny_total = 0; // dry run: allowed, would have been denied
  std::uint64_t would_deny_per_peer = 0;
  std::uint64_t live_buckets = 0; // total + per-peer buckets held now
  std::uint64_t evictions = 0;
  retry_after_histogram retry_after;
};

/// The rate limiter's state at one time (the dump's `rate_limits` part).
struct rate_limits_stats {
  /// Each rule's counters, by protocol ("*" for the default), in config order.
  std::vector<std::pair<protocol_id, rate_rule_stats>> protocols;
  std::size_t live_peer_buckets = 0;
  std::size_t live_total_buckets = 0;
  std::uint64_t max_tracked_peers = 0;
  std::uint64_t evictions = 0;
  std::uint64_t unlimited_allowed = 0;
};

class rate_limits {
public:
  using rule_stats = rate_rule_stats;

  explicit rate_limits(const rate_limits_config& cfg = {});

  /// Empty when `cfg` is acceptable, else what is wrong (the same bounds as
  /// the JSON parser: 0 < rate_per_s <= 1e9, burst <= 1000000, a cap >= 1,
  /// a non-empty protocol name). The constructor and configure() clamp what
  /// they are given instead; the actor rejects an invalid update with this.
  static std::string validate(const rate_limits_config& cfg);

  /// Replaces the rules. Returns true when they differ from the ones in
  /// force, in which case every bucket and counter is reset. When the config
  /// names a protocol twice, the last entry wins.
  bool configure(const rate_limits_config& cfg);
  const rate_limits_config& config() const { return cfg_; }

  /// Decides one message at `now`; takes its tokens on allow.
  verdict check(const protocol_message& msg, time_ns now);

  /// Decides messages in order, all at `now`; one verdict per message.
  std::vector<verdict> check_batch(const std::vector<protocol_message>& msgs,
                                   time_ns now);

  /// Drops every bucket that has refilled to full by `now`.
  void expire(time_ns now);

  /// The counters and bucket counts, after expire(now).
  rate_limits_stats stats_at(time_ns now);

  // -- queries (tests) ---------------------------------------------------------

  std::size_t live_peer_buckets() const { return per_peer_.size(); }
  std::size_t live_total_buckets() const {
    return named_totals_.size() + default_totals_.size();
  }
  std::uint64_t evictions() const { return evictions_; }
  std::uint64_t unlimited_allowed() const { return unlimited_allowed_; }
  /// Counters of the rule for `name` ("*" for the default); nullptr if none.
  const rule_stats* stats(const protocol_id& name) const;

private:
  struct rule {
    protocol_id name;
    bucket_params total;
    bucket_params per_peer;
    rule_stats stats;
  };

  /// The clock never goes back: an earlier time counts as the latest seen.
  time_ns advance_to(time_ns now);
  void reset(const rate_limits_config& cfg);
  void on_dropped(std::uint32_t rule_index);
  void on_evicted(std::uint32_t rule_index);

  rate_limits_config cfg_;
  std::vector<rule> rules_;
  std::unordered_map<protocol_id, std::uint32_t> by_name_;
  std::optional<std::uint32_t> default_rule_;
  bucket_table named_totals_;   // key: protocol; never evicted
  bucket_table default_totals_; // key: protocol under "*"; capped
  bucket_table per_peer_;       // key: length-prefixed (protocol, peer); capped
  std::uint64_t evictions_ = 0;
  std::uint64_t unlimited_allowed_ = 0;
  // The current check's keys, kept so that their storage is reused.
  std::string protocol_key_;
  std::string peer_key_;
  time_ns latest_ = std::numeric_limits<time_ns>::min();
};

} // namespace rcmgr
