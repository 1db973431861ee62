#include "messages/json.hpp"

#include <cmath>
#include <set>

#include "messages/config_json.hpp"

namespace rcmgr {

using json = nlohmann::json;

result<json> parse_json_text(std::string_view text) {
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    return result<json>::failure("not valid JSON (a NUL byte at offset " +
                                 std::to_string(nul) + ")");
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return result<json>::failure("not valid JSON");
  return j;
}

json to_json(const denial& x) {
  json j{{"code", to_string(x.code)}};
  switch (x.code) {
  case denial_code::connection_limit:
    j["kind"] = to_string(x.kind);
    j["limit"] = x.limit;
    j["current"] = x.current;
    j["conn"] = x.conn;
    if (!x.peer.empty())
      j["peer"] = x.peer;
    break;
  case denial_code::memory_limit:
    j["process_bytes"] = x.process_bytes;
    j["max_bytes"] = x.max_bytes;
    break;
  case denial_code::rate_limit:
    j["protocol"] = x.protocol;
    j["peer"] = x.peer;
    j["scope"] = to_string(x.scope);
    if (x.exceeds_burst) {
      // The cost can never fit: there is no time after which a retry helps.
      j["exceeds_burst"] = true;
      j["cost"] = x.cost;
      j["burst"] = x.burst;
    } else {
      j["retry_after_ms"] = x.retry_after_ms;
    }
    break;
  case denial_code::blocked:
    j["peer"] = x.peer;
    break;
  case denial_code::scope_limit:
    j["scope"] = x.scope_name;
    j["resource"] = to_string(x.resource);
    j["limit"] = x.limit;
    j["current"] = x.current;
    j["attempted"] = x.attempted;
    if (x.has_dir)
      j["dir"] = to_string(x.dir);
    if (x.has_priority)
      j["priority"] = x.priority;
    if (x.has_conn)
      j["conn"] = x.conn;
    if (x.has_stream)
      j["stream"] = x.stream;
    if (!x.peer.empty())
      j["peer"] = x.peer;
    if (!x.protocol.empty())
      j["protocol"] = x.protocol;
    if (!x.service.empty())
      j["service"] = x.service;
    break;
  case denial_code::ip_limit:
    j["ip"] = x.ip;
    j["prefix"] = x.prefix;
    j["limit"] = x.limit;
    j["current"] = x.current;
    j["conn"] = x.conn;
    break;
  case denial_code::attempt_rate:
    j["ip"] = x.ip;
    j["prefix"] = x.prefix;
    j["retry_after_ms"] = x.retry_after_ms;
    j["conn"] = x.conn;
    break;
  }
  return j;
}

namespace {

/// Reads the fields of a denial; a field present with the wrong type is an
/// error naming it.
class denial_reader {
public:
  explicit denial_reader(const json& j) : j_(j) {}

  void u64(const char* key, std::uint64_t& out) {
    if (auto v = find(key)) {
      if (!v->is_number_unsigned())
        fail(std::string{"field '"} + key + "' must be a non-negative integer");
      else
        out = v->get<std::uint64_t>();
    }
  }

  void str(const char* key, std::string& out) {
    if (auto v = find(key)) {
      if (!v->is_string())
        fail(std::string{"field '"} + key + "' must be a string");
      else
        out = v->get<std::string>();
    }
  }

  void boolean(const char* key, bool& out) {
    if (auto v = find(key)) {
      if (!v->is_boolean())
        fail(std::string{"field '"} + key + "' must be true or false");
      else
        out = v->get<bool>();
    }
  }

  /// Whether the field is there (with any type).
  bool has(const char* key) const { return find(key) != nullptr; }

  /// The first error, if any.
  const std::optional<std::string>& error() const { return error_; }

  void fail(std::string why) {
    if (!error_)
      error_ = std::move(why);
  }

private:
  const json* find(const char* key) const {
    auto i = j_.find(key);
    return i == j_.end() ? nullptr : &*i;
  }

