// Resource accounting at one scope and along a path of scopes (DESIGN §6.1):
// plain C++, no CAF, no clock.
//
// A reservation names what it adds (a connection, a stream, memory, or all
// that a connection or stream holds when it moves into new scopes) and is
// checked at every scope of its path in order; it is applied to all of them
// only when every one allows it, so nothing is ever partly charged.
//
// At one scope the checks run in go-libp2p's order: memory first (a move
// checks it at priority 255), then streams (the direction's limit when the
// request has a stream of that direction, then the total), then connections
// (the direction's limit, the total, then FD when the request uses one).
// A count check refuses when current + attempted > limit. Memory is allowed
// when current + size <= limit * (priority + 1) / 256, computed without
// overflow; an unlimited limit allows any size whose sum still fits go's
// int64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "messages/ids.hpp"
#include "messages/scope_config.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// go's reservation priorities (network.ReservationPriority*).
inline constexpr std::uint8_t priority_low = 101;
inline constexpr std::uint8_t priority_medium = 152;
inline constexpr std::uint8_t priority_high = 203;
inline constexpr std::uint8_t priority_always = 255;

/// What a scope holds.
struct scope_usage {
  std::uint64_t conns_inbound = 0;
  std::uint64_t conns_outbound = 0;
  std::uint64_t streams_inbound = 0;
  std::uint64_t streams_outbound = 0;
  std::uint64_t fd = 0;
  std::uint64_t memory = 0;

  /// Connections and streams: what keeps a scope alive.
  std::uint64_t holders() const {
    return conns_inbound + conns_outbound + streams_inbound + streams_outbound;
  }
  bool is_zero() const { return holders() == 0 && fd == 0 && memory == 0; }

  scope_usage& operator+=(const scope_usage& x);
  /// Each field clamps at 0.
  scope_usage& operator-=(const scope_usage& x);
  friend bool operator==(const scope_usage& a, const scope_usage& b);
  friend bool operator!=(const scope_usage& a, const scope_usage& b) { return !(a == b); }
};

/// Usage of one connection or one stream as its own scope.
scope_usage conn_usage(direction dir, bool usefd, std::uint64_t memory);
scope_usage stream_usage(direction dir, std::uint64_t memory);

/// What one reservation adds, and which groups of checks it runs.
struct scope_request {
  scope_usage delta;
  std::uint8_t priority = priority_always; // for the memory check
  bool check_memory = false;
  bool check_streams = false;
  bool check_conns = false;

  /// A new connection (go's AddConn).
  static scope_request conn(direction dir, bool usefd);
  /// A new stream (go's AddStream).
  static scope_request stream(direction dir);
  /// A memory reservation (go's ReserveMemory).
  static scope_request memory(std::uint64_t bytes, std::uint8_t priority);
  /// Everything a connection or stream holds, moving into a scope (go's
  /// ReserveForChild): every check, memory at priority 255.
  static scope_request move(const scope_usage& held);
};

/// Why one scope refused.
struct scope_refusal {
  scope_resource resource = scope_resource::conns;
  std::uint64_t limit = 0;     // the configured limit (for memory too)
  std::uint64_t current = 0;   // what the scope held
  std::uint64_t attempted = 0; // what the request added
};

/// The largest memory a scope may hold for a reservation at `priority`:
/// floor(limit * (priority + 1) / 256), exact for every limit.
std::uint64_t memory_threshold(std::uint64_t limit, std::uint8_t priority);

/// Whether a scope holding `current` bytes under `limit` may take `size` more.
bool memory_allowed(std::uint64_t current, std::uint64_t size, std::uint64_t limit,
                    std::uint8_t priority);

/// The checks of one request at one scope, in go's order.
std::optional<scope_refusal> check(const scope_usage& use, const scope_limits& limits,
                                   const scope_request& request);

/// A scope: what it holds under which limits.
struct scope_node {
  scope_usage use;
  const scope_limits* limits = nullptr;
};

/// Where on a path a reservation was refused, and why.
struct path_refusal {
  std::size_t index = 0;
  scope_refusal why;
};

/// What a reservation along a path did.
struct reserve_outcome {
  bool applied = false;
  /// The first scope in path order that refused (in a dry run too).
  std::optional<path_refusal> refusal;
};

/// Checks `request` at path[0], path[1], ... in order; when all allow, adds
/// its delta to every one. `force` (dry run) adds it even when a check
/// refuses, and still reports the first refusal; a sum that would not fit
/// go's int64 is never added.
reserve_outcome reserve(scope_node* const* path, std::size_t size,
                        const scope_request& request, bool force = false);

/// Takes `delta` away from every scope of the path (clamping at 0).
void release(scope_node* const* path, std::size_t size, const scope_usage& delta);

} // namespace rcmgr
