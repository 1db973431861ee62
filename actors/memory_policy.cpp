#include "actors/memory_policy.hpp"

#include <algorithm>
#include <cmath>

#include "messages/json.hpp"

namespace rcmgr {

namespace {

std::uint64_t fraction_of(double fraction, std::uint64_t total) {
  return static_cast<std::uint64_t>(std::floor(fraction * static_cast<double>(total)));
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
  if (last_ && last_->cgroup_limit > 0 && m == last_->cgroup_limit
      && m != cfg_.max_bytes)
    return "cgroup";
  if (cfg_.max_bytes != no_limit && m == cfg_.max_bytes)
    return "max_bytes";
  return "max_fraction";
}

bool memory_policy::stale(time_ns now) const {
  if (!last_)
    return true;
  auto limit = static_cast<time_ns>(cfg_.sample_interval_ms) * 3 * 1000000;
  return now - last_->at > limit;
}

std::optional<denial> memory_policy::check(connection_id conn, time_ns now) {
  if (!active())
    return std::nullopt;
  auto max = effective_max();
  if (stale(now)) {
    if (cfg_.stale == stale_policy::fail_open) {
      ++stale_admits_;
      return std::nullopt;
    }
    ++denials_;
    return memory_limit_denial(last_ ? last_->rss : 0, max, conn);
  }
  auto used = last_->rss;
  if (tripped_ && cfg_.resume_below_fraction > 0) {
    auto mark = fraction_of(cfg_.resume_below_fraction, max);
    if (used >= mark) {
      ++denials_;
      return memory_limit_denial(used, mark, conn);
    }
    tripped_ = false;
  }
  if (used > max) {
    tripped_ = cfg_.resume_below_fraction > 0;
    ++denials_;
    return memory_limit_denial(used, max, conn);
  }
  return std::nullopt;
}

nlohmann::json memory_policy::to_json(time_ns now) const {
  nlohmann::json j;
  j["active"] = active();
  j["stale_policy"] = to_string(cfg_.stale);
  j["sample_interval_ms"] = cfg_.sample_interval_ms;
  if (last_) {
    j["last_sample"] = rcmgr::to_json(*last_);
    j["age_ms"] = (now - last_->at) / 1000000;
  } else {
    j["last_sample"] = nullptr;
    j["age_ms"] = nullptr;
  }
  j["stale"] = active() && stale(now);
  auto max = effective_max();
  j["effective_max_bytes"] = max == no_limit ? nlohmann::json(nullptr) : nlohmann::json(max);
  j["max_source"] = max_source();
  if (last_ && max != no_limit && max > 0)
    j["pressure"] = static_cast<double>(last_->rss) / static_cast<double>(max);
  else
    j["pressure"] = nullptr;
  if (cfg_.resume_below_fraction > 0)
    j["resume_below_fraction"] = cfg_.resume_below_fraction;
  j["hysteresis_active"] = tripped_;
  j["denials"] = denials_;
  j["stale_admits"] = stale_admits_;
  return j;
}

} // namespace rcmgr
