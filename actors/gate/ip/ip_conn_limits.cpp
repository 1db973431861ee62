#include "actors/gate/ip/ip_conn_limits.hpp"

#include <algorithm>

namespace rcmgr {

namespace {

std::string family_name(bool v6) {
  return v6 ? "ipv6" : "ipv4";
}

} // namespace

void ip_conn_limits::configure(const ip_limits_config& cfg) {
  networks_.clear();
  subnets_.clear();
  for (auto& x : cfg.network_prefix) {
    auto p = parse_cidr(x.prefix);
    if (!p)
      continue;
    networks_.push_back(network_rule{*p, to_string(*p), x.conns, 0, 0});
  }
  std::stable_sort(networks_.begin(), networks_.end(),
                   [](const network_rule& a, const network_rule& b) {
                     return a.prefix.length > b.prefix.length;
                   });
  auto add_subnets = [this](const std::vector<ip_subnet_limit>& xs, bool v6) {
    auto first = subnets_.size();
    std::size_t added = 0;
    for (auto& x : xs) {
      if (x.prefix_length > (v6 ? 128u : 32u) || added == max_subnet_rules_per_family)
        continue;
      ++added;
      subnet_rule r;
      r.length = static_cast<unsigned>(x.prefix_length);
      r.v6 = v6;
      r.conns = x.conns;
      subnets_.push_back(std::move(r));
    }
    std::stable_sort(
        subnets_.begin() + static_cast<std::ptrdiff_t>(first), subnets_.end(),
        [](const subnet_rule& a, const subnet_rule& b) { return a.length > b.length; });
  };
  add_subnets(cfg.subnet_v4, false);
  add_subnets(cfg.subnet_v6, true);
  // Count the live connections again, as they were admitted: never refused.
  for (auto& [conn, h] : conns_) {
    h.network = network_of(h.ip);
    if (h.network >= 0) {
      ++networks_[static_cast<std::size_t>(h.network)].current;
      continue;
    }
    for (auto& r : subnets_)
      if (r.v6 == h.ip.v6)
        ++r.current[h.ip.masked(r.length)];
  }
}

int ip_conn_limits::network_of(const ip_address& ip) const {
  for (std::size_t i = 0; i < networks_.size(); ++i)
    if (networks_[i].prefix.contains(ip))
      return static_cast<int>(i);
  return -1;
}

std::optional<ip_limit_refusal>
ip_conn_limits::admit(connection_id conn, const ip_address& ip, bool dry_run) {
  if (conns_.count(conn) != 0)
    return std::nullopt;
  held h{ip, network_of(ip)};
  auto r = check_and_count(h, dry_run);
  if (r && !dry_run)
    return r;
  conns_.emplace(conn, h);
  return r;
}

std::optional<ip_limit_refusal> ip_conn_limits::check_and_count(const held& h,
                                                                bool dry_run) {
  std::optional<ip_limit_refusal> refusal;
  if (h.network >= 0) {
    auto& n = networks_[static_cast<std::size_t>(h.network)];
    if (n.current >= n.conns) {
      refusal = ip_limit_refusal{n.text, n.conns, n.current};
      if (!dry_run) {
        ++n.denied;
        return refusal;
      }
    }
    ++n.current;
    return refusal;
  }
  // One lookup per subnet rule: the entries found are counted through their
  // iterators once every rule has passed.
  using entry = std::unordered_map<ip_address, std::uint64_t, ip_address_hash>::iterator;
  entry found[max_subnet_rules_per_family];
  std::size_t n = 0;
  for (auto& r : subnets_) {
    if (r.v6 != h.ip.v6)
      continue;
    auto i = r.current.find(h.ip.masked(r.length));
    auto current = i == r.current.end() ? 0 : i->second;
    if (current >= r.conns && !refusal) {
      refusal =
          ip_limit_refusal{to_string(ip_prefix::of(h.ip, r.length)), r.conns, current};
      if (!dry_run) {
        ++r.denied;
        return refusal;
      }
    }
    found[n++] = i;
  }
  n = 0;
  for (auto& r : subnets_) {
    if (r.v6 != h.ip.v6)
      continue;
    auto i = found[n++];
    if (i != r.current.end())
      ++i->second;
    else
      r.current.emplace(h.ip.masked(r.length), 1);
  }
  return refusal;
}

void ip_conn_limits::uncount(const held& h) {
  if (h.network >= 0) {
    auto& n = networks_[static_cast<std::size_t>(h.network)];
    if (n.current > 0)
      --n.current;
    return;
  }
  for (auto& r : subnets_) {
    if (r.v6 != h.ip.v6)
      continue;
    auto i = r.current.find(h.ip.masked(r.length));
    if (i == r.current.end())
      continue;
    if (--i->second == 0)
      r.current.erase(i);
  }
}

void ip_conn_limits::remove(connection_id conn) {
  auto i = conns_.find(conn);
  if (i == conns_.end())
    return;
  uncount(i->second);
  conns_.erase(i);
}

std::size_t ip_conn_limits::live_entries() const {
  std::size_t n = 0;
  for (auto& x : networks_)
    n += x.current != 0;
  for (auto& r : subnets_)
    n += r.current.size();
  return n;
}

std::uint64_t ip_conn_limits::count_of(const ip_prefix& prefix) const {
  for (auto& x : networks_)
    if (x.prefix == prefix)
      return x.current;
  for (auto& r : subnets_) {
    if (r.v6 != prefix.base.v6 || r.length != prefix.length)
      continue;
    auto i = r.current.find(prefix.base);
    return i == r.current.end() ? 0 : i->second;
  }
  return 0;
}

std::vector<ip_subnet_count> ip_conn_limits::top_counts(std::size_t cap,
                                                        std::size_t& total) const {
  struct entry {
    std::uint64_t conns;
    std::uint64_t limit;
    const network_rule* network;
    const ip_address* base;
    unsigned length;
  };
  std::vector<entry> all;
  for (auto& x : networks_)
    if (x.current != 0)
      all.push_back(entry{x.current, x.conns, &x, nullptr, 0});
  for (auto& r : subnets_)
    for (auto& [base, n] : r.current)
      all.push_back(entry{n, r.conns, nullptr, &base, r.length});
  total = all.size();
  auto order = [](const entry& a, const entry& b) {
    if (a.conns != b.conns)
      return a.conns > b.conns;
    if (a.length != b.length)
      return a.length > b.length;
    if (a.base != nullptr && b.base != nullptr)
      return *a.base < *b.base;
    if (a.network != nullptr && b.network != nullptr)
      return a.network < b.network; // config order
    return a.network != nullptr;
  };
  auto n = std::min(cap, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    order);
  std::vector<ip_subnet_count> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = all[i];
    auto text =
        e.network != nullptr ? e.network->text : to_string(ip_prefix{*e.base, e.length});
    out.push_back(ip_subnet_count{std::move(text), e.conns, e.limit});
  }
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>>
ip_conn_limits::denials_by_rule() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (auto& x : networks_)
    out.emplace_back(x.text, x.denied);
  for (auto& r : subnets_)
    out.emplace_back(family_name(r.v6) + "/" + std::to_string(r.length), r.denied);
  return out;
}

} // namespace rcmgr
