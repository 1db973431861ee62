// The "scopes" and "scopes_scale" config keys (DESIGN §6.1): go-libp2p's limit
// document (its PartialLimitConfig JSON) read as go reads it, and the limits
// it resolves to (go's ConcreteLimitConfig). Scaling go's defaults and
// resolving a document against them: actors/gate/scopes/scope_defaults.hpp.
//
// How a document is read (go's encoding/json and LimitVal rules, stricter
// where §6.1 says so):
// - sections System, Transient, AllowlistedSystem, AllowlistedTransient,
//   ServiceDefault, ServicePeerDefault, ProtocolDefault, ProtocolPeerDefault,
//   PeerDefault, Conn, Stream (objects) and Service, ServicePeer, Protocol,
//   ProtocolPeer, Peer (objects of sections, keyed by service name, protocol
//   id or peer id);
// - fields Streams, StreamsInbound, StreamsOutbound, Conns, ConnsInbound,
//   ConnsOutbound, FD, Memory;
// - section and field names match without regard to ASCII case, as go's
//   decoder matches them; two keys naming the same one are an error;
// - a value is an integer, "unlimited", "blockAll" or "default"; a literal 0
//   (or "0" for Memory) is blockAll; Memory may also be a decimal string
//   (go writes it so); an integer above 2^63-1 is out of range, as in go;
// - a negative value, a fraction, an unknown section or field, a value of
//   another type, an empty map key: an error naming the JSON Pointer path
//   (go would take -1 and -2 as unlimited and blockAll, and ignore unknown
//   names).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>
#include <nlohmann/json.hpp>

#include "messages/result.hpp"

namespace rcmgr {

/// go's "unlimited" (its largest int): a limit this high never refuses.
inline constexpr std::uint64_t scope_unlimited =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

/// One field of a limit document as written (go's LimitVal and LimitVal64).
struct limit_value {
  enum class form : std::uint8_t { default_value, unlimited, block_all, number };
  form kind = form::default_value;
  std::uint64_t number = 0; // 1 .. scope_unlimited when kind == number

  /// go's Build: the default, unlimited, 0, or the number.
  std::uint64_t resolve(std::uint64_t default_limit) const;
  bool is_default() const { return kind == form::default_value; }
  /// A resolved limit written back: 0 is blockAll, scope_unlimited (or more)
  /// is unlimited (go's valueOrBlockAll).
  static limit_value of(std::uint64_t limit);

  friend bool operator==(const limit_value& a, const limit_value& b) {
    return a.kind == b.kind && a.number == b.number;
  }
  friend bool operator!=(const limit_value& a, const limit_value& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_value& x) {
  return f(caf::meta::type_name("limit_value"), x.kind, x.number);
}

/// The eight limits of one section as written (go's ResourceLimits).
struct partial_scope_limits {
  limit_value streams;
  limit_value streams_inbound;
  limit_value streams_outbound;
  limit_value conns;
  limit_value conns_inbound;
  limit_value conns_outbound;
  limit_value fd;
  limit_value memory;

  bool is_default() const;
  friend bool operator==(const partial_scope_limits& a, const partial_scope_limits& b);
  friend bool operator!=(const partial_scope_limits& a, const partial_scope_limits& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partial_scope_limits& x) {
  return f(caf::meta::type_name("partial_scope_limits"), x.streams, x.streams_inbound,
           x.streams_outbound, x.conns, x.conns_inbound, x.conns_outbound, x.fd,
           x.memory);
}

/// The eight limits of one scope, resolved (go's BaseLimit). A value of
/// scope_unlimited or more never refuses; 0 refuses everything.
struct scope_limits {
  std::uint64_t streams = 0;
  std::uint64_t streams_inbound = 0;
  std::uint64_t streams_outbound = 0;
  std::uint64_t conns = 0;
  std::uint64_t conns_inbound = 0;
  std::uint64_t conns_outbound = 0;
  std::uint64_t fd = 0;
  std::uint64_t memory = 0;

