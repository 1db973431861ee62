#include "messages/scope_config.hpp"

#include "messages/config_json.hpp"

#include <array>
#include <cctype>

namespace rcmgr {

using json = nlohmann::json;

// -- values --------------------------------------------------------------------

std::uint64_t limit_value::resolve(std::uint64_t default_limit) const {
  switch (kind) {
  case form::default_value:
    return default_limit;
  case form::unlimited:
    return scope_unlimited;
  case form::block_all:
    return 0;
  case form::number:
    return number;
  }
  return default_limit;
}

limit_value limit_value::of(std::uint64_t limit) {
  if (limit == 0)
    return {form::block_all, 0};
  if (limit >= scope_unlimited)
    return {form::unlimited, 0};
  return {form::number, limit};
}

namespace {

/// The eight fields in go's order, with their JSON and dump names.
struct field_info {
  const char* go_name;
  const char* dump_name;
  limit_value partial_scope_limits::*partial;
  std::uint64_t scope_limits::*resolved;
};

constexpr std::array<field_info, 8> fields{{
    {"Streams", "streams", &partial_scope_limits::streams, &scope_limits::streams},
    {"StreamsInbound", "streams_inbound", &partial_scope_limits::streams_inbound,
     &scope_limits::streams_inbound},
    {"StreamsOutbound", "streams_outbound", &partial_scope_limits::streams_outbound,
     &scope_limits::streams_outbound},
    {"Conns", "conns", &partial_scope_limits::conns, &scope_limits::conns},
    {"ConnsInbound", "conns_inbound", &partial_scope_limits::conns_inbound,
     &scope_limits::conns_inbound},
    {"ConnsOutbound", "conns_outbound", &partial_scope_limits::conns_outbound,
     &scope_limits::conns_outbound},
    {"FD", "fd", &partial_scope_limits::fd, &scope_limits::fd},
    {"Memory", "memory", &partial_scope_limits::memory, &scope_limits::memory},
}};

constexpr std::size_t memory_field = 7;

/// The plain sections, in go's order.
struct section_info {
  const char* go_name;
  partial_scope_limits scope_limit_document::*member;
};

constexpr std::array<section_info, 11> sections{{
    {"System", &scope_limit_document::system},
    {"Transient", &scope_limit_document::transient},
    {"AllowlistedSystem", &scope_limit_document::allowlisted_system},
    {"AllowlistedTransient", &scope_limit_document::allowlisted_transient},
    {"ServiceDefault", &scope_limit_document::service_default},
    {"ServicePeerDefault", &scope_limit_document::service_peer_default},
    {"ProtocolDefault", &scope_limit_document::protocol_default},
    {"ProtocolPeerDefault", &scope_limit_document::protocol_peer_default},
    {"PeerDefault", &scope_limit_document::peer_default},
    {"Conn", &scope_limit_document::conn},
    {"Stream", &scope_limit_document::stream},
}};

/// The sections keyed by name or id.
struct map_section_info {
  const char* go_name;
  std::map<std::string, partial_scope_limits> scope_limit_document::*member;
  const char* key_name; // for the error on an empty key
};

constexpr std::array<map_section_info, 5> map_sections{{
    {"Service", &scope_limit_document::service, "a service name"},
    {"ServicePeer", &scope_limit_document::service_peer, "a service name"},
    {"Protocol", &scope_limit_document::protocol, "a protocol id"},
    {"ProtocolPeer", &scope_limit_document::protocol_peer, "a protocol id"},
    {"Peer", &scope_limit_document::peer, "a peer id"},
}};

} // namespace

bool partial_scope_limits::is_default() const {
  for (auto& f : fields)
    if (!(this->*f.partial).is_default())
      return false;
  return true;
}

bool operator==(const partial_scope_limits& a, const partial_scope_limits& b) {
  for (auto& f : fields)
    if (a.*f.partial != b.*f.partial)
      return false;
  return true;
}

bool operator==(const scope_limits& a, const scope_limits& b) {
  for (auto& f : fields)
    if (a.*f.resolved != b.*f.resolved)
      return false;
  return true;
}

bool operator==(const scope_limit_document& a, const scope_limit_document& b) {
  for (auto& s : sections)
    if (a.*s.member != b.*s.member)
      return false;
  for (auto& s : map_sections)
    if (a.*s.member != b.*s.member)
      return false;
  return true;
}

namespace {

const scope_limits& find_or(const std::map<std::string, scope_limits, std::less<>>& m,
                            std::string_view key, const scope_limits& fallback) {
  if (m.empty())
    return fallback;
  auto i = m.find(key);
  return i == m.end() ? fallback : i->second;
}

} // namespace

const scope_limits& scope_limit_config::service_limits(std::string_view name) const {
  return find_or(service, name, service_default);
}
const scope_limits& scope_limit_config::service_peer_limits(std::string_view name) const {
  return find_or(service_peer, name, service_peer_default);
}
const scope_limits& scope_limit_config::protocol_limits(std::string_view id) const {
  return find_or(protocol, id, protocol_default);
}
const scope_limits& scope_limit_config::protocol_peer_limits(std::string_view id) const {
  return find_or(protocol_peer, id, protocol_peer_default);
}
const scope_limits& scope_limit_config::peer_limits(std::string_view id) const {
  return find_or(peer, id, peer_default);
}

bool operator==(const scope_limit_config& a, const scope_limit_config& b) {
  return a.system == b.system && a.transient == b.transient &&
         a.allowlisted_system == b.allowlisted_system &&
         a.allowlisted_transient == b.allowlisted_transient &&
         a.service_default == b.service_default &&
         a.service_peer_default == b.service_peer_default &&
         a.protocol_default == b.protocol_default &&
         a.protocol_peer_default == b.protocol_peer_default &&
         a.peer_default == b.peer_default && a.conn == b.conn && a.stream == b.stream &&
         a.service == b.service && a.service_peer == b.service_peer &&
         a.protocol == b.protocol && a.protocol_peer == b.protocol_peer &&
         a.peer == b.peer;
}

// -- parsing -------------------------------------------------------------------

namespace {

/// Thrown inside the parser only; the entry points turn it into an error.
struct bad_scope_config {
  input_error err;
};

[[noreturn]] void fail(const std::string& path, std::string why) {
  throw bad_scope_config{input_error{std::move(why), path}};
}

/// One JSON Pointer (RFC 6901) step.
std::string step(std::string_view key) {
  return json_pointer_step(std::string{key});
}

/// go's decoder matches a key to a field name without regard to ASCII case.
bool same_name(std::string_view key, std::string_view name) {
  if (key.size() != name.size())
    return false;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(key[i])) !=
        std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

const char* const value_forms = "an integer, \"unlimited\", \"blockAll\" or \"default\"";

limit_value from_number(std::uint64_t n) {
  return n == 0 ? limit_value{limit_value::form::block_all, 0}
                : limit_value{limit_value::form::number, n};
}

/// go's strconv.ParseInt(s, 10, 64): an optional sign, then decimal digits.
limit_value read_decimal_string(const std::string& s, const std::string& path) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    negative = s[i++] == '-';
  if (i == s.size())
    fail(path, std::string{"expected "} + value_forms + " (Memory: or a decimal string)");
  std::uint64_t n = 0;
  bool too_big = false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      fail(path,
           std::string{"expected "} + value_forms + " (Memory: or a decimal string)");
    auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (n > (scope_unlimited - digit) / 10)
      too_big = true;
    else
      n = n * 10 + digit;
  }
  if (negative && (n > 0 || too_big))
    fail(path, "must not be negative");
  if (too_big)
    fail(path, "out of range (at most 9223372036854775807)");
  return from_number(n);
}

