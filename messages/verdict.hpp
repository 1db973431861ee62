// Verdicts and denials (DESIGN §5): every denial carries its reason as data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <caf/meta/type_name.hpp>

#include "messages/ids.hpp"

namespace rcmgr {

enum class denial_code : std::uint8_t {
  connection_limit,
  memory_limit,
  rate_limit,
  blocked,
  scope_limit,
  ip_limit,
  attempt_rate
};

/// Which connection limit a `connection_limit` denial hit.
enum class limit_kind : std::uint8_t {
  pending_inbound,
  pending_outbound,
  established_inbound,
  established_outbound,
  established_per_peer,
  established_total,
};

enum class rate_scope : std::uint8_t { total, per_peer };

/// The classes of resource scopes (DESIGN §6.1), for `scope_limit` denials
/// and the dump's `blocked` counts.
enum class scope_class : std::uint8_t {
  system,
  transient,
  allowlisted_system,
  allowlisted_transient,
  peer,
  protocol,
  protocol_peer,
  service,
  service_peer,
  conn,
  stream,
};
inline constexpr std::size_t scope_class_count = 11;

/// What a scope limits.
enum class scope_resource : std::uint8_t {
  conns_inbound,
  conns_outbound,
  conns,
  streams_inbound,
  streams_outbound,
  streams,
  fd,
  memory,
};
inline constexpr std::size_t scope_resource_count = 8;

std::string to_string(denial_code x);
std::string to_string(limit_kind x);
std::string to_string(rate_scope x);
std::string to_string(scope_class x);
std::string to_string(scope_resource x);

/// The class of a scope named as in a denial ("system", "peer:QmX",
/// "protocol:/x.peer:QmX", "conn-4", ...); nothing for any other text.
std::optional<scope_class> scope_class_of(std::string_view scope);

/// One flat struct for every denial code; `code` says which fields apply:
/// - connection_limit: kind, limit, current, conn, peer (may be empty)
/// - memory_limit: process_bytes, max_bytes (and conn)
/// - rate_limit: protocol, peer, scope, retry_after_ms; when the cost can
///   never fit the bucket, `exceeds_burst` is set with `cost` and `burst`
/// - blocked: peer (and conn), retry_after_ms until the cooldown ends
/// - scope_limit (DESIGN §6.1): scope_name, scope_kind, resource, limit,
///   current, attempted; dir when has_dir, priority when has_priority, conn
///   when has_conn, stream when has_stream; peer, protocol, service when not
///   empty. `limit` is the refusing scope's configured limit.
/// - ip_limit (DESIGN §6.2): ip, prefix (the network prefix or subnet that
///   refused), limit, current, conn
/// - attempt_rate (DESIGN §6.2): ip, prefix (the bucket's prefix, "global"
///   for the global bucket), retry_after_ms, conn
struct denial {
  denial_code code = denial_code::connection_limit;
  limit_kind kind = limit_kind::pending_inbound;
  std::uint64_t limit = 0;
  std::uint64_t current = 0;
  connection_id conn = 0;
  peer_id peer;
  std::uint64_t process_bytes = 0;
  std::uint64_t max_bytes = 0;
  protocol_id protocol;
  rate_scope scope = rate_scope::total;
  std::uint64_t retry_after_ms = 0;
  bool exceeds_burst = false;
  std::uint64_t cost = 0;
  std::uint64_t burst = 0;
  // scope_limit
  std::string scope_name;
  scope_class scope_kind = scope_class::system;
  scope_resource resource = scope_resource::conns;
  std::uint64_t attempted = 0;
  stream_id stream = 0;
  std::string service;
  direction dir = direction::inbound;
  std::uint8_t priority = 0;
  bool has_dir = false;
  bool has_priority = false;
  bool has_conn = false;
  bool has_stream = false;
  // ip_limit, attempt_rate
  std::string ip;
  std::string prefix;

