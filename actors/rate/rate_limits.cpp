#include "actors/rate/rate_limits.hpp"

#include "actors/support/token_bucket.hpp"
#include "messages/config_json.hpp"
#include "messages/time.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace rcmgr {

namespace {

/// Picotokens per token.
constexpr std::uint64_t pico = 1'000'000'000'000ULL;
/// The bounds of the JSON parser; the constructor clamps to them.
constexpr double max_rate_per_s = 1e9;
constexpr std::uint64_t max_burst = 1'000'000ULL;

using token_bucket::ceil_div;

/// now + ns, saturating (a full-at time far in the future stays in order).
time_ns add_ns(time_ns now, std::uint64_t ns) {
  constexpr auto max = std::numeric_limits<time_ns>::max();
  if (now >= 0 && ns > static_cast<std::uint64_t>(max - now))
    return max;
  return static_cast<time_ns>(static_cast<std::uint64_t>(now) + ns);
}

/// Nanoseconds until a bucket holding `tokens` picotokens has `target`.
std::uint64_t ns_until(const bucket_params& p, std::uint64_t tokens,
                       std::uint64_t target) {
  return token_bucket::ns_until(p.rate_mtps, tokens, target);
}

/// The picotokens in `b` at `now` (exact: elapsed_ns * rate_mtps is the
/// refill in picotokens; the capacity is at most 1e18).
std::uint64_t tokens_at(const bucket_table::bucket& b, const bucket_params& p,
                        time_ns now) {
  if (now <= b.last)
    return b.tokens; // no refill for a clock that did not move forward
  auto elapsed = static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(b.last);
  return token_bucket::refill(p.rate_mtps, p.capacity, b.tokens, elapsed);
}

/// Writes the per-peer bucket key into `key`, reusing its storage.
void write_peer_key(std::string& key, std::string_view protocol, std::string_view peer) {
  // Length-prefixed, so no (protocol, peer) pair can collide with another.
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), protocol.size()).ptr;
  *end++ = ':';
  key.assign(digits, end);
  key += protocol;
  key += peer;
}

bool same_bucket(const bucket_config& a, const bucket_config& b) {
  return a.rate_per_s == b.rate_per_s && a.burst == b.burst;
}

bool same_config(const rate_limits_config& a, const rate_limits_config& b) {
  if (a.max_tracked_peers != b.max_tracked_peers ||
      a.protocols.size() != b.protocols.size())
    return false;
  for (std::size_t i = 0; i < a.protocols.size(); ++i) {
    auto& x = a.protocols[i];
    auto& y = b.protocols[i];
    if (x.protocol != y.protocol || !same_bucket(x.total, y.total) ||
        !same_bucket(x.per_peer, y.per_peer))
      return false;
  }
  return true;
}

std::string check_bucket(const bucket_config& b, const std::string& path) {
  if (!b.present())
    return {};
  if (!(b.rate_per_s > 0))
    return path + "/rate_per_s: must be greater than 0";
  if (b.rate_per_s > max_rate_per_s)
    return path + "/rate_per_s: must be at most 1e9";
  if (b.burst > max_burst)
    return path + "/burst: must be at most 1000000";
  return {};
}

denial rate_denial(const protocol_message& msg, rate_scope scope) {
  denial d;
  d.code = denial_code::rate_limit;
  d.conn = msg.conn;
  d.peer = msg.peer;
  d.protocol = msg.protocol;
  d.scope = scope;
  return d;
}

} // namespace

// -- bucket_params ------------------------------------------------------------

bucket_params bucket_params::from(const bucket_config& cfg) {
  bucket_params p;
  if (!cfg.present())
    return p;
  p.burst = std::min(cfg.burst, max_burst);
  p.capacity = p.burst * pico;
  // NaN and anything <= 0 fail `rate > 0`: the slowest rate, 0.001 token/s.
  double rate = cfg.rate_per_s > 0 ? std::min(cfg.rate_per_s, max_rate_per_s) : 0.0;
  auto mtps = static_cast<std::uint64_t>(std::llround(rate * 1000.0));
  p.rate_mtps = std::max<std::uint64_t>(mtps, 1);
  return p;
}

// -- bucket_table -------------------------------------------------------------

const bucket_table::bucket* bucket_table::find(const std::string& key) const {
  auto i = map_.find(key);
  return i == map_.end() ? nullptr : &i->second;
}

