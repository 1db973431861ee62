#include "actors/gate/ip/attempt_rates.hpp"

#include <algorithm>
#include <functional>
#include <limits>

#include "actors/support/token_bucket.hpp"
#include "messages/time.hpp"

namespace rcmgr {

namespace {

/// Picotokens per token (the rate limiter's units: bucket_params).
constexpr std::uint64_t pico = 1'000'000'000'000ULL;

/// now + ns, saturating.
time_ns add_ns(time_ns now, std::uint64_t ns) {
  constexpr auto max = std::numeric_limits<time_ns>::max();
  if (now >= 0 && ns > static_cast<std::uint64_t>(max - now))
    return max;
  return static_cast<time_ns>(static_cast<std::uint64_t>(now) + ns);
}

} // namespace

attempt_rates::attempt_rates(const attempt_rates_config& cfg, std::size_t max_buckets)
    : max_buckets_(std::max<std::size_t>(max_buckets, 1)) {
  cfg_ = cfg;
  reset();
}

void attempt_rates::configure(const attempt_rates_config& cfg) {
  if (cfg == cfg_)
    return;
  cfg_ = cfg;
  reset();
}

void attempt_rates::reset() {
  prefixes_.clear();
  subnets_.clear();
  subnet_buckets_.clear();
  expiries_.clear();
  global_ = bucket_params::from(cfg_.global);
  global_live_ = false;
  global_denied_ = 0;
  for (auto& x : cfg_.network_prefix) {
    auto p = parse_cidr(x.prefix);
    if (!p)
      continue;
    prefix_rule r;
    r.prefix = *p;
    r.text = to_string(*p);
    r.params = bucket_params::from(x.bucket);
    r.exempt = x.exempt || !x.bucket.present();
    prefixes_.push_back(std::move(r));
  }
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const prefix_rule& a, const prefix_rule& b) {
                     return a.prefix.length > b.prefix.length;
                   });
  auto add = [this](const std::vector<ip_subnet_rate>& xs, bool v6) {
    auto first = subnets_.size();
    for (auto& x : xs) {
      if (x.prefix_length > (v6 ? 128u : 32u) || !x.bucket.present())
        continue;
      subnets_.push_back(subnet_rule{static_cast<unsigned>(x.prefix_length), v6,
                                     bucket_params::from(x.bucket), 0});
    }
    std::stable_sort(
        subnets_.begin() + static_cast<std::ptrdiff_t>(first), subnets_.end(),
        [](const subnet_rule& a, const subnet_rule& b) { return a.length > b.length; });
  };
  add(cfg_.subnet_v4, false);
  add(cfg_.subnet_v6, true);
}

std::size_t attempt_rates::live_buckets() const {
  std::size_t n = subnet_buckets_.size() + (global_live_ ? 1 : 0);
  for (auto& r : prefixes_)
    n += r.live ? 1 : 0;
  return n;
}

std::uint64_t attempt_rates::level(const bucket& b, const bucket_params& p, time_ns now) {
  if (now <= b.last)
    return b.tokens;
  return token_bucket::refill(p.rate_mtps, p.capacity, b.tokens,
                              static_cast<std::uint64_t>(now - b.last));
}

std::optional<std::uint64_t> attempt_rates::take(bucket& b, std::uint64_t tokens,
                                                 const bucket_params& p, time_ns now) {
  if (tokens < pico)
    return token_bucket::ns_until(p.rate_mtps, tokens, pico);
  b.tokens = tokens - pico;
  b.last = now;
  b.full_at = add_ns(now, token_bucket::ns_until(p.rate_mtps, b.tokens, p.capacity));
  return std::nullopt;
}

