// The config of DESIGN §6.2: per-IP connection limits, connection-attempt
// rates and the allowlist. Prefixes are kept as the text the config gave
// (checked by the parser); the cores read them (actors/gate/ip/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <nlohmann/json.hpp>

#include "messages/config_basics.hpp"
#include "messages/result.hpp"

namespace rcmgr {

/// One network prefix's connection limit (`no_limit` for "unlimited").
struct ip_prefix_limit {
  std::string prefix;
  std::uint64_t conns = no_limit;
  friend bool operator==(const ip_prefix_limit& a, const ip_prefix_limit& b) {
    return a.prefix == b.prefix && a.conns == b.conns;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_prefix_limit& x) {
  return f(caf::meta::type_name("ip_prefix_limit"), x.prefix, x.conns);
}

/// A limit on the connections of each subnet of one prefix length.
struct ip_subnet_limit {
  std::uint64_t prefix_length = 0;
  std::uint64_t conns = 0;
  friend bool operator==(const ip_subnet_limit& a, const ip_subnet_limit& b) {
    return a.prefix_length == b.prefix_length && a.conns == b.conns;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_subnet_limit& x) {
  return f(caf::meta::type_name("ip_subnet_limit"), x.prefix_length, x.conns);
}

/// "ip_limits": absent (`present` false) means no per-IP limit;
/// `"defaults"` is read as go-libp2p's lists (`defaults` set).
struct ip_limits_config {
  bool present = false;
  bool defaults = false;
  std::vector<ip_prefix_limit> network_prefix;
  std::vector<ip_subnet_limit> subnet_v4;
  std::vector<ip_subnet_limit> subnet_v6;
  friend bool operator==(const ip_limits_config& a, const ip_limits_config& b) {
    return a.present == b.present && a.defaults == b.defaults &&
           a.network_prefix == b.network_prefix && a.subnet_v4 == b.subnet_v4 &&
           a.subnet_v6 == b.subnet_v6;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_limits_config& x) {
  return f(caf::meta::type_name("ip_limits_config"), x.present, x.defaults,
           x.network_prefix, x.subnet_v4, x.subnet_v6);
}

/// go-libp2p's per-IP defaults: 8 per IPv4 /32, 8 per IPv6 /56, 64 per
/// IPv6 /48, loopback (127.0.0.0/8, ::1/128) unlimited.
ip_limits_config default_ip_limits();

/// One network prefix's attempt bucket. `exempt`: no bucket, every attempt
/// allowed (go's loopback default; the JSON form has no way to say it).
struct ip_prefix_rate {
  std::string prefix;
  bucket_config bucket;
  bool exempt = false;
  friend bool operator==(const ip_prefix_rate& a, const ip_prefix_rate& b) {
    return a.prefix == b.prefix && a.bucket.rate_per_s == b.bucket.rate_per_s &&
           a.bucket.burst == b.bucket.burst && a.exempt == b.exempt;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_prefix_rate& x) {
  return f(caf::meta::type_name("ip_prefix_rate"), x.prefix, x.bucket, x.exempt);
}

/// One attempt bucket per subnet of one prefix length.
struct ip_subnet_rate {
  std::uint64_t prefix_length = 0;
  bucket_config bucket;
  friend bool operator==(const ip_subnet_rate& a, const ip_subnet_rate& b) {
    return a.prefix_length == b.prefix_length &&
           a.bucket.rate_per_s == b.bucket.rate_per_s && a.bucket.burst == b.bucket.burst;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ip_subnet_rate& x) {
  return f(caf::meta::type_name("ip_subnet_rate"), x.prefix_length, x.bucket);
}

/// "attempt_rates": absent means no attempt rate; `global` has burst 0 when
/// there is no global bucket.
struct attempt_rates_config {
  bool present = false;
  bool defaults = false;
  bucket_config global;
  std::vector<ip_prefix_rate> network_prefix;
  std::vector<ip_subnet_rate> subnet_v4;
  std::vector<ip_subnet_rate> subnet_v6;
  friend bool operator==(const attempt_rates_config& a, const attempt_rates_config& b) {
    return a.present == b.present && a.defaults == b.defaults &&
           a.global.rate_per_s == b.global.rate_per_s &&
           a.global.burst == b.global.burst && a.network_prefix == b.network_prefix &&
           a.subnet_v4 == b.subnet_v4 && a.subnet_v6 == b.subnet_v6;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attempt_rates_config& x) {
  return f(caf::meta::type_name("attempt_rates_config"), x.present, x.defaults, x.global,
           x.network_prefix, x.subnet_v4, x.subnet_v6);
}

/// go-libp2p's attempt-rate defaults: 0.2/s burst 16 per IPv4 /32 and per
/// IPv6 /56, 0.5/s burst 80 per IPv6 /48, loopback exempt, no global bucket.
attempt_rates_config default_attempt_rates();

// -- the JSON forms (DESIGN §6.2) ---------------------------------------------------
//
// Each parser reads the value at `path` (its key's JSON Pointer, e.g.
// "/ip_limits"); an unknown key, a missing field, a wrong type or an
// impossible value (a prefix that is not a CIDR, a prefix length above 32 or
// 128, a zero burst, a rate <= 0) is an error naming the path of the value.

/// `"defaults"` or {"network_prefix": [{"prefix", "conns": N | "unlimited"}],
/// "subnet_v4": [{"prefix_length", "conns"}], "subnet_v6": [...]}.
result<ip_limits_config> parse_ip_limits(const nlohmann::json& j,
                                         const std::string& path);
/// `"defaults"` or {"global": {"rate_per_s", "burst"}, "network_prefix":
/// [{"prefix", "rate_per_s", "burst"}], "subnet_v4": [{"prefix_length",
/// "rate_per_s", "burst"}], "subnet_v6": [...]}.
result<attempt_rates_config> parse_attempt_rates(const nlohmann::json& j,
                                                 const std::string& path);
/// An array of multiaddrs: /ip4/<a> or /ip6/<a>, optionally /ipcidr/<n>,
/// optionally /p2p/<peer>.
result<std::vector<std::string>> parse_allowlist(const nlohmann::json& j,
                                                 const std::string& path);

/// The forms parsed above: `"defaults"` for the defaults; parsing them gives
/// the config back.
nlohmann::json to_json(const ip_limits_config& c);
nlohmann::json to_json(const attempt_rates_config& c);

} // namespace rcmgr