void bucket_table::put(const std::string& key, std::uint32_t rule, const bucket_params& p,
                       std::uint64_t tokens, time_ns now) {
  auto [i, created] = map_.try_emplace(key);
  auto& b = i->second;
  // A bucket already filed moves in the index with its own node: no
  // allocation per message.
  decltype(index_)::node_type filed;
  if (!created)
    filed = index_.extract(index_key{b.full_at, b.seq});
  b.tokens = tokens;
  b.last = now;
  b.rule = rule;
  b.seq = next_seq_++;
  b.full_at = add_ns(now, ns_until(p, tokens, p.capacity));
  if (filed) {
    filed.key() = index_key{b.full_at, b.seq};
    index_.insert(std::move(filed));
  } else {
    index_.emplace(index_key{b.full_at, b.seq}, &*i);
  }
}

std::uint32_t bucket_table::erase_first() {
  auto first = index_.begin();
  auto* node = first->second;
  auto rule = node->second.rule;
  index_.erase(first);
  map_.erase(map_.find(node->first));
  return rule;
}

void bucket_table::clear() {
  index_.clear();
  map_.clear();
  next_seq_ = 0;
}

// -- rate_limits ----------------------------------------------------------------

rate_limits::rate_limits(const rate_limits_config& cfg) {
  reset(cfg);
}

std::string rate_limits::validate(const rate_limits_config& cfg) {
  if (cfg.max_tracked_peers == 0)
    return "/rate_limits/max_tracked_peers: must be at least 1";
  for (auto& rule : cfg.protocols) {
    if (rule.protocol.empty())
      return "/rate_limits: a protocol name must not be empty";
    auto path = "/rate_limits" + json_pointer_step(rule.protocol);
    if (auto err = check_bucket(rule.total, path + "/total"); !err.empty())
      return err;
    if (auto err = check_bucket(rule.per_peer, path + "/per_peer"); !err.empty())
      return err;
  }
  return {};
}

bool rate_limits::configure(const rate_limits_config& cfg) {
  if (same_config(cfg, cfg_)) {
    cfg_.dry_run = cfg.dry_run; // a dry run alone changes no bucket
    return false;
  }
  reset(cfg);
  return true;
}

void rate_limits::reset(const rate_limits_config& cfg) {
  cfg_ = cfg;
  if (cfg_.max_tracked_peers == 0)
    cfg_.max_tracked_peers = 1;
  rules_.clear();
  by_name_.clear();
  default_rule_.reset();
  for (auto& x : cfg.protocols) {
    rule r{x.protocol, bucket_params::from(x.total), bucket_params::from(x.per_peer), {}};
    auto [i, added] =
        by_name_.emplace(x.protocol, static_cast<std::uint32_t>(rules_.size()));
    if (added)
      rules_.push_back(std::move(r));
    else
      rules_[i->second] = std::move(r); // named twice: the last entry wins
  }
  if (auto i = by_name_.find("*"); i != by_name_.end())
    default_rule_ = i->second;
  named_totals_.clear();
  default_totals_.clear();
  per_peer_.clear();
  evictions_ = 0;
  unlimited_allowed_ = 0;
}

void rate_limits::on_dropped(std::uint32_t rule_index) {
  --rules_[rule_index].stats.live_buckets;
}

void rate_limits::on_evicted(std::uint32_t rule_index) {
  on_dropped(rule_index);
  ++rules_[rule_index].stats.evictions;
  ++evictions_;
}

time_ns rate_limits::advance_to(time_ns now) {
  latest_ = std::max(latest_, now);
  return latest_;
}

void rate_limits::expire(time_ns now) {
  now = advance_to(now);
  auto drop = [this](std::uint32_t r) { on_dropped(r); };
  named_totals_.drop_full(now, drop);
  default_totals_.drop_full(now, drop);
  per_peer_.drop_full(now, drop);
}

