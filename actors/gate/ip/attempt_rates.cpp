#include "actors/gate/ip/attempt_rates.hpp"

#include <algorithm>

#include "actors/support/token_bucket.hpp"

namespace rcmgr {

namespace {

/// Picotokens per token (the rate limiter's units: bucket_params).
constexpr std::uint64_t pico = 1'000'000'000'000ULL;
constexpr std::uint64_t ns_per_ms = 1'000'000ULL;
constexpr std::uint32_t global_rule = 0xFFFFu;

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
  fixed_.clear();
  subnet_buckets_.clear();
  global_ = bucket_params::from(cfg_.global);
  global_denied_ = 0;
  for (auto& x : cfg_.network_prefix) {
    auto p = parse_cidr(x.prefix);
    if (!p)
      continue;
    prefixes_.push_back(prefix_rule{*p, to_string(*p), bucket_params::from(x.bucket),
                                    x.exempt || !x.bucket.present()});
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
                                     bucket_params::from(x.bucket)});
    }
    std::stable_sort(
        subnets_.begin() + static_cast<std::ptrdiff_t>(first), subnets_.end(),
        [](const subnet_rule& a, const subnet_rule& b) { return a.length > b.length; });
  };
  add(cfg_.subnet_v4, false);
  add(cfg_.subnet_v6, true);
}

void attempt_rates::expire(time_ns now) {
  latest_ = std::max(latest_, now);
  fixed_.drop_full(latest_, [](std::uint32_t) {});
  subnet_buckets_.drop_full(latest_, [](std::uint32_t) {});
}

std::optional<std::uint64_t>
attempt_rates::take(bucket_table& table, const std::string& key, std::uint32_t rule,
                    const bucket_params& p, time_ns now, bool capped) {
  auto* b = table.find(key);
  auto tokens = p.capacity;
  if (b != nullptr) {
    tokens = b->tokens;
    if (now > b->last)
      tokens = token_bucket::refill(p.rate_mtps, p.capacity, b->tokens,
                                    static_cast<std::uint64_t>(now - b->last));
  }
  if (tokens < pico)
    return token_bucket::ns_until(p.rate_mtps, tokens, pico);
  if (b == nullptr && capped && table.size() >= max_buckets_) {
    table.evict_first();
    ++evictions_;
  }
  table.put(key, rule, p, tokens - pico, now);
  return std::nullopt;
}

std::optional<attempt_refusal> attempt_rates::attempt(const ip_address& ip, time_ns now) {
  expire(now);
  now = latest_;
  auto refuse = [this](std::string prefix, std::uint64_t ns) {
    ++denied_;
    return attempt_refusal{std::move(prefix), token_bucket::ceil_div(ns, ns_per_ms)};
  };
  for (std::size_t i = 0; i < prefixes_.size(); ++i) {
    auto& r = prefixes_[i];
    if (!r.prefix.contains(ip))
      continue;
    if (r.exempt) {
      ++allowed_;
      return std::nullopt;
    }
    key_.assign(1, 'p');
    key_.append(std::to_string(i));
    if (auto wait =
            take(fixed_, key_, static_cast<std::uint32_t>(i), r.params, now, false)) {
      ++r.denied;
      return refuse(r.text, *wait);
    }
    ++allowed_;
    return std::nullopt;
  }
  auto n = ip.v6 ? 16u : 4u;
  for (std::size_t i = 0; i < subnets_.size(); ++i) {
    auto& r = subnets_[i];
    if (r.v6 != ip.v6)
      continue;
    auto base = ip.masked(r.length);
    key_.assign(1, static_cast<char>(i & 0xFF));
    key_.push_back(static_cast<char>((i >> 8) & 0xFF));
    key_.append(reinterpret_cast<const char*>(base.bytes.data()), n);
    if (auto wait = take(subnet_buckets_, key_, static_cast<std::uint32_t>(i), r.params,
                         now, true)) {
      ++r.denied;
      return refuse(to_string(ip_prefix{base, r.length}), *wait);
    }
  }
  if (global_.present()) {
    key_.assign(1, 'g');
    if (auto wait = take(fixed_, key_, global_rule, global_, now, false)) {
      ++global_denied_;
      return refuse("global", *wait);
    }
  }
  ++allowed_;
  return std::nullopt;
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