  friend bool operator==(const scope_limits& a, const scope_limits& b);
  friend bool operator!=(const scope_limits& a, const scope_limits& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scope_limits& x) {
  return f(caf::meta::type_name("scope_limits"), x.streams, x.streams_inbound,
           x.streams_outbound, x.conns, x.conns_inbound, x.conns_outbound, x.fd,
           x.memory);
}

/// A whole limit document (go's PartialLimitConfig).
struct scope_limit_document {
  partial_scope_limits system;
  partial_scope_limits transient;
  partial_scope_limits allowlisted_system;
  partial_scope_limits allowlisted_transient;
  partial_scope_limits service_default;
  partial_scope_limits service_peer_default;
  partial_scope_limits protocol_default;
  partial_scope_limits protocol_peer_default;
  partial_scope_limits peer_default;
  partial_scope_limits conn;
  partial_scope_limits stream;
  std::map<std::string, partial_scope_limits> service;       // by service name
  std::map<std::string, partial_scope_limits> service_peer;  // by service name
  std::map<std::string, partial_scope_limits> protocol;      // by protocol id
  std::map<std::string, partial_scope_limits> protocol_peer; // by protocol id
  std::map<std::string, partial_scope_limits> peer;          // by peer id

  friend bool operator==(const scope_limit_document& a, const scope_limit_document& b);
  friend bool operator!=(const scope_limit_document& a, const scope_limit_document& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scope_limit_document& x) {
  return f(caf::meta::type_name("scope_limit_document"), x.system, x.transient,
           x.allowlisted_system, x.allowlisted_transient, x.service_default,
           x.service_peer_default, x.protocol_default, x.protocol_peer_default,
           x.peer_default, x.conn, x.stream, x.service, x.service_peer, x.protocol,
           x.protocol_peer, x.peer);
}

/// The limits of every scope class, resolved (go's ConcreteLimitConfig).
/// A name without its own entry takes its class's default.
struct scope_limit_config {
  scope_limits system;
  scope_limits transient;
  scope_limits allowlisted_system;
  scope_limits allowlisted_transient;
  scope_limits service_default;
  scope_limits service_peer_default;
  scope_limits protocol_default;
  scope_limits protocol_peer_default;
  scope_limits peer_default;
  scope_limits conn;
  scope_limits stream;
  std::map<std::string, scope_limits, std::less<>> service;
  std::map<std::string, scope_limits, std::less<>> service_peer;
  std::map<std::string, scope_limits, std::less<>> protocol;
  std::map<std::string, scope_limits, std::less<>> protocol_peer;
  std::map<std::string, scope_limits, std::less<>> peer;

  const scope_limits& service_limits(std::string_view name) const;
  const scope_limits& service_peer_limits(std::string_view name) const;
  const scope_limits& protocol_limits(std::string_view id) const;
  const scope_limits& protocol_peer_limits(std::string_view id) const;
  const scope_limits& peer_limits(std::string_view id) const;

  friend bool operator==(const scope_limit_config& a, const scope_limit_config& b);
  friend bool operator!=(const scope_limit_config& a, const scope_limit_config& b) {
    return !(a == b);
  }
};

/// "scopes_scale": what go's defaults are scaled by. "auto" (the default):
/// 1/8 of the effective memory and 1/2 of the RLIMIT_NOFILE soft limit, read
/// by the actor that owns the scopes (see scope_defaults.hpp, auto_scale).
struct scopes_scale_config {
  bool automatic = true;
  std::uint64_t memory_bytes = 0; // when !automatic
  std::uint64_t fds = 0;          // when !automatic

  friend bool operator==(const scopes_scale_config& a, const scopes_scale_config& b) {
    return a.automatic == b.automatic && a.memory_bytes == b.memory_bytes &&
           a.fds == b.fds;
  }
  friend bool operator!=(const scopes_scale_config& a, const scopes_scale_config& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scopes_scale_config& x) {
  return f(caf::meta::type_name("scopes_scale_config"), x.automatic, x.memory_bytes,
           x.fds);
}

/// Reads the value of "scopes"; `path` is where it sits ("/scopes"), so
/// errors name e.g. "/scopes/Peer/QmX/Memory".
result<scope_limit_document> parse_scope_config(const nlohmann::json& doc,
                                                std::string path);

/// Reads the value of "scopes_scale": "auto" or {"memory_bytes": N, "fds": N}.
result<scopes_scale_config> parse_scopes_scale(const nlohmann::json& doc,
                                               std::string path);

/// The document in go's own form (what go's json.Marshal writes): default
/// fields and sections left out, map entries kept even when empty, Memory as
/// a decimal string. parse_scope_config(to_json(d), p) gives d back.
nlohmann::json to_json(const scope_limit_document& x);

/// "auto" or {"memory_bytes": N, "fds": N}.
nlohmann::json to_json(const scopes_scale_config& x);

/// A scope's limits in the dump: {conns, conns_inbound, conns_outbound,
/// streams, streams_inbound, streams_outbound, fd, memory}, each a number or
/// "unlimited".
nlohmann::json to_json(const scope_limits& x);

} // namespace rcmgr
