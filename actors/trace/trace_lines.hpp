// The lines of the decision trace (DESIGN §6.3, docs/trace.md): each input
// that decided something, in the replay contract's event form, with its time
// and the verdict it got. Plain C++: no CAF, no clock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/batches.hpp"
#include "messages/json.hpp"
#include "messages/time.hpp"
#include "messages/verdict.hpp"

namespace rcmgr {

/// One trace line: `{"t":MS,"t_ns":NS,"event":...,<the event's fields>,
/// "verdict":...,<"denial" | "error" | "would_deny">}`. `t` is the time since
/// the trace began in whole ms (the replay contract's `t`), `t_ns` the same
/// time exactly, in ns: replay moves its clock to `t_ns`, so a verdict that
/// depends on nanoseconds (a rate limit's retry_after_ms) comes out the same.
std::string trace_line(time_ns since_start, const nlohmann::json& event,
                       const verdict& v);

/// An event in the replay form (to_json(input_event)), with the cgroup
/// figures of a memory sample that has them.
nlohmann::json trace_event_json(const input_event& ev);

/// The watcher's block of a peer until `until` (ns since the trace began):
/// `{"event":"peer_blocked","peer":P,"until_ns":N}`, an event replay takes
/// in addition to DESIGN §5's.
nlohmann::json peer_blocked_json(const peer_id& peer, time_ns until);

/// Entry `e` of a batch as the typed event it stands for; none when its
/// references fall outside the batch (a bad entry decides nothing).
std::optional<input_event> batch_entry_event(const text_table& texts,
                                             const std::vector<text_ref>& lists,
                                             const batch_event& e);

} // namespace rcmgr
