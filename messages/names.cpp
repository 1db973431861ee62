// Names of the enums (used by JSON, logs and CAF's to_string) and the
// denial constructors.
#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "messages/outcomes.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

std::string to_string(direction x) {
  return x == direction::inbound ? "inbound" : "outbound";
}

std::string to_string(conn_state x) {
  return x == conn_state::pending ? "pending" : "established";
}

std::string to_string(stale_policy x) {
  return x == stale_policy::fail_open ? "fail_open" : "fail_closed";
}

std::string to_string(denial_code x) {
  switch (x) {
  case denial_code::connection_limit:
    return "connection_limit";
  case denial_code::memory_limit:
    return "memory_limit";
  case denial_code::rate_limit:
    return "rate_limit";
  case denial_code::blocked:
    return "blocked";
  case denial_code::scope_limit:
    return "scope_limit";
  case denial_code::ip_limit:
    return "ip_limit";
  case denial_code::attempt_rate:
    return "attempt_rate";
  }
  return "unknown";
}

std::string to_string(limit_kind x) {
  switch (x) {
  case limit_kind::pending_inbound:
    return "pending_inbound";
  case limit_kind::pending_outbound:
    return "pending_outbound";
  case limit_kind::established_inbound:
    return "established_inbound";
  case limit_kind::established_outbound:
    return "established_outbound";
  case limit_kind::established_per_peer:
    return "established_per_peer";
  case limit_kind::established_total:
    return "established_total";
  }
  return "unknown";
}

std::string to_string(rate_scope x) {
  return x == rate_scope::total ? "total" : "per_peer";
}

std::string to_string(scope_class x) {
  switch (x) {
  case scope_class::system:
    return "system";
  case scope_class::transient:
    return "transient";
  case scope_class::allowlisted_system:
    return "allowlisted_system";
  case scope_class::allowlisted_transient:
    return "allowlisted_transient";
  case scope_class::peer:
    return "peer";
  case scope_class::protocol:
    return "protocol";
  case scope_class::protocol_peer:
    return "protocol_peer";
  case scope_class::service:
    return "service";
  case scope_class::service_peer:
    return "service_peer";
  case scope_class::conn:
    return "conn";
  case scope_class::stream:
    return "stream";
  }
  return "unknown";
}

std::string to_string(scope_resource x) {
  switch (x) {
  case scope_resource::conns_inbound:
    return "conns_inbound";
  case scope_resource::conns_outbound:
    return "conns_outbound";
  case scope_resource::conns:
    return "conns";
  case scope_resource::streams_inbound:
    return "streams_inbound";
  case scope_resource::streams_outbound:
    return "streams_outbound";
  case scope_resource::streams:
    return "streams";
  case scope_resource::fd:
    return "fd";
  case scope_resource::memory:
    return "memory";
  }
  return "unknown";
}

std::optional<scope_class> scope_class_of(std::string_view scope) {
  auto starts = [&](std::string_view prefix) {
    return scope.substr(0, prefix.size()) == prefix && scope.size() > prefix.size();
  };
  for (auto c : {scope_class::system, scope_class::transient,
                 scope_class::allowlisted_system, scope_class::allowlisted_transient})
    if (scope == to_string(c))
      return c;
  if (starts("conn-"))
    return scope_class::conn;
  if (starts("stream-"))
    return scope_class::stream;
  if (starts("peer:"))
    return scope_class::peer;
  // A protocol id or service name may itself hold ".peer:"; the per-peer
  // scope's name ends with the last one.
  bool per_peer = scope.find(".peer:") != std::string_view::npos;
  if (starts("protocol:"))
    return per_peer ? scope_class::protocol_peer : scope_class::protocol;
  if (starts("service:"))
    return per_peer ? scope_class::service_peer : scope_class::service;
  return std::nullopt;
}

std::string to_string(verdict_kind x) {
  switch (x) {
  case verdict_kind::allow:
    return "allow";
  case verdict_kind::deny:
    return "deny";
  case verdict_kind::ok:
    return "ok";
  case verdict_kind::error:
    return "error";
  }
  return "unknown";
}