limit_value read_value(const json& v, const std::string& path, bool is_memory) {
  if (v.is_string()) {
    auto& s = v.get_ref<const std::string&>();
    if (s == "default")
      return {limit_value::form::default_value, 0};
    if (s == "unlimited")
      return {limit_value::form::unlimited, 0};
    if (s == "blockAll")
      return {limit_value::form::block_all, 0};
    if (is_memory)
      return read_decimal_string(s, path);
    fail(path, std::string{"expected "} + value_forms);
  }
  if (v.is_number_unsigned()) {
    auto n = v.get<std::uint64_t>();
    if (n > scope_unlimited)
      fail(path, "out of range (at most 9223372036854775807)");
    return from_number(n);
  }
  if (v.is_number_integer() || (v.is_number_float() && v.get<double>() < 0))
    fail(path, "must not be negative");
  if (v.is_number_float())
    fail(path, "expected an integer (no fraction or exponent)");
  fail(path, std::string{"expected "} + value_forms);
}

/// Calls `handle(index, key, value)` for each key of the object `j`, matching
/// keys to `names` as go does; an unknown or repeated name is an error.
template <std::size_t N, class Handle>
void for_each_named(const json& j, const std::string& path,
                    const std::array<const char*, N>& names, const char* what,
                    Handle&& handle) {
  if (!j.is_object())
    fail(path, "expected an object");
  std::array<bool, N> seen{};
  for (auto& [key, value] : j.items()) {
    std::size_t index = N;
    for (std::size_t i = 0; i < N; ++i)
      if (same_name(key, names[i])) {
        index = i;
        break;
      }
    auto here = path + step(key);
    if (index == N)
      fail(here, std::string{"unknown "} + what);
    if (seen[index])
      fail(here, std::string{names[index]} + " is given twice (names match in any case)");
    seen[index] = true;
    handle(index, value, here);
  }
}

partial_scope_limits read_section(const json& j, const std::string& path) {
  static constexpr std::array<const char*, 8> names{
      fields[0].go_name, fields[1].go_name, fields[2].go_name, fields[3].go_name,
      fields[4].go_name, fields[5].go_name, fields[6].go_name, fields[7].go_name};
  partial_scope_limits out;
  for_each_named(j, path, names, "field",
                 [&](std::size_t i, const json& v, const std::string& p) {
                   out.*fields[i].partial = read_value(v, p, i == memory_field);
                 });
  return out;
}

