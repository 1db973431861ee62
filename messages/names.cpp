// Names of the enums (used by JSON, logs and CAF's to_string) and the
// denial constructors.
#include "messages/config.hpp"
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
  }
  return "unknown";
}

bool operator==(const denial& a, const denial& b) {
  return a.code == b.code && a.kind == b.kind && a.limit == b.limit &&
         a.current == b.current && a.conn == b.conn && a.peer == b.peer &&
         a.process_bytes == b.process_bytes && a.max_bytes == b.max_bytes &&
         a.protocol == b.protocol && a.scope == b.scope &&
         a.retry_after_ms == b.retry_after_ms && a.exceeds_burst == b.exceeds_burst &&
         a.cost == b.cost && a.burst == b.burst;
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

} // namespace rcmgr
