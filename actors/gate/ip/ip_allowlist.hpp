// The allowlist (DESIGN §6.2): addresses and networks, each for any peer or
// for one peer (`/p2p/<peer>`), as go-libp2p's allowlist reads them.
//
// go scans its list on every lookup; here each (family, prefix length) in
// use has a hash map from the masked network to its entry, so a lookup
// probes at most one map per length in use (<= 33 for IPv4, <= 129 for
// IPv6), whatever the number of entries.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/ip_address.hpp"

namespace rcmgr {

class ip_allowlist {
public:
  ip_allowlist() = default;
  /// Entries that do not parse are skipped (the config parser refuses them).
  explicit ip_allowlist(const std::vector<std::string>& entries) { configure(entries); }

  void configure(const std::vector<std::string>& entries);
  /// Adds one parsed entry.
  void add(const allowlist_entry& e);

  /// Whether some entry contains `ip`, for any peer or for one (go's
  /// `Allowed`: before the peer is known).
  bool allows(const ip_address& ip) const;
  /// Whether an entry for any peer, or one for `peer`, contains `ip` (go's
  /// `AllowedPeerAndMultiaddr`).
  bool allows(const ip_address& ip, std::string_view peer) const;

  bool empty() const { return size_ == 0; }
  /// Distinct (network, peer) entries.
  std::size_t size() const { return size_; }
  /// The configured entries, as given.
  const std::vector<std::string>& entries() const { return texts_; }

private:
  struct network {
    bool any_peer = false;
    std::set<std::string, std::less<>> peers;
  };
  using table = std::unordered_map<ip_address, network, ip_address_hash>;

  /// Calls f(network) for each entry containing `ip`, most specific first,
  /// until f returns true.
  template <class F> bool any_containing(const ip_address& ip, F f) const;

  table v4_[33];
  table v6_[129];
  std::vector<unsigned> v4_lengths_; // in use, longest first
  std::vector<unsigned> v6_lengths_;
  std::vector<std::string> texts_;
  std::size_t size_ = 0;
};

} // namespace rcmgr
