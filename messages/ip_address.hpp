// IP addresses and CIDR prefixes (IPv4 and IPv6) as plain values, and the
// parsers for the texts a node sees: multiaddrs (`/ip4/1.2.3.4/tcp/80`,
// `/ip6/::1/tcp/80`, `/ip4/1.2.3.0/ipcidr/24`), CIDR strings (`10.0.0.0/8`,
// `2001:db8::/32`), socket endpoints (`1.2.3.4:80`, `[::1]:80`) and bare
// addresses. Bad text is an input_error naming it; nothing here throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace rcmgr {

/// An IPv4 or IPv6 address. IPv4 uses the first 4 bytes; the others are 0.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is read as IPv4, as a
/// dual-stack socket reports IPv4 peers that way.
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;

  /// 32 or 128.
  unsigned bits() const { return v6 ? 128u : 32u; }
  /// The address with every bit after the first `length` cleared.
  ip_address masked(unsigned length) const;
  bool is_loopback() const;

  friend bool operator==(const ip_address& a, const ip_address& b) {
    return a.v6 == b.v6 && a.bytes == b.bytes;
  }
  friend bool operator!=(const ip_address& a, const ip_address& b) { return !(a == b); }
  friend bool operator<(const ip_address& a, const ip_address& b) {
    return a.v6 != b.v6 ? !a.v6 : a.bytes < b.bytes;
  }
};

/// A network: the addresses whose first `length` bits are those of `base`
/// (kept masked).
struct ip_prefix {
  ip_address base;
  unsigned length = 0;

  static ip_prefix of(const ip_address& ip, unsigned length) {
    return ip_prefix{ip.masked(length), length};
  }
  bool contains(const ip_address& ip) const {
    return ip.v6 == base.v6 && ip.masked(length) == base;
  }

  friend bool operator==(const ip_prefix& a, const ip_prefix& b) {
    return a.length == b.length && a.base == b.base;
  }
  friend bool operator!=(const ip_prefix& a, const ip_prefix& b) { return !(a == b); }
};

/// "1.2.3.4", "2001:db8::1" (the shortest form, RFC 5952).
std::string to_string(const ip_address& ip);
/// "1.2.3.0/24", "2001:db8::/32".
std::string to_string(const ip_prefix& p);

/// A bare address: "1.2.3.4", "::1" (no brackets, no port).
result<ip_address> parse_ip(std::string_view text);
/// A CIDR string "1.2.3.0/24" (the base is masked; a bare address is its
/// own /32 or /128).
result<ip_prefix> parse_cidr(std::string_view text);

/// The IP of a connection's address, if it has one: a multiaddr starting
/// `/ip4/` or `/ip6/`, an endpoint `1.2.3.4:80` or `[::1]:80`, or a bare
/// address. Anything else (`/dns4/...`, garbage) has none.
std::optional<ip_address> ip_of_address(std::string_view address);

/// An allowlist entry as go reads one: `/ip4/<a>` or `/ip6/<a>`, optionally
/// `/ipcidr/<n>`, optionally `/p2p/<peer>`; nothing else.
struct allowlist_entry {
  ip_prefix network;
  std::string peer; // empty: any peer
};
result<allowlist_entry> parse_allowlist_entry(std::string_view text);

/// Hash of an address (for the per-IP tables).
struct ip_address_hash {
  std::size_t operator()(const ip_address& ip) const;
};

} // namespace rcmgr
