#include "actors/gate/memory_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "messages/time.hpp"

namespace rcmgr {

namespace {

/// floor(fraction x total), computed so that a decimal fraction gives the
/// exact answer (0.57 x 100 is 56.99999999999999 in double arithmetic but
/// means 57), and saturating at no_limit instead of overflowing.
std::uint64_t fraction_of(double fraction, std::uint64_t total) {
  if (total == no_limit)
    return no_limit;
  auto v = fraction * static_cast<double>(total);
  if (!(v >= 0))
    return 0;
  // 2^64 as a double; the cast below is undefined at and above it.
  if (v >= 18446744073709551616.0)
    return no_limit;
  // The product's rounding error is at most a few ulps; a value that close
  // to an integer is that integer.
  auto nearest = std::round(v);
  auto tolerance = std::max(1e-9, v * 1e-15);
  auto result = std::fabs(v - nearest) <= tolerance ? nearest : std::floor(v);
  if (result >= 18446744073709551616.0)
    return no_limit;
  return static_cast<std::uint64_t>(result);
}

} // namespace

void memory_policy::configure(const memory_config& cfg) {
  cfg_ = cfg;
  tripped_ = false;
}

void memory_policy::on_sample(const memory_sample& sample) {
  last_ = sample;
}

std::uint64_t memory_policy::effective_max() const {
  if (!active())
    return no_limit;
  auto m = cfg_.max_bytes;
  if (last_) {
    if (cfg_.max_fraction > 0 && last_->total > 0)
      m = std::min(m, fraction_of(cfg_.max_fraction, last_->total));
    if (last_->cgroup_limit > 0)
      m = std::min(m, last_->cgroup_limit);
  }
  return m;
}

std::string memory_policy::max_source() const {
  if (!active())
    return "none";
  auto m = effective_max();
  if (m == no_limit)
    return "none"; // only max_fraction, and no total known yet
  if (last_ && last_->cgroup_limit > 0 && m == last_->cgroup_limit && m != cfg_.max_bytes)
    return "cgroup";
  if (cfg_.max_bytes != no_limit && m == cfg_.max_bytes)
    return "max_bytes";
  return "max_fraction";
}

bool memory_policy::stale(time_ns now) const {
  if (!last_)
    return true;
  if (now <= last_->at)
    return false;
  // Unsigned arithmetic: neither the age nor the limit can overflow.
  auto age = static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(last_->at);
  constexpr std::uint64_t intervals = 3;
  if (cfg_.sample_interval_ms >
      std::numeric_limits<std::uint64_t>::max() / ns_per_ms / intervals)
    return false; // a limit beyond 2^64 ns: never stale
  return age > cfg_.sample_interval_ms * intervals * ns_per_ms;
}

std::optional<denial> memory_policy::check(connection_id conn, time_ns now,
                                           bool dry_run) {
  if (!active())
    return std::nullopt;
  // A dry run's refusals are counted apart: `denials` stays what was refused.
  auto& refused = dry_run ? would_denials_ : denials_;
  auto max = effective_max();
  if (stale(now)) {
    if (cfg_.stale == stale_policy::fail_open) {
      ++stale_admits_;
      return std::nullopt;
    }
    ++refused;
    if (!dry_run)
      ++stale_denials_;
    return memory_limit_denial(last_ ? last_->rss : 0, max, conn);
  }
  auto used = last_->rss;
  if (tripped_ && cfg_.resume_below_fraction > 0) {
    auto mark = fraction_of(cfg_.resume_below_fraction, max);
    if (used >= mark) {
      ++refused;
      return memory_limit_denial(used, mark, conn);
    }
    tripped_ = false;
  }
  if (used > max) {
    tripped_ = cfg_.resume_below_fraction > 0;
    ++refused;
    return memory_limit_denial(used, max, conn);
  }
  return std::nullopt;
}

memory_stats memory_policy::stats(time_ns now) const {
  memory_stats s;
  s.active = active();
  s.on_stale = cfg_.stale;
  s.sample_interval_ms = cfg_.sample_interval_ms;
  s.last_sample = last_;
  if (last_)
    s.age_ms = (now - last_->at) / 1000000;
  s.stale = active() && stale(now);
  s.effective_max_bytes = effective_max();
  s.max_source = max_source();
  if (last_ && s.effective_max_bytes != no_limit && s.effective_max_bytes > 0)
    s.pressure =
        static_cast<double>(last_->rss) / static_cast<double>(s.effective_max_bytes);
  s.resume_below_fraction = cfg_.resume_below_fraction;
  s.hysteresis_active = tripped_;
  s.denials = denials_;
  s.stale_admits = stale_admits_;
  s.stale_denials = stale_denials_;
  s.would_denials = would_denials_;
  return s;
}

} // namespace rcmgr