bool attempt_rates::pop_earliest(const time_ns* only_if_full_by) {
  auto later = std::greater<expiry>{};
  while (!expiries_.empty()) {
    auto& top = expiries_.front();
    if (only_if_full_by != nullptr && top.full_at > *only_if_full_by)
      return false;
    std::pop_heap(expiries_.begin(), expiries_.end(), later);
    auto e = expiries_.back();
    expiries_.pop_back();
    auto i = subnet_buckets_.find(e.key);
    if (i == subnet_buckets_.end())
      continue; // cannot happen: one entry per live bucket
    if (i->second.full_at > e.full_at) {
      // Used since it was filed: file it again at its real time.
      e.full_at = i->second.full_at;
      expiries_.push_back(e);
      std::push_heap(expiries_.begin(), expiries_.end(), later);
      continue;
    }
    subnet_buckets_.erase(i);
    return true;
  }
  return false;
}

void attempt_rates::expire(time_ns now) {
  latest_ = std::max(latest_, now);
  while (pop_earliest(&latest_)) {
  }
  if (global_live_ && global_bucket_.full_at <= latest_)
    global_live_ = false;
  for (auto& r : prefixes_)
    if (r.live && r.b.full_at <= latest_)
      r.live = false;
}

std::optional<attempt_refusal> attempt_rates::attempt(const ip_address& ip, time_ns now,
                                                      bool dry_run) {
  expire(now);
  now = latest_;
  // A refusal ends the attempt; in a dry run the first one is noted and the
  // attempt goes on as if allowed (the other buckets give their tokens).
  std::optional<attempt_refusal> first;
  auto refuse = [&](std::uint64_t& rule_denied, std::string prefix, std::uint64_t ns) {
    if (!dry_run) {
      ++rule_denied;
      ++denied_;
    }
    if (!first)
      first = attempt_refusal{std::move(prefix), token_bucket::ceil_div(ns, ns_per_ms)};
    return !dry_run;
  };
  auto finish = [&] {
    if (!first)
      ++allowed_;
    else if (dry_run)
      ++would_denied_;
    return first;
  };
  for (auto& r : prefixes_) {
    if (!r.prefix.contains(ip))
      continue;
    if (!r.exempt) {
      auto tokens = r.live ? level(r.b, r.params, now) : r.params.capacity;
      if (auto wait = take(r.b, tokens, r.params, now)) {
        refuse(r.denied, r.text, *wait);
        return finish();
      }
      r.live = true;
    }
    return finish();
  }
  for (std::size_t i = 0; i < subnets_.size(); ++i) {
    auto& r = subnets_[i];
    if (r.v6 != ip.v6)
      continue;
    subnet_key key{static_cast<std::uint32_t>(i), ip.masked(r.length)};
    auto found = subnet_buckets_.find(key);
    if (found != subnet_buckets_.end()) {
      auto& b = found->second;
      if (auto wait = take(b, level(b, r.params, now), r.params, now))
        if (refuse(r.denied, to_string(ip_prefix{key.base, r.length}), *wait))
          return finish();
      continue;
    }
    // A new bucket starts full, so it allows; at the cap the bucket closest
    // to full makes room.
    if (subnet_buckets_.size() >= max_buckets_ && pop_earliest(nullptr))
      ++evictions_;
    bucket b;
    take(b, r.params.capacity, r.params, now);
    subnet_buckets_.emplace(key, b);
    expiries_.push_back(expiry{b.full_at, key});
    std::push_heap(expiries_.begin(), expiries_.end(), std::greater<expiry>{});
  }
  if (global_.present()) {
    auto tokens = global_live_ ? level(global_bucket_, global_, now) : global_.capacity;
    if (auto wait = take(global_bucket_, tokens, global_, now)) {
      if (refuse(global_denied_, "global", *wait))
        return finish();
    } else {
      global_live_ = true;
    }
  }
  return finish();
}

std::vector<std::pair<std::string, std::uint64_t>>
attempt_rates::denials_by_rule() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (auto& r : prefixes_)
    if (!r.exempt)
      out.emplace_back(r.text, r.denied);
  for (auto& r : subnets_)
    out.emplace_back((r.v6 ? "ipv6/" : "ipv4/") + std::to_string(r.length), r.denied);
  if (global_.present())
    out.emplace_back("global", global_denied_);
  return out;
}

} // namespace rcmgr