  friend bool operator==(const denial& a, const denial& b);
  friend bool operator!=(const denial& a, const denial& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, denial& x) {
  return f(caf::meta::type_name("denial"), x.code, x.kind, x.limit, x.current, x.conn,
           x.peer, x.process_bytes, x.max_bytes, x.protocol, x.scope, x.retry_after_ms,
           x.exceeds_burst, x.cost, x.burst, x.scope_name, x.scope_kind, x.resource,
           x.attempted, x.stream, x.service, x.dir, x.priority, x.has_dir, x.has_priority,
           x.has_conn, x.has_stream, x.ip, x.prefix);
}

denial connection_limit_denial(limit_kind kind, std::uint64_t limit,
                               std::uint64_t current, connection_id conn,
                               const peer_id& peer);
denial memory_limit_denial(std::uint64_t process_bytes, std::uint64_t max_bytes,
                           connection_id conn);
denial ip_limit_denial(std::string ip, std::string prefix, std::uint64_t limit,
                       std::uint64_t current, connection_id conn);
denial attempt_rate_denial(std::string ip, std::string prefix,
                           std::uint64_t retry_after_ms, connection_id conn);

/// allow / deny: the event was decided; ok: it decided nothing (a close, a
/// failure, a config update); error: bad input, nothing changed.
enum class verdict_kind : std::uint8_t { allow, deny, ok, error };
std::string to_string(verdict_kind x);

/// A denial held out of line. Most verdicts allow, and a batch's reply holds
/// one verdict per event: in place, a denial's 248 bytes made every verdict
/// that size, to be built, moved and destroyed. An empty box reads as a
/// default denial; `edit()` gives it one to write into.
class denial_box {
public:
  denial_box() = default;
  denial_box(denial d) : p_(std::make_unique<denial>(std::move(d))) {}
  denial_box(const denial_box& x)
      : p_(x.p_ ? std::make_unique<denial>(*x.p_) : nullptr) {}
  denial_box(denial_box&&) noexcept = default;
  denial_box& operator=(const denial_box& x) {
    if (this != &x)
      p_ = x.p_ ? std::make_unique<denial>(*x.p_) : nullptr;
    return *this;
  }
  denial_box& operator=(denial_box&&) noexcept = default;
  denial_box& operator=(denial d) {
    p_ = std::make_unique<denial>(std::move(d));
    return *this;
  }

  /// No denial was stored (reads see a default one).
  bool empty() const { return p_ == nullptr; }
  const denial& operator*() const { return p_ ? *p_ : none(); }
  const denial* operator->() const { return &**this; }
  /// The denial to write into, made when the box is empty. (Reads go
  /// through `*` and `->`, which never allocate.)
  denial& edit() {
    if (!p_)
      p_ = std::make_unique<denial>();
    return *p_;
  }
  operator const denial&() const { return **this; }

  friend bool operator==(const denial_box& a, const denial_box& b) { return *a == *b; }
  friend bool operator!=(const denial_box& a, const denial_box& b) { return !(a == b); }
  friend bool operator==(const denial_box& a, const denial& b) { return *a == b; }
  friend bool operator==(const denial& a, const denial_box& b) { return a == *b; }
  friend bool operator!=(const denial_box& a, const denial& b) { return !(*a == b); }
  friend bool operator!=(const denial& a, const denial_box& b) { return !(a == *b); }

private:
  static const denial& none();
  std::unique_ptr<denial> p_;
};

/// Saving reads the box (an empty one as a default denial) without filling it.
template <class Inspector>
typename std::enable_if<Inspector::reads_state, typename Inspector::result_type>::type
inspect(Inspector& f, const denial_box& x) {
  return f(const_cast<denial&>(*x));
}

template <class Inspector>
typename std::enable_if<Inspector::writes_state, typename Inspector::result_type>::type
inspect(Inspector& f, denial_box& x) {
  return f(x.edit());
}

struct verdict {
  verdict_kind kind = verdict_kind::ok;
  /// Dry run (DESIGN §6.3): allowed, but `why` is what a rule in dry run
  /// would have denied. (Next to `kind`, in its padding: a verdict stays 48
  /// bytes.)
  bool would_deny = false;
  denial_box why;    // when kind == deny, or allow with would_deny
  std::string error; // when kind == error

  static verdict allow() { return verdict{verdict_kind::allow, false, {}, {}}; }
  /// Allowed by a rule in dry run that would have denied with `d`.
  static verdict allow_but(denial d) {
    return verdict{verdict_kind::allow, true, std::move(d), {}};
  }
  static verdict ok() { return verdict{verdict_kind::ok, false, {}, {}}; }
  static verdict deny(denial d) {
    return verdict{verdict_kind::deny, false, std::move(d), {}};
  }
  static verdict fail(std::string text) {
    return verdict{verdict_kind::error, false, {}, std::move(text)};
  }
  bool allowed() const { return kind == verdict_kind::allow; }
  bool denied() const { return kind == verdict_kind::deny; }
  /// The would-denial of a dry-run allow; null otherwise.
  const denial* would() const {
    return kind == verdict_kind::allow && would_deny ? &*why : nullptr;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verdict& x) {
  return f(caf::meta::type_name("verdict"), x.kind, x.why, x.error, x.would_deny);
}

} // namespace rcmgr
