#include "messages/trace_input.hpp"

#include <algorithm>
#include <utility>

#include "messages/time.hpp"

namespace rcmgr {

namespace {

std::optional<std::uint64_t> take_u64(nlohmann::json& j, const char* key,
                                      std::string& why) {
  auto i = j.find(key);
  if (i == j.end())
    return std::nullopt;
  if (!i->is_number_unsigned()) {
    why = std::string{"field '"} + key + "' must be a non-negative integer";
    return std::nullopt;
  }
  auto v = i->get<std::uint64_t>();
  j.erase(i);
  return v;
}

} // namespace

parsed_event parse_trace_input(const std::string& line, bool expect,
                               line_extras& extras) {
  extras = line_extras{};
  if (line.find_first_not_of(" \t\r") == std::string::npos)
    return {{}, result<timed_event>::failure("empty line")};
  auto parsed = parse_json_text(line);
  if (!parsed)
    return {"", parsed.error()};
  auto& j = *parsed;
  if (!j.is_object())
    return parse_event(j);
  std::string name;
  if (auto e = j.find("event"); e != j.end() && e->is_string())
    name = e->get<std::string>();
  auto failure = [&](std::string why) {
    return parsed_event{name, result<timed_event>::failure(std::move(why))};
  };
  if (expect && j.contains("verdict")) {
    extras.expected = nlohmann::json::object();
    for (auto key : verdict_fields)
      if (auto i = j.find(key); i != j.end()) {
        (*extras.expected)[key] = *i;
        j.erase(i);
      }
  }
  std::string why;
  extras.t_ns = take_u64(j, "t_ns", why);
  if (!why.empty())
    return failure(why);
  if (name != "peer_blocked")
    return parse_event(j);
  // peer_blocked: the event parser's checks, in its order.
  timed_event out;
  out.event = advance_clock{0}; // a stand-in: extras.block is the event
  if (j.contains("t")) {
    out.t = take_u64(j, "t", why);
    if (!why.empty())
      return failure(why);
  }
  auto peer = j.find("peer");
  if (peer == j.end())
    return failure("missing field 'peer'");
  if (!peer->is_string())
    return failure("field 'peer' must be a string");
  if (peer->get<std::string>().empty())
    return failure("field 'peer' must not be empty");
  peer_blocked block{peer->get<std::string>(), 0};
  j.erase(peer);
  auto until_ns = take_u64(j, "until_ns", why);
  auto until_ms = why.empty() ? take_u64(j, "until_ms", why) : std::nullopt;
  if (!why.empty())
    return failure(why);
  if (until_ns && until_ms)
    return failure("fields 'until_ns' and 'until_ms' exclude each other");
  if (!until_ns && !until_ms)
    return failure("missing field 'until_ns'");
  block.until = until_ns ? static_cast<time_ns>(std::min<std::uint64_t>(
                               *until_ns, static_cast<std::uint64_t>(time_max)))
                         : ms_to_ns(*until_ms);
  j.erase("event");
  if (!j.empty())
    return failure("unknown field '" + j.begin().key() + "'");
  extras.block = std::move(block);
  return {name, std::move(out)};
}

} // namespace rcmgr
