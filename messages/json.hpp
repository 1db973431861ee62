// The JSON form of the messages: verdicts and denials as in the replay
// contract (DESIGN §5), events in and out, records.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "messages/config.hpp"
#include "messages/events.hpp"
#include "messages/outcomes.hpp"
#include "messages/result.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// JSON text the way every dump, verdict line and REJECT payload is written:
/// compact, and a string that is not valid UTF-8 (a protocol name or peer id
/// straight off the wire, or from an embedding program) gets U+FFFD for the
/// bad bytes instead of an exception in the middle of an actor or the io
/// thread.
/// (Any nlohmann::basic_json: ordered_json keeps its key order.)
template <class Json> std::string dump_text(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// Parses text that must be exactly one JSON value (a replay line, a config
/// document). A NUL byte anywhere is an error: nlohmann would read it as the
/// end of the input and accept `{}\0junk` as `{}`.
result<nlohmann::json> parse_json_text(std::string_view text);

nlohmann::json to_json(const denial& x);
/// {"verdict":"allow"} / {"verdict":"deny","denial":{...}} / {"verdict":"ok"}
/// / {"verdict":"error","error":TEXT}
nlohmann::json to_json(const verdict& x);
nlohmann::json to_json(const connection_record& x);
nlohmann::json to_json(const admission_counts& x);
nlohmann::json to_json(const memory_sample& x);

/// Reads a denial back (a REJECT frame's payload). Needs a known "code" (and
/// for connection_limit a known "kind"); a field of the denial that is there
/// with the wrong type is an error naming it; a missing one reads as 0 or "".
/// Never throws.
result<denial> denial_from_json(const nlohmann::json& j);

// -- input events (replay lines) ---------------------------------------------

/// Replay only: move the virtual clock forward.
struct advance_clock {
  std::uint64_t ms = 0;
};
/// Replay only: ask for the state dump.
struct dump_request {};

using input_event =
    std::variant<node_config, pending_inbound, established_inbound, pending_outbound,
                 established_outbound, dial_failure, listen_failure, connection_closed,
                 bypass_peer, remove_bypass, protocol_message, memory_sample,
                 advance_clock, dump_request, stream_opened, stream_protocol,
                 stream_service, stream_closed, reserve_memory, release_memory>;

/// An event with the virtual time its line gives.
struct timed_event {
  std::optional<std::uint64_t> t; // ms; absent: the event happens now
  input_event event;
};

/// One parsed line: the event, or what is wrong with the line (naming the
/// field), and its "event" name whenever the line has one, so an error line
/// can name its event too.
struct parsed_event {
  std::string name;
  result<timed_event> value;
};

/// Parses one event object. Unknown fields, missing fields and wrong types
/// are errors naming the field.
parsed_event parse_event(const nlohmann::json& j);
/// Parses one line: exactly one JSON value (see parse_json_text), an event.
parsed_event parse_event_line(const std::string& line);

nlohmann::json to_json(const input_event& ev);

} // namespace rcmgr
