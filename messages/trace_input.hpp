// A line of replay's input as a decision trace writes it (docs/trace.md): a
// DESIGN §5 event, with what a trace line holds besides: `t_ns`, its verdict,
// and the watcher's `peer_blocked`. Plain C++: no CAF actor, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/events.hpp"
#include "messages/json.hpp"

namespace rcmgr {

/// The fields a line's verdict has (replay's output, and a trace line's).
inline constexpr const char* verdict_fields[] = {"verdict", "denial", "error",
                                                 "would_deny"};

/// What a line holds besides a DESIGN §5 event (docs/trace.md): `t_ns`, the
/// exact time; a trace's expected verdict (--expect); the watcher's
/// `peer_blocked`, which DESIGN §5 has no event for.
struct line_extras {
  std::optional<std::uint64_t> t_ns;
  std::optional<nlohmann::json> expected;
  std::optional<peer_blocked> block; // `until`: ns since the replay began
};

/// Parses one line (any bytes; never throws): the fields of line_extras are taken out,
/// the rest is a DESIGN §5 event (parse_event), or a `peer_blocked` {peer, until_ns |
/// until_ms} (its event is a stand-in: `extras.block` says what the line is). `expect`: a
/// trace's verdict fields go to `extras.expected` (else they are the event's, and refused
/// as unknown fields). `extras` is reset first.
parsed_event parse_trace_input(const std::string& line, bool expect, line_extras& extras);

} // namespace rcmgr
