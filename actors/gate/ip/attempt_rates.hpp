// Connection-attempt rates (DESIGN §6.2), as go-libp2p's connection rate
// limiter: token buckets on attempts, one per network prefix, one per subnet
// of each configured prefix length, and one global. Time is a parameter.
//
// Order, as go: the network prefixes that contain the IP, most specific
// first; the first one decides alone (an exempt one allows). Otherwise the
// subnet buckets of the IP's family, most specific first, then the global
// bucket. A bucket that allowed keeps its token even when a later one
// refuses (go's buckets have no way to give a token back); a refusal names
// the bucket's prefix ("global" for the global one) and the time until it
// holds a token again, rounded up to the millisecond.
//
// Bounded state: a bucket that has refilled to full is the same as none, so
// it is dropped (at each call, in the order they fill up); subnet buckets
// never exceed `max_buckets`: at the cap a new one evicts the bucket closest
// to full. A config update that changes the rates starts every bucket full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/rate/rate_limits.hpp"
#include "messages/ip_address.hpp"
#include "messages/ip_config.hpp"
#include "messages/time.hpp"

namespace rcmgr {

struct attempt_refusal {
  std::string prefix;
  std::uint64_t retry_after_ms = 0;
};

class attempt_rates {
public:
  /// The default cap on live subnet buckets.
  static constexpr std::size_t default_max_buckets = 262144;

  explicit attempt_rates(const attempt_rates_config& cfg = {},
                         std::size_t max_buckets = default_max_buckets);

  /// Replaces the rules; when they differ from those in force every bucket
  /// starts full again.
  void configure(const attempt_rates_config& cfg);

  /// One attempt from `ip` at `now`: nothing, or the bucket that refused.
  /// In a dry run the refusal is counted in would_denied(), not denied(),
  /// and the attempt takes from every other bucket as if allowed.
  std::optional<attempt_refusal> attempt(const ip_address& ip, time_ns now,
                                         bool dry_run = false);

  /// Drops the buckets full at `now`.
  void expire(time_ns now);

  std::size_t live_buckets() const;
  std::size_t live_subnet_buckets() const { return subnet_buckets_.size(); }
  std::size_t max_buckets() const { return max_buckets_; }
  std::uint64_t evictions() const { return evictions_; }
  std::uint64_t allowed() const { return allowed_; }
  std::uint64_t denied() const { return denied_; }
  std::uint64_t would_denied() const { return would_denied_; }
  /// Denials by rule: a network prefix ("10.0.0.0/8"), a subnet length
  /// ("ipv4/32", "ipv6/56") or "global", in config order.
  std::vector<std::pair<std::string, std::uint64_t>> denials_by_rule() const;

private:
  /// One bucket: picotokens at `last`, and when it is full again.
  struct bucket {
    std::uint64_t tokens = 0;
    time_ns last = 0;
    time_ns full_at = 0;
  };
  struct prefix_rule {
    ip_prefix prefix;
    std::string text;
    bucket_params params;
    bool exempt = false;
    std::uint64_t denied = 0;
    bucket b;
    bool live = false; // false: full (b unused)
  };
  struct subnet_rule {
    unsigned length = 0;
    bool v6 = false;
    bucket_params params;
    std::uint64_t denied = 0;
  };
  /// A subnet bucket's key: its rule and its subnet.
  struct subnet_key {
    std::uint32_t rule = 0;
    ip_address base;
    friend bool operator==(const subnet_key& a, const subnet_key& b) {
      return a.rule == b.rule && a.base == b.base;
    }
  };
  struct subnet_key_hash {
    std::size_t operator()(const subnet_key& k) const {
      return ip_address_hash{}(k.base) ^ (std::size_t{k.rule} * 0x9E3779B97F4A7C15ull);
    }
  };
  /// The expiry order: a min-heap of (full-at time, key), filed when a
  /// bucket is made and not moved when it is used. A bucket's full-at time
  /// only grows as it is used, so its entry is never later than it: the
  /// earliest entry is checked against its bucket and filed again when it
  /// is early. Each live bucket has exactly one entry.
  struct expiry {
    time_ns full_at;
    subnet_key key;
    friend bool operator>(const expiry& a, const expiry& b) {
      if (a.full_at != b.full_at)
        return a.full_at > b.full_at;
      if (a.key.rule != b.key.rule)
        return a.key.rule > b.key.rule;
      return b.key.base < a.key.base;
    }
  };

  /// Takes a token from `b` (whose level is `tokens` at `now`); else the
  /// nanoseconds until it has one.
  static std::optional<std::uint64_t> take(bucket& b, std::uint64_t tokens,
                                           const bucket_params& p, time_ns now);
  /// The level of `b` at `now`.
  static std::uint64_t level(const bucket& b, const bucket_params& p, time_ns now);
  /// Removes the subnet bucket whose full-at time is the earliest (after
  /// filing early entries again); `only_if_full_by`: only when it is full
  /// by then. Returns whether one was removed.
  bool pop_earliest(const time_ns* only_if_full_by);
  void reset();

  attempt_rates_config cfg_;
  std::vector<prefix_rule> prefixes_;
  std::vector<subnet_rule> subnets_;
  bucket_params global_;
  bucket global_bucket_;
  bool global_live_ = false;
  std::unordered_map<subnet_key, bucket, subnet_key_hash> subnet_buckets_;
  std::vector<expiry> expiries_; // a heap (std::push_heap, greater)
  std::size_t max_buckets_;
  std::uint64_t evictions_ = 0;
  std::uint64_t allowed_ = 0;
  std::uint64_t denied_ = 0;
  std::uint64_t would_denied_ = 0;
  std::uint64_t global_denied_ = 0;
  time_ns latest_ = 0;
};

} // namespace rcmgr