std::string to_string(event_kind x) {
  return std::string{event_kind_name(x)};
}

std::string_view event_kind_name(event_kind x) {
  switch (x) {
  case event_kind::pending_inbound:
    return "pending_inbound";
  case event_kind::pending_outbound:
    return "pending_outbound";
  case event_kind::established_inbound:
    return "established_inbound";
  case event_kind::established_outbound:
    return "established_outbound";
  case event_kind::dial_failure:
    return "dial_failure";
  case event_kind::listen_failure:
    return "listen_failure";
  case event_kind::connection_closed:
    return "connection_closed";
  case event_kind::stream_opened:
    return "stream_opened";
  case event_kind::stream_protocol:
    return "stream_protocol";
  case event_kind::stream_service:
    return "stream_service";
  case event_kind::stream_closed:
    return "stream_closed";
  case event_kind::reserve_memory:
    return "reserve_memory";
  case event_kind::release_memory:
    return "release_memory";
  }
  return "unknown";
}

std::optional<holder_ref> parse_holder_name(std::string_view name) {
  holder_ref h;
  std::string_view digits;
  if (name.substr(0, 5) == "conn-") {
    h.kind = holder_ref::kind_t::conn;
    digits = name.substr(5);
  } else if (name.substr(0, 7) == "stream-") {
    h.kind = holder_ref::kind_t::stream;
    digits = name.substr(7);
  } else {
    return std::nullopt;
  }
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10)
      return std::nullopt;
    n = n * 10 + d;
  }
  h.id = n;
  return h;
}

std::string holder_name(holder_ref h) {
  return (h.kind == holder_ref::kind_t::conn ? "conn-" : "stream-") +
         std::to_string(h.id);
}

bool operator==(const denial& a, const denial& b) {
  return a.code == b.code && a.kind == b.kind && a.limit == b.limit &&
         a.current == b.current && a.conn == b.conn && a.peer == b.peer &&
         a.process_bytes == b.process_bytes && a.max_bytes == b.max_bytes &&
         a.protocol == b.protocol && a.scope == b.scope &&
         a.retry_after_ms == b.retry_after_ms && a.exceeds_burst == b.exceeds_burst &&
         a.cost == b.cost && a.burst == b.burst && a.scope_name == b.scope_name &&
         a.scope_kind == b.scope_kind && a.resource == b.resource &&
         a.attempted == b.attempted && a.stream == b.stream && a.service == b.service &&
         a.dir == b.dir && a.priority == b.priority && a.has_dir == b.has_dir &&
         a.has_priority == b.has_priority && a.has_conn == b.has_conn &&
         a.has_stream == b.has_stream && a.ip == b.ip && a.prefix == b.prefix;
}

const denial& denial_box::none() {
  static const denial empty;
  return empty;
}

denial connection_limit_denial(limit_kind kind, std::uint64_t limit,
                               std::uint64_t current, connection_id conn,
                               const peer_id& peer) {
  denial d;
  d.code = denial_code::connection_limit;
  d.kind = kind;
  d.limit = limit;
  d.current = current;
  d.conn = conn;
  d.peer = peer;
  return d;
}

denial memory_limit_denial(std::uint64_t process_bytes, std::uint64_t max_bytes,
                           connection_id conn) {
  denial d;
  d.code = denial_code::memory_limit;
  d.process_bytes = process_bytes;
  d.max_bytes = max_bytes;
  d.conn = conn;
  return d;
}

denial ip_limit_denial(std::string ip, std::string prefix, std::uint64_t limit,
                       std::uint64_t current, connection_id conn) {
  denial d;
  d.code = denial_code::ip_limit;
  d.ip = std::move(ip);
  d.prefix = std::move(prefix);
  d.limit = limit;
  d.current = current;
  d.conn = conn;
  return d;
}

denial attempt_rate_denial(std::string ip, std::string prefix,
                           std::uint64_t retry_after_ms, connection_id conn) {
  denial d;
  d.code = denial_code::attempt_rate;
  d.ip = std::move(ip);
  d.prefix = std::move(prefix);
  d.retry_after_ms = retry_after_ms;
  d.conn = conn;
  return d;
}

} // namespace rcmgr
