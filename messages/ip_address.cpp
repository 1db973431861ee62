#include "messages/ip_address.hpp"

#include <cstring>

#include <arpa/inet.h>

namespace rcmgr {

namespace {

/// The text quoted in an error, cut short: input may come from the wire.
std::string quoted(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  if (text.size() <= max_shown)
    return "'" + std::string{text} + "'";
  return "'" + std::string{text.substr(0, max_shown)} + "...'";
}

/// The address in `text` with the family `v6` (no brackets, no port).
std::optional<ip_address> parse_family(std::string_view text, bool v6) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf)
    return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  ip_address ip;
  if (!v6) {
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1)
      return std::nullopt;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1)
    return std::nullopt;
  ip.v6 = true;
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), mapped, sizeof mapped) == 0) {
    ip_address v4;
    std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
    return v4;
  }
  return ip;
}

std::optional<ip_address> parse_any(std::string_view text) {
  if (text.find(':') != std::string_view::npos)
    return parse_family(text, true);
  return parse_family(text, false);
}

/// A decimal prefix length in [0, max].
std::optional<unsigned> parse_length(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3)
    return std::nullopt;
  unsigned n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n > max)
    return std::nullopt;
  return n;
}

/// Splits a multiaddr into its components ("/ip4/1.2.3.4/tcp/80" ->
/// "ip4", "1.2.3.4", "tcp", "80"); nothing when it does not start with '/'.
template <class F> bool for_each_component(std::string_view text, F f) {
  if (text.empty() || text.front() != '/')
    return false;
  text.remove_prefix(1);
  while (!text.empty()) {
    auto slash = text.find('/');
    auto part = text.substr(0, slash);
    if (!f(part))
      return false;
    if (slash == std::string_view::npos)
      break;
    text.remove_prefix(slash + 1);
  }
  return true;
}

/// The leading `/ip4/<a>` or `/ip6/<a>` of a multiaddr and what follows it.
struct multiaddr_ip {
  ip_address ip;
  std::string_view rest;
};

std::optional<multiaddr_ip> leading_ip(std::string_view text) {
  bool v6;
  if (text.substr(0, 5) == "/ip4/")
    v6 = false;
  else if (text.substr(0, 5) == "/ip6/")
    v6 = true;
  else
    return std::nullopt;
  auto body = text.substr(5);
  auto slash = body.find('/');
  auto ip = parse_family(body.substr(0, slash), v6);
  if (!ip || ip->v6 != v6)
    return std::nullopt;
  return multiaddr_ip{*ip, slash == std::string_view::npos ? std::string_view{}
                                                           : body.substr(slash)};
}

/// "/ipcidr/<n>" at the start of `rest`: the prefix; otherwise the address's
/// own /32 or /128 (and `rest` untouched).
std::optional<ip_prefix> cidr_of(const ip_address& ip, std::string_view& rest) {
  if (rest.substr(0, 8) != "/ipcidr/")
    return ip_prefix::of(ip, ip.bits());
  auto body = rest.substr(8);
  auto slash = body.find('/');
  auto length = parse_length(body.substr(0, slash), ip.bits());
  if (!length)
    return std::nullopt;
  rest = slash == std::string_view::npos ? std::string_view{} : body.substr(slash);
  return ip_prefix::of(ip, *length);
}

} // namespace

ip_address ip_address::masked(unsigned length) const {
  ip_address out = *this;
  auto total = bits();
  if (length >= total)
    return out;
  auto full = length / 8;
  auto rem = length % 8;
  std::size_t i = full;
  if (rem != 0) {
    out.bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> rem);
    ++i;
  }
  for (; i < total / 8; ++i)
    out.bytes[i] = 0;
  return out;
}

bool ip_address::is_loopback() const {
  if (!v6)
    return bytes[0] == 127;
  for (std::size_t i = 0; i < 15; ++i)
    if (bytes[i] != 0)
      return false;
  return bytes[15] == 1;
}

std::string to_string(const ip_address& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf) == nullptr)
    return {};
  return buf;
}

std::string to_string(const ip_prefix& p) {
  return to_string(p.base) + "/" + std::to_string(p.length);
}

result<ip_address> parse_ip(std::string_view text) {
  if (auto ip = parse_any(text))
    return *ip;
  return result<ip_address>::failure(quoted(text) + " is not an IP address");
}

result<ip_prefix> parse_cidr(std::string_view text) {
  auto fail = [&] {
    return result<ip_prefix>::failure(quoted(text) +
                                      " is not a CIDR prefix (\"10.0.0.0/8\", "
                                      "\"2001:db8::/32\" or \"/ip4/10.0.0.0/ipcidr/8\")");
  };
  if (!text.empty() && text.front() == '/') {
    auto m = leading_ip(text);
    if (!m)
      return fail();
    auto rest = m->rest;
    auto p = cidr_of(m->ip, rest);
    if (!p || !rest.empty())
      return fail();
    return *p;
  }
  auto slash = text.find('/');
  auto ip = parse_any(text.substr(0, slash));
  if (!ip)
    return fail();
  if (slash == std::string_view::npos)
    return ip_prefix::of(*ip, ip->bits());
  auto length = parse_length(text.substr(slash + 1), ip->bits());
  if (!length)
    return fail();
  return ip_prefix::of(*ip, *length);
}

std::optional<ip_address> ip_of_address(std::string_view address) {
  if (address.empty())
    return std::nullopt;
  if (address.front() == '/') {
    if (auto m = leading_ip(address))
      return m->ip;
    return std::nullopt;
  }
  if (address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    return parse_family(address.substr(1, close - 1), true);
  }
  auto colon = address.find(':');
  if (colon != std::string_view::npos &&
      address.find(':', colon + 1) == std::string_view::npos)
    return parse_family(address.substr(0, colon), false); // "1.2.3.4:80"
  return parse_any(address);
}

result<allowlist_entry> parse_allowlist_entry(std::string_view text) {
  auto fail = [&] {
    return result<allowlist_entry>::failure(
        quoted(text) + " is not an allowlist multiaddr (/ip4/<address> or "
                       "/ip6/<address>, optionally /ipcidr/<length>, optionally "
                       "/p2p/<peer>)");
  };
  auto m = leading_ip(text);
  if (!m)
    return fail();
  auto rest = m->rest;
  auto p = cidr_of(m->ip, rest);
  if (!p)
    return fail();
  allowlist_entry e{*p, {}};
  if (rest.empty())
    return e;
  if (rest.substr(0, 5) != "/p2p/")
    return fail();
  auto peer = rest.substr(5);
  if (peer.empty() || peer.find('/') != std::string_view::npos)
    return fail();
  e.peer = std::string{peer};
  return e;
}

std::size_t ip_address_hash::operator()(const ip_address& ip) const {
  // FNV-1a over the bytes in use and the family.
  std::uint64_t h = ip.v6 ? 0xcbf29ce484222325ull : 0x84222325cbf29ce4ull;
  auto n = ip.v6 ? 16u : 4u;
  for (unsigned i = 0; i < n; ++i) {
    h ^= ip.bytes[i];
    h *= 0x100000001b3ull;
  }
  return static_cast<std::size_t>(h ^ (h >> 29));
}

} // namespace rcmgr