  const json& j_;
  std::optional<std::string> error_;
};

/// The fields of a scope_limit denial.
void read_scope_limit(denial_reader& r, denial& d) {
  r.str("scope", d.scope_name);
  if (auto kind = scope_class_of(d.scope_name))
    d.scope_kind = *kind;
  else if (!r.error())
    r.fail("unknown scope '" + d.scope_name + "'");
  std::string resource;
  r.str("resource", resource);
  bool known = false;
  for (std::size_t i = 0; i < scope_resource_count; ++i)
    if (to_string(static_cast<scope_resource>(i)) == resource) {
      d.resource = static_cast<scope_resource>(i);
      known = true;
    }
  if (!known && !r.error())
    r.fail("unknown scope_limit resource '" + resource + "'");
  r.u64("limit", d.limit);
  r.u64("current", d.current);
  r.u64("attempted", d.attempted);
  if (r.has("dir")) {
    std::string dir;
    r.str("dir", dir);
    d.has_dir = true;
    if (dir == "outbound")
      d.dir = direction::outbound;
    else if (dir != "inbound" && !r.error())
      r.fail("field 'dir' must be \"inbound\" or \"outbound\"");
  }
  if (r.has("priority")) {
    std::uint64_t priority = 0;
    r.u64("priority", priority);
    if (priority > 255 && !r.error())
      r.fail("field 'priority' must be at most 255");
    d.has_priority = true;
    d.priority = static_cast<std::uint8_t>(priority);
  }
  if (r.has("conn")) {
    d.has_conn = true;
    r.u64("conn", d.conn);
  }
  if (r.has("stream")) {
    d.has_stream = true;
    r.u64("stream", d.stream);
  }
  r.str("peer", d.peer);
  r.str("protocol", d.protocol);
  r.str("service", d.service);
}

} // namespace

result<denial> denial_from_json(const json& j) {
  if (!j.is_object())
    return result<denial>::failure("a denial is a JSON object");
  auto code_field = j.find("code");
  if (code_field == j.end() || !code_field->is_string())
    return result<denial>::failure("a denial needs a string field 'code'");
  auto code = code_field->get<std::string>();
  denial d;
  denial_reader r{j};
  if (code == "connection_limit") {
    d.code = denial_code::connection_limit;
    std::string kind;
    r.str("kind", kind);
    bool found = false;
    for (auto k : {limit_kind::pending_inbound, limit_kind::pending_outbound,
                   limit_kind::established_inbound, limit_kind::established_outbound,
                   limit_kind::established_per_peer, limit_kind::established_total})
      if (to_string(k) == kind) {
        d.kind = k;
        found = true;
      }
    if (!found && !r.error())
      return result<denial>::failure("unknown connection_limit kind '" + kind + "'");
    r.u64("limit", d.limit);
    r.u64("current", d.current);
    r.u64("conn", d.conn);
    r.str("peer", d.peer);
  } else if (code == "memory_limit") {
    d.code = denial_code::memory_limit;
    r.u64("process_bytes", d.process_bytes);
    r.u64("max_bytes", d.max_bytes);
  } else if (code == "rate_limit") {
    d.code = denial_code::rate_limit;
    r.str("protocol", d.protocol);
    r.str("peer", d.peer);
    std::string scope;
    r.str("scope", scope);
    d.scope = scope == "per_peer" ? rate_scope::per_peer : rate_scope::total;
    r.u64("retry_after_ms", d.retry_after_ms);
    r.boolean("exceeds_burst", d.exceeds_burst);
    r.u64("cost", d.cost);
    r.u64("burst", d.burst);
  } else if (code == "blocked") {
    d.code = denial_code::blocked;
    r.str("peer", d.peer);
  } else if (code == "scope_limit") {
    d.code = denial_code::scope_limit;
    read_scope_limit(r, d);
  } else if (code == "ip_limit") {
    d.code = denial_code::ip_limit;
    r.str("ip", d.ip);
    r.str("prefix", d.prefix);
    r.u64("limit", d.limit);
    r.u64("current", d.current);
    r.u64("conn", d.conn);
  } else if (code == "attempt_rate") {
    d.code = denial_code::attempt_rate;
    r.str("ip", d.ip);
    r.str("prefix", d.prefix);
    r.u64("retry_after_ms", d.retry_after_ms);
    r.u64("conn", d.conn);
  } else {
    return result<denial>::failure("unknown denial code '" + code + "'");
  }
  if (r.error())
    return result<denial>::failure(*r.error());
  return d;
}

json to_json(const verdict& x) {
  json j{{"verdict", to_string(x.kind)}};
  if (x.kind == verdict_kind::deny)
    j["denial"] = to_json(x.why);
  else if (auto would = x.would())
    j["would_deny"] = to_json(*would);
  else if (x.kind == verdict_kind::error)
    j["error"] = x.error;
  return j;
}

json to_json(const connection_record& x) {
  json j{{"conn", x.conn},
         {"state", to_string(x.state)},
         {"direction", to_string(x.dir)},
         {"peer", x.peer},
         {"local", x.local},
         {"remote", x.remote},
         {"bypassed", x.bypassed}};
  j["pending_at_ms"] = x.pending_at < 0 ? json(nullptr) : json(x.pending_at / 1000000);
  j["established_at_ms"] =
      x.established_at < 0 ? json(nullptr) : json(x.established_at / 1000000);
  return j;
}

json to_json(const admission_counts& x) {
  return json{{"pending_inbound", x.pending_inbound},
              {"pending_outbound", x.pending_outbound},
              {"established_inbound", x.established_inbound},
              {"established_outbound", x.established_outbound},
              {"bypassed", x.bypassed}};
}

json to_json(const memory_sample& x) {
  json j{{"rss", x.rss}, {"total", x.total}, {"at_ms", x.at / 1000000}};
  if (x.cgroup_limit > 0) {
    j["cgroup_limit"] = x.cgroup_limit;
    j["cgroup_usage"] = x.cgroup_usage;
  }
  return j;
}

// -- input events -------------------------------------------------------------

namespace {

/// Thrown inside the event parser only.
struct bad_event {
  std::string why;
};

/// Reads the fields of one event object; remembers which it used so that
/// any other field is reported as unknown.
class field_reader {
public:
  explicit field_reader(const json& j) : j_(j) {}