std::map<std::string, partial_scope_limits>
read_map_section(const json& j, const std::string& path, const char* key_name) {
  if (!j.is_object())
    fail(path, "expected an object of sections");
  std::map<std::string, partial_scope_limits> out;
  for (auto& [key, value] : j.items()) {
    auto here = path + step(key);
    if (key.empty())
      fail(here, std::string{key_name} + " must not be empty");
    out.emplace(key, read_section(value, here));
  }
  return out;
}

scope_limit_document read_document(const json& j, const std::string& path) {
  constexpr std::size_t n = sections.size() + map_sections.size();
  std::array<const char*, n> names{};
  for (std::size_t i = 0; i < sections.size(); ++i)
    names[i] = sections[i].go_name;
  for (std::size_t i = 0; i < map_sections.size(); ++i)
    names[sections.size() + i] = map_sections[i].go_name;
  scope_limit_document doc;
  for_each_named(j, path, names, "section",
                 [&](std::size_t i, const json& v, const std::string& p) {
                   if (i < sections.size()) {
                     doc.*sections[i].member = read_section(v, p);
                   } else {
                     auto& m = map_sections[i - sections.size()];
                     doc.*m.member = read_map_section(v, p, m.key_name);
                   }
                 });
  return doc;
}

std::uint64_t read_count(const json& v, const std::string& path) {
  if (v.is_number_unsigned())
    return v.get<std::uint64_t>();
  if (v.is_number_integer() || (v.is_number_float() && v.get<double>() < 0))
    fail(path, "must not be negative");
  fail(path, "expected a non-negative integer");
}

} // namespace

result<scope_limit_document> parse_scope_config(const json& doc, std::string path) {
  try {
    return read_document(doc, path);
  } catch (bad_scope_config& e) {
    return std::move(e.err);
  }
}

result<scopes_scale_config> parse_scopes_scale(const json& doc, std::string path) {
  try {
    if (doc.is_string()) {
      if (doc.get_ref<const std::string&>() != "auto")
        fail(path, "expected \"auto\" or {\"memory_bytes\": N, \"fds\": N}");
      return scopes_scale_config{};
    }
    if (!doc.is_object())
      fail(path, "expected \"auto\" or {\"memory_bytes\": N, \"fds\": N}");
    scopes_scale_config s;
    s.automatic = false;
    bool has_memory = false;
    bool has_fds = false;
    for (auto& [key, value] : doc.items()) {
      auto here = path + step(key);
      if (key == "memory_bytes") {
        s.memory_bytes = read_count(value, here);
        has_memory = true;
      } else if (key == "fds") {
        s.fds = read_count(value, here);
        has_fds = true;
      } else {
        fail(here, "unknown key");
      }
    }
    if (!has_memory)
      fail(path + "/memory_bytes", "missing (give both memory_bytes and fds)");
    if (!has_fds)
      fail(path + "/fds", "missing (give both memory_bytes and fds)");
    return s;
  } catch (bad_scope_config& e) {
    return std::move(e.err);
  }
}

// -- writing -------------------------------------------------------------------

namespace {

json go_value(const limit_value& v, bool is_memory) {
  switch (v.kind) {
  case limit_value::form::unlimited:
    return "unlimited";
  case limit_value::form::block_all:
    return "blockAll";
  case limit_value::form::default_value:
    return "default";
  case limit_value::form::number:
    break;
  }
  // go writes Memory as a string: JSON readers may hold numbers in doubles.
  if (is_memory)
    return std::to_string(v.number);
  return v.number;
}

json go_section(const partial_scope_limits& s) {
  json out = json::object();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto& v = s.*fields[i].partial;
    if (!v.is_default())
      out[fields[i].go_name] = go_value(v, i == memory_field);
  }
  return out;
}

json limit_json(std::uint64_t limit) {
  if (limit >= scope_unlimited)
    return "unlimited";
  return limit;
}

} // namespace

json to_json(const scope_limit_document& x) {
  json out = json::object();
  for (auto& s : sections)
    if (!(x.*s.member).is_default())
      out[s.go_name] = go_section(x.*s.member);
  for (auto& s : map_sections) {
    auto& m = x.*s.member;
    if (m.empty())
      continue;
    json sub = json::object();
    for (auto& [key, limits] : m)
      sub[key] = go_section(limits);
    out[s.go_name] = std::move(sub);
  }
  return out;
}

json to_json(const scopes_scale_config& x) {
  if (x.automatic)
    return "auto";
  return json{{"memory_bytes", x.memory_bytes}, {"fds", x.fds}};
}

json to_json(const scope_limits& x) {
  json out = json::object();
  for (auto& f : fields)
    out[f.dump_name] = limit_json(x.*f.resolved);
  return out;
}

} // namespace rcmgr
