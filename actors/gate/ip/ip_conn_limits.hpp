// Per-IP connection limits (DESIGN §6.2), as go-libp2p's connection limiter:
// a connection counts against its remote IP from its pending event to its
// close. The most specific network prefix that contains the IP decides
// alone; otherwise every subnet limit of the IP's family must pass (checked
// most specific first, the first refusal is reported) and the connection
// counts in each. A check denies when `current >= limit`.
//
// Bounded state: a subnet's count exists while a connection holds it, so a
// flood of distinct addresses holds nothing once its connections are gone.
// A config update keeps the connections and counts them again under the
// new limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/ids.hpp"
#include "messages/ip_address.hpp"
#include "messages/ip_config.hpp"

namespace rcmgr {

/// Why a connection was refused: the prefix that refused it (a configured
/// network prefix, or the IP's subnet "1.2.3.4/32"), its limit and count.
struct ip_limit_refusal {
  std::string prefix;
  std::uint64_t limit = 0;
  std::uint64_t current = 0;
};

/// One subnet's live count (for the dump).
struct ip_subnet_count {
  std::string prefix;
  std::uint64_t conns = 0;
  std::uint64_t limit = 0;
};

class ip_conn_limits {
public:
  /// Subnet rules kept per family (one per prefix length at most matters;
  /// rules past this many are ignored).
  static constexpr std::size_t max_subnet_rules_per_family = 129;

  explicit ip_conn_limits(const ip_limits_config& cfg = {}) { configure(cfg); }

  /// Replaces the limits; live connections are counted again under them.
  /// Prefixes that do not parse are skipped (the config parser refuses them).
  void configure(const ip_limits_config& cfg);

  /// Counts `conn` against `ip` if every limit allows; else the refusal and
  /// nothing counted. A connection already counted is refused by nobody
  /// here (the caller reports duplicates): it stays as it is.
  /// In a dry run it is counted even so, and the refusal (the first limit
  /// over, not counted as a denial) returned.
  std::optional<ip_limit_refusal> admit(connection_id conn, const ip_address& ip,
                                        bool dry_run = false);
  /// `conn` stops counting (no-op for a connection not counted).
  void remove(connection_id conn);

  bool counts(connection_id conn) const { return conns_.count(conn) != 0; }
  std::size_t connections() const { return conns_.size(); }
  /// Live subnet entries (all lengths) and network prefixes with a count.
  std::size_t live_entries() const;
  /// The count of the subnet of `ip` under the subnet limit of that family
  /// and length; 0 when none. Of the network prefix `prefix` when it is one.
  std::uint64_t count_of(const ip_prefix& prefix) const;
  /// Live counts, the highest first, at most `cap` of them (network prefixes
  /// and subnets together); `total` is set to how many there are.
  std::vector<ip_subnet_count> top_counts(std::size_t cap, std::size_t& total) const;
  /// Denials by rule: a network prefix ("127.0.0.0/8") or a subnet length
  /// ("ipv4/32", "ipv6/56"), in config order.
  std::vector<std::pair<std::string, std::uint64_t>> denials_by_rule() const;

private:
  struct network_rule {
    ip_prefix prefix;
    std::string text;
    std::uint64_t conns = 0; // the limit
    std::uint64_t current = 0;
    std::uint64_t denied = 0;
  };
  struct subnet_rule {
    unsigned length = 0;
    bool v6 = false;
    std::uint64_t conns = 0; // the limit
    std::unordered_map<ip_address, std::uint64_t, ip_address_hash> current;
    std::uint64_t denied = 0;
  };
  /// Where a connection counts: a network rule, or every subnet rule of its
  /// family.
  struct held {
    ip_address ip;
    int network = -1;
  };

  std::optional<ip_limit_refusal> check_and_count(const held& h, bool dry_run);
  void uncount(const held& h);
  int network_of(const ip_address& ip) const;

  std::vector<network_rule> networks_; // most specific first
  std::vector<subnet_rule> subnets_;   // v4 then v6, each most specific first
  std::unordered_map<connection_id, held> conns_;
};

} // namespace rcmgr