  const json* find(const char* key) {
    used_.insert(key);
    auto i = j_.find(key);
    return i == j_.end() ? nullptr : &*i;
  }

  std::uint64_t u64(const char* key) {
    auto v = find(key);
    if (!v)
      throw bad_event{std::string{"missing field '"} + key + "'"};
    return as_u64(*v, key);
  }

  std::uint64_t u64_or(const char* key, std::uint64_t fallback) {
    auto v = find(key);
    return v ? as_u64(*v, key) : fallback;
  }

  std::string str(const char* key) {
    auto v = find(key);
    if (!v)
      throw bad_event{std::string{"missing field '"} + key + "'"};
    return as_str(*v, key);
  }

  std::string str_or(const char* key, std::string fallback) {
    auto v = find(key);
    return v ? as_str(*v, key) : fallback;
  }

  bool boolean_or(const char* key, bool fallback) {
    auto v = find(key);
    if (!v)
      return fallback;
    if (!v->is_boolean())
      throw bad_event{std::string{"field '"} + key + "' must be true or false"};
    return v->get<bool>();
  }

  std::vector<std::string> strings(const char* key) {
    auto v = find(key);
    if (!v)
      return {};
    if (!v->is_array())
      throw bad_event{std::string{"field '"} + key + "' must be an array of strings"};
    std::vector<std::string> out;
    for (auto& e : *v) {
      if (!e.is_string())
        throw bad_event{std::string{"field '"} + key + "' must be an array of strings"};
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  void reject_unknown() const {
    for (auto& [key, value] : j_.items())
      if (used_.count(key) == 0)
        throw bad_event{"unknown field '" + key + "'"};
  }

private:
  static std::uint64_t as_u64(const json& v, const char* key) {
    if (!v.is_number_unsigned())
      throw bad_event{std::string{"field '"} + key + "' must be a non-negative integer"};
    return v.get<std::uint64_t>();
  }

  static std::string as_str(const json& v, const char* key) {
    if (!v.is_string())
      throw bad_event{std::string{"field '"} + key + "' must be a string"};
    return v.get<std::string>();
  }

  const json& j_;
  std::set<std::string> used_;
};

peer_id required_peer(field_reader& r) {
  auto p = r.str("peer");
  if (p.empty())
    throw bad_event{"field 'peer' must not be empty"};
  return p;
}

std::string required_text(field_reader& r, const char* key) {
  auto s = r.str(key);
  if (s.empty())
    throw bad_event{std::string{"field '"} + key + "' must not be empty"};
  return s;
}

/// A memory event's scope: "conn-<n>" or "stream-<n>".
std::string holder_scope(field_reader& r) {
  auto s = r.str("scope");
  if (!parse_holder_name(s))
    throw bad_event{"field 'scope' must be \"conn-<n>\" or \"stream-<n>\""};
  return s;
}

direction required_direction(field_reader& r) {
  auto d = r.str("dir");
  if (d == "inbound")
    return direction::inbound;
  if (d == "outbound")
    return direction::outbound;
  throw bad_event{"field 'dir' must be \"inbound\" or \"outbound\""};
}

input_event read_event(const std::string& name, field_reader& r) {
  if (name == "config") {
    auto v = r.find("config");
    if (!v)
      throw bad_event{"missing field 'config'"};
    auto res = parse_config(*v);
    if (!res)
      throw bad_event{"config" + res.error().text()};
    return std::move(*res);
  }
  if (name == "pending_inbound") {
    pending_inbound ev;
    ev.conn = r.u64("conn");
    ev.local = r.str_or("local", "");
    ev.remote = r.str_or("remote", "");
    ev.usefd = r.boolean_or("usefd", true);
    return ev;
  }
  if (name == "established_inbound") {
    established_inbound ev;
    ev.conn = r.u64("conn");
    ev.peer = required_peer(r);
    ev.local = r.str_or("local", "");
    ev.remote = r.str_or("remote", "");
    ev.usefd = r.boolean_or("usefd", true);
    return ev;
  }
  if (name == "pending_outbound") {
    pending_outbound ev;
    ev.conn = r.u64("conn");
    ev.peer = r.str_or("peer", "");
    auto addresses = r.strings("addresses");
    ev.addresses.assign(addresses.begin(), addresses.end());
    ev.usefd = r.boolean_or("usefd", true);
    return ev;
  }
  if (name == "established_outbound") {
    established_outbound ev;
    ev.conn = r.u64("conn");
    ev.peer = required_peer(r);
    ev.address = r.str_or("address", "");
    ev.usefd = r.boolean_or("usefd", true);
    return ev;
  }
  if (name == "stream_opened") {
    stream_opened ev;
    ev.stream = r.u64("stream");
    ev.peer = required_peer(r);
    ev.dir = required_direction(r);
    if (r.find("conn")) {
      ev.has_conn = true;
      ev.conn = r.u64("conn");
    }
    return ev;
  }
  if (name == "stream_protocol")
    return stream_protocol{r.u64("stream"), required_text(r, "protocol")};
  if (name == "stream_service")
    return stream_service{r.u64("stream"), required_text(r, "service")};
  if (name == "stream_closed")
    return stream_closed{r.u64("stream")};
  if (name == "reserve_memory") {
    reserve_memory ev;
    ev.scope = holder_scope(r);
    ev.bytes = r.u64("bytes");
    auto priority = r.u64_or("priority", 255);
    if (priority > 255)
      throw bad_event{"field 'priority' must be at most 255"};
    ev.priority = static_cast<std::uint8_t>(priority);
    return ev;
  }
  if (name == "release_memory") {
    release_memory ev;
    ev.scope = holder_scope(r);
    ev.bytes = r.u64("bytes");
    return ev;
  }
  if (name == "dial_failure")
    return dial_failure{r.u64("conn")};
  if (name == "listen_failure")
    return listen_failure{r.u64("conn")};
  if (name == "connection_closed") {
    connection_closed ev;
    ev.conn = r.u64("conn");
    ev.peer = r.str_or("peer", "");
    ev.reason = r.str_or("reason", "");
    return ev;
  }
  if (name == "bypass_peer")
    return bypass_peer{required_peer(r)};
  if (name == "remove_bypass")
    return remove_bypass{required_peer(r)};
  if (name == "protocol_message") {
    protocol_message ev;
    ev.conn = r.u64("conn");
    ev.peer = required_peer(r);
    ev.protocol = r.str("protocol");
    if (ev.protocol.empty())
      throw bad_event{"field 'protocol' must not be empty"};
    ev.cost = r.u64_or("cost", 1);
    if (ev.cost == 0)
      throw bad_event{"field 'cost' must be at least 1"};
    return ev;
  }
  if (name == "memory_sample") {
    memory_sample ev;
    ev.rss = r.u64("rss");
    ev.total = r.u64("total");
    ev.cgroup_limit = r.u64_or("cgroup_limit", 0);
    ev.cgroup_usage = r.u64_or("cgroup_usage", 0);
    return ev;
  }
  if (name == "advance")
    return advance_clock{r.u64("ms")};
  if (name == "dump")
    return dump_request{};
  throw bad_event{"unknown event '" + name + "'"};
}

} // namespace

parsed_event parse_event(const json& j) {
  std::string name;
  try {
    if (!j.is_object())
      throw bad_event{"expected a JSON object"};
    field_reader r{j};
    auto ev = r.find("event");
    if (!ev || !ev->is_string())
      throw bad_event{"missing field 'event' (a string)"};
    name = ev->get<std::string>();
    timed_event out;
    if (r.find("t"))
      out.t = r.u64("t");
    out.event = read_event(name, r);
    r.reject_unknown();
    return {std::move(name), std::move(out)};
  } catch (bad_event& e) {
    return {std::move(name), result<timed_event>::failure(std::move(e.why))};
  }
}

parsed_event parse_event_line(const std::string& line) {
  auto j = parse_json_text(line);
  if (!j)
    return {"", j.error()};
  return parse_event(*j);
}

namespace {

struct event_to_json {
  json operator()(const node_config& x) const {
    return {{"event", "config"}, {"config", rcmgr::to_json(x)}};
  }
  // `usefd` is written only when false (its default is true).
  static json with_usefd(json j, bool usefd) {
    if (!usefd)
      j["usefd"] = false;
    return j;
  }
  json operator()(const pending_inbound& x) const {
    return with_usefd({{"event", "pending_inbound"},
                       {"conn", x.conn},
                       {"local", x.local},
                       {"remote", x.remote}},
                      x.usefd);
  }
  json operator()(const established_inbound& x) const {
    return with_usefd({{"event", "established_inbound"},
                       {"conn", x.conn},
                       {"peer", x.peer},
                       {"local", x.local},
                       {"remote", x.remote}},
                      x.usefd);
  }
  json operator()(const pending_outbound& x) const {
    json j{{"event", "pending_outbound"}, {"conn", x.conn}, {"addresses", x.addresses}};
    if (!x.peer.empty())
      j["peer"] = x.peer;
    return with_usefd(std::move(j), x.usefd);
  }
  json operator()(const established_outbound& x) const {
    return with_usefd({{"event", "established_outbound"},
                       {"conn", x.conn},
                       {"peer", x.peer},
                       {"address", x.address}},
                      x.usefd);
  }
  json operator()(const stream_opened& x) const {
    json j{{"event", "stream_opened"},
           {"stream", x.stream},
           {"peer", x.peer},
           {"dir", to_string(x.dir)}};
    if (x.has_conn)
      j["conn"] = x.conn;
    return j;
  }
  json operator()(const stream_protocol& x) const {
    return {{"event", "stream_protocol"}, {"stream", x.stream}, {"protocol", x.protocol}};
  }
  json operator()(const stream_service& x) const {
    return {{"event", "stream_service"}, {"stream", x.stream}, {"service", x.service}};
  }
  json operator()(const stream_closed& x) const {
    return {{"event", "stream_closed"}, {"stream", x.stream}};
  }
  json operator()(const reserve_memory& x) const {
    return {{"event", "reserve_memory"},
            {"scope", x.scope},
            {"bytes", x.bytes},
            {"priority", x.priority}};
  }
  json operator()(const release_memory& x) const {
    return {{"event", "release_memory"}, {"scope", x.scope}, {"bytes", x.bytes}};
  }
  json operator()(const dial_failure& x) const {
    return {{"event", "dial_failure"}, {"conn", x.conn}};
  }
  json operator()(const listen_failure& x) const {
    return {{"event", "listen_failure"}, {"conn", x.conn}};
  }
  json operator()(const connection_closed& x) const {
    json j{{"event", "connection_closed"}, {"conn", x.conn}};
    if (!x.peer.empty())
      j["peer"] = x.peer;
    if (!x.reason.empty())
      j["reason"] = x.reason;
    return j;
  }
  json operator()(const bypass_peer& x) const {
    return {{"event", "bypass_peer"}, {"peer", x.peer}};
  }
  json operator()(const remove_bypass& x) const {
    return {{"event", "remove_bypass"}, {"peer", x.peer}};
  }
  json operator()(const protocol_message& x) const {
    return {{"event", "protocol_message"},
            {"conn", x.conn},
            {"peer", x.peer},
            {"protocol", x.protocol},
            {"cost", x.cost}};
  }
  json operator()(const memory_sample& x) const {
    return {{"event", "memory_sample"}, {"rss", x.rss}, {"total", x.total}};
  }
  json operator()(const advance_clock& x) const {
    return {{"event", "advance"}, {"ms", x.ms}};
  }
  json operator()(const dump_request&) const { return {{"event", "dump"}}; }
};

} // namespace

json to_json(const input_event& ev) {
  return std::visit(event_to_json{}, ev);
}

} // namespace rcmgr