verdict rate_limits::check(const protocol_message& msg, time_ns now) {
  now = advance_to(now);
  expire(now);
  // -- which rule ---------------------------------------------------------------
  std::uint32_t index;
  bool under_default = false; // a protocol not named, under "*"
  // The message's texts are inline: the lookups go through reused strings.
  protocol_key_ = msg.protocol.view();
  if (auto i = by_name_.find(protocol_key_); i != by_name_.end()) {
    index = i->second;
  } else if (default_rule_) {
    index = *default_rule_;
    under_default = true;
  } else {
    ++unlimited_allowed_;
    return verdict::allow();
  }
  auto& r = rules_[index];
  if (!r.total.present() && !r.per_peer.present()) {
    ++r.stats.allowed;
    return verdict::allow();
  }
  auto deny = [&](rate_scope scope, denial d) {
    if (cfg_.dry_run) { // allowed; it takes no token, as a denied one takes none
      ++(scope == rate_scope::total ? r.stats.would_deny_total
                                    : r.stats.would_deny_per_peer);
      return verdict::allow_but(std::move(d));
    }
    ++(scope == rate_scope::total ? r.stats.denied_total : r.stats.denied_per_peer);
    if (!d.exceeds_burst)
      r.stats.retry_after.add(d.retry_after_ms);
    return verdict::deny(std::move(d));
  };
  const std::uint64_t cost = std::max<std::uint64_t>(msg.cost, 1);
  // -- a cost that can never fit --------------------------------------------------
  const bool total_too_big = r.total.present() && cost > r.total.burst;
  const bool peer_too_big = r.per_peer.present() && cost > r.per_peer.burst;
  if (total_too_big || peer_too_big) {
    auto scope = rate_scope::total;
    if (!total_too_big || (peer_too_big && r.per_peer.burst < r.total.burst))
      scope = rate_scope::per_peer;
    auto d = rate_denial(msg, scope);
    d.exceeds_burst = true;
    d.cost = cost;
    d.burst = scope == rate_scope::total ? r.total.burst : r.per_peer.burst;
    return deny(scope, std::move(d));
  }
  // -- the tokens in both buckets now (an absent bucket is full) -------------------
  // cost <= burst <= 1e6 here, so cost in picotokens fits easily.
  const std::uint64_t cost_ps = cost * pico;
  auto& totals = under_default ? default_totals_ : named_totals_;
  std::uint64_t total_tokens = 0;
  if (r.total.present()) {
    auto b = totals.find(protocol_key_);
    total_tokens = b ? tokens_at(*b, r.total, now) : r.total.capacity;
  }
  std::uint64_t peer_tokens = 0;
  const bucket_table::bucket* peer_bucket = nullptr;
  if (r.per_peer.present()) {
    write_peer_key(peer_key_, msg.protocol, msg.peer);
    peer_bucket = per_peer_.find(peer_key_);
    peer_tokens =
        peer_bucket ? tokens_at(*peer_bucket, r.per_peer, now) : r.per_peer.capacity;
  }
  // -- not enough tokens: deny, nothing changes --------------------------------------
  const std::uint64_t total_wait =
      r.total.present() ? ns_until(r.total, total_tokens, cost_ps) : 0;
  const std::uint64_t peer_wait =
      r.per_peer.present() ? ns_until(r.per_peer, peer_tokens, cost_ps) : 0;
  if (total_wait > 0 || peer_wait > 0) {
    auto scope = peer_wait > total_wait ? rate_scope::per_peer : rate_scope::total;
    auto d = rate_denial(msg, scope);
    d.retry_after_ms = ceil_div(std::max(total_wait, peer_wait), ns_per_ms);
    return deny(scope, std::move(d));
  }
  // -- both allow: take from both ------------------------------------------------------
  if (r.total.present()) {
    if (!totals.find(protocol_key_)) {
      if (under_default && totals.size() >= cfg_.max_tracked_peers)
        on_evicted(totals.evict_first());
      ++r.stats.live_buckets;
    }
    totals.put(protocol_key_, index, r.total, total_tokens - cost_ps, now);
  }
  if (r.per_peer.present()) {
    if (!peer_bucket) {
      if (per_peer_.size() >= cfg_.max_tracked_peers)
        on_evicted(per_peer_.evict_first());
      ++r.stats.live_buckets;
    }
    per_peer_.put(peer_key_, index, r.per_peer, peer_tokens - cost_ps, now);
  }
  ++r.stats.allowed;
  return verdict::allow();
}

std::vector<verdict> rate_limits::check_batch(const std::vector<protocol_message>& msgs,
                                              time_ns now) {
  std::vector<verdict> out;
  out.reserve(msgs.size());
  for (auto& msg : msgs)
    out.push_back(check(msg, now));
  return out;
}

const rate_limits::rule_stats* rate_limits::stats(const protocol_id& name) const {
  auto i = by_name_.find(name);
  return i == by_name_.end() ? nullptr : &rules_[i->second].stats;
}

rate_limits_stats rate_limits::stats_at(time_ns now) {
  now = advance_to(now);
  expire(now);
  rate_limits_stats s;
  s.protocols.reserve(rules_.size());
  for (auto& r : rules_)
    s.protocols.emplace_back(r.name, r.stats);
  s.live_peer_buckets = per_peer_.size();
  s.live_total_buckets = live_total_buckets();
  s.max_tracked_peers = cfg_.max_tracked_peers;
  s.evictions = evictions_;
  s.unlimited_allowed = unlimited_allowed_;
  return s;
}

} // namespace rcmgr
