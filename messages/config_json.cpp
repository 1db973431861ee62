#include "messages/config_json.hpp"

#include "messages/config_read.hpp"
#include "messages/json.hpp"
#include "messages/time.hpp"

namespace rcmgr {

namespace {

using json = nlohmann::json;

using namespace config_read;

std::string step(const std::string& key) {
  return json_pointer_step(key);
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object())
    fail(path, "expected an object");
}

/// A duration in ms: a count of at most max_duration_ms; `at_least_one` for an
/// interval, where 0 would mean "all the time".
std::uint64_t read_duration_ms(const json& j, const std::string& path,
                               bool at_least_one) {
  auto ms = read_count(j, path);
  if (at_least_one && ms == 0)
    fail(path, "must be at least 1");
  if (ms > max_duration_ms)
    fail(path,
         "must be at most " + std::to_string(max_duration_ms) + " (about 31 years)");
  return ms;
}

double read_fraction(const json& j, const std::string& path) {
  double d = read_number(j, path);
  if (!(d > 0 && d <= 1))
    fail(path, "must be a fraction in (0, 1]");
  return d;
}

connection_limits_config read_limits(const json& j, const std::string& path) {
  connection_limits_config c;
  auto field = [](std::uint64_t& out) {
    return [&out](const json& v, const std::string& p) { out = read_count(v, p); };
  };
  read_object(j, path,
              {{"max_pending_inbound", field(c.max_pending_inbound)},
               {"max_pending_outbound", field(c.max_pending_outbound)},
               {"max_established_inbound", field(c.max_established_inbound)},
               {"max_established_outbound", field(c.max_established_outbound)},
               {"max_established_per_peer", field(c.max_established_per_peer)},
               {"max_established_total", field(c.max_established_total)}});
  return c;
}

std::vector<peer_id> read_peers(const json& j, const std::string& path) {
  if (!j.is_array())
    fail(path, "expected an array of peer ids");
  std::vector<peer_id> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    auto p = path + "/" + std::to_string(i);
    if (!j[i].is_string())
      fail(p, "expected a string");
    auto s = j[i].get<std::string>();
    if (s.empty())
      fail(p, "a peer id must not be empty");
    out.push_back(std::move(s));
  }
  return out;
}

memory_config read_memory(const json& j, const std::string& path) {
  memory_config c;
  read_object(
      j, path,
      {{"max_bytes",
        [&](const json& v, const std::string& p) { c.max_bytes = read_count(v, p); }},
       {"max_fraction",
        [&](const json& v, const std::string& p) {
          c.max_fraction = read_fraction(v, p);
        }},
       {"sample_interval_ms",
        [&](const json& v, const std::string& p) {
          c.sample_interval_ms = read_duration_ms(v, p, true);
        }},
       {"stale_policy",
        [&](const json& v, const std::string& p) {
          if (v == "fail_open")
            c.stale = stale_policy::fail_open;
          else if (v == "fail_closed")
            c.stale = stale_policy::fail_closed;
          else
            fail(p, "expected \"fail_open\" or \"fail_closed\"");
        }},
       {"resume_below_fraction", [&](const json& v, const std::string& p) {
          c.resume_below_fraction = read_fraction(v, p);
        }}});
  return c;
}

bucket_config read_bucket(const json& j, const std::string& path) {
  bucket_config b;
  bool has_rate = false;
  bool has_burst = false;
  read_object(j, path,
              {{"rate_per_s",
                [&](const json& v, const std::string& p) {
                  b.rate_per_s = read_rate(v, p);
                  has_rate = true;
                }},
               {"burst", [&](const json& v, const std::string& p) {
                  b.burst = read_burst(v, p);
                  has_burst = true;
                }}});
  if (!has_rate)
    fail(path + "/rate_per_s", "missing");
  if (!has_burst)
    fail(path + "/burst", "missing");
  return b;
}

rate_limits_config read_rate_limits(const json& j, const std::string& path) {
  expect_object(j, path);
  rate_limits_config c;
  for (auto& [key, value] : j.items()) {
    auto p = path + step(key);
    if (key == "max_tracked_peers") {
      c.max_tracked_peers = read_count(value, p);
      if (c.max_tracked_peers == 0)
        fail(p, "must be at least 1");
      continue;
    }
    if (key.empty())
      fail(p, "a protocol name must not be empty");
    protocol_rate_config rule;
    rule.protocol = key;
    read_object(value, p,
                {{"total", [&](const json& v,
                               const std::string& q) { rule.total = read_bucket(v, q); }},
                 {"per_peer", [&](const json& v, const std::string& q) {
                    rule.per_peer = read_bucket(v, q);
                  }}});
    c.protocols.push_back(std::move(rule));
  }
  return c;
}

watcher_config read_watcher(const json& j, const std::string& path) {
  watcher_config c;
  auto count = [](std::uint64_t& out) {
    return [&out](const json& v, const std::string& p) { out = read_count(v, p); };
  };
  auto duration = [](std::uint64_t& out, bool at_least_one) {
    return [&out, at_least_one](const json& v, const std::string& p) {
      out = read_duration_ms(v, p, at_least_one);
    };
  };
  read_object(j, path,
              {{"refresh_interval_ms", duration(c.refresh_interval_ms, true)},
               {"idle_timeout_ms", duration(c.idle_timeout_ms, false)},
               {"max_lifetime_ms", duration(c.max_lifetime_ms, false)},
               {"peer_bandwidth_bytes_per_s", count(c.peer_bandwidth_bytes_per_s)},
               {"misbehaviour_threshold", count(c.misbehaviour_threshold)},
               {"cooldown_ms", duration(c.cooldown_ms, false)}});
  return c;
}

/// `true` (every family), `false` (none), or a list of family names.
std::uint8_t read_dry_run(const json& v, const std::string& path) {
  if (v.is_boolean())
    return v.get<bool>() ? all_rule_families : 0;
  if (!v.is_array())
    fail(path, "expected true, false or an array of rule families");
  std::uint8_t bits = 0;
  read_array(v, path, [&](const json& x, const std::string& p) {
    if (x.is_string())
      for (std::size_t i = 0; i < rule_family_count; ++i) {
        auto f = static_cast<rule_family>(i);
        if (x.get<std::string>() == to_string(f)) {
          bits |= family_bit(f);
          return;
        }
      }
    fail(p, "expected one of connection_limits, memory, scopes, ip_limits, "
            "attempt_rates, rate_limits, blocked");
  });
  return bits;
}

} // namespace

const char* to_string(rule_family f) {
  switch (f) {
  case rule_family::connection_limits:
    return "connection_limits";
  case rule_family::memory:
    return "memory";
  case rule_family::scopes:
    return "scopes";
  case rule_family::ip_limits:
    return "ip_limits";
  case rule_family::attempt_rates:
    return "attempt_rates";
  case rule_family::rate_limits:
    return "rate_limits";
  case rule_family::blocked:
    return "blocked";
  }
  return "?";
}

json dry_run_json(std::uint8_t bits) {
  if (bits == 0)
    return false;
  if (bits == all_rule_families)
    return true;
  json list = json::array();
  for (std::size_t i = 0; i < rule_family_count; ++i) {
    auto f = static_cast<rule_family>(i);
    if (bits & family_bit(f))
      list.push_back(to_string(f));
  }
  return list;
}

result<node_config> parse_config(const json& doc) {
  try {
    node_config c;
    read_object(
        doc, "",
        {{"connection_limits",
          [&](const json& v, const std::string& p) {
            c.connection_limits = read_limits(v, p);
          }},
         {"bypass_peers",
          [&](const json& v, const std::string& p) {
            c.bypass_peers = read_peers(v, p);
          }},
         {"memory",
          [&](const json& v, const std::string& p) { c.memory = read_memory(v, p); }},
         {"rate_limits",
          [&](const json& v, const std::string& p) {
            c.rate_limits = read_rate_limits(v, p);
          }},
         {"watcher",
          [&](const json& v, const std::string& p) { c.watcher = read_watcher(v, p); }},
         {"scopes",
          [&](const json& v, const std::string& p) {
            auto doc = parse_scope_config(v, p);
            if (!doc)
              fail(doc.error().path.value_or(p), doc.error().message);
            c.has_scopes = true;
            c.scopes = std::move(*doc);
          }},
         {"scopes_scale",
          [&](const json& v, const std::string& p) {
            auto scale = parse_scopes_scale(v, p);
            if (!scale)
              fail(scale.error().path.value_or(p), scale.error().message);
            c.scopes_scale = *scale;
          }},
         {"ip_limits",
          [&](const json& v, const std::string& p) {
            auto x = parse_ip_limits(v, p);
            if (!x)
              fail(x.error().path.value_or(p), x.error().message);
            c.ip_limits = std::move(*x);
          }},
         {"attempt_rates",
          [&](const json& v, const std::string& p) {
            auto x = parse_attempt_rates(v, p);
            if (!x)
              fail(x.error().path.value_or(p), x.error().message);
            c.attempt_rates = std::move(*x);
          }},
         {"allowlist",
          [&](const json& v, const std::string& p) {
            auto x = parse_allowlist(v, p);
            if (!x)
              fail(x.error().path.value_or(p), x.error().message);
            c.allowlist = std::move(*x);
          }},
         {"dry_run",
          [&](const json& v, const std::string& p) { c.dry_run = read_dry_run(v, p); }}});
    c.rate_limits.dry_run = c.dry(rule_family::rate_limits);
    return c;
  } catch (config_error& e) {
    if (e.err.path->empty())
      e.err.path = "/";
    return std::move(e.err);
  }
}

result<node_config> parse_config_text(const std::string& text) {
  auto doc = parse_json_text(text);
  if (!doc)
    return result<node_config>::failure("", doc.error().message);
  return parse_config(*doc);
}

json to_json(const connection_limits_config& c) {
  json j = json::object();
  auto put = [&](const char* key, std::uint64_t v) {
    if (v != no_limit)
      j[key] = v;
  };
  put("max_pending_inbound", c.max_pending_inbound);
  put("max_pending_outbound", c.max_pending_outbound);
  put("max_established_inbound", c.max_established_inbound);
  put("max_established_outbound", c.max_established_outbound);
  put("max_established_per_peer", c.max_established_per_peer);
  put("max_established_total", c.max_established_total);
  return j;
}

json to_json(const memory_config& c) {
  json j = json::object();
  if (c.max_bytes != no_limit)
    j["max_bytes"] = c.max_bytes;
  if (c.max_fraction > 0)
    j["max_fraction"] = c.max_fraction;
  j["sample_interval_ms"] = c.sample_interval_ms;
  j["stale_policy"] = to_string(c.stale);
  if (c.resume_below_fraction > 0)
    j["resume_below_fraction"] = c.resume_below_fraction;
  return j;
}

namespace {
json bucket_json(const bucket_config& b) {
  return json{{"rate_per_s", b.rate_per_s}, {"burst", b.burst}};
}
} // namespace

json to_json(const rate_limits_config& c) {
  json j = json::object();
  for (auto& rule : c.protocols) {
    json r = json::object();
    if (rule.total.present())
      r["total"] = bucket_json(rule.total);
    if (rule.per_peer.present())
      r["per_peer"] = bucket_json(rule.per_peer);
    j[rule.protocol] = r;
  }
  j["max_tracked_peers"] = c.max_tracked_peers;
  return j;
}

json to_json(const watcher_config& c) {
  return json{{"refresh_interval_ms", c.refresh_interval_ms},
              {"idle_timeout_ms", c.idle_timeout_ms},
              {"max_lifetime_ms", c.max_lifetime_ms},
              {"peer_bandwidth_bytes_per_s", c.peer_bandwidth_bytes_per_s},
              {"misbehaviour_threshold", c.misbehaviour_threshold},
              {"cooldown_ms", c.cooldown_ms}};
}

json to_json(const node_config& c) {
  json j{{"connection_limits", to_json(c.connection_limits)},
         {"bypass_peers", c.bypass_peers},
         {"memory", to_json(c.memory)},
         {"rate_limits", to_json(c.rate_limits)},
         {"watcher", to_json(c.watcher)}};
  // Without "scopes" the document is the one of DESIGN §5, key for key.
  if (c.has_scopes)
    j["scopes"] = to_json(c.scopes);
  if (c.has_scopes || !c.scopes_scale.automatic)
    j["scopes_scale"] = to_json(c.scopes_scale);
  // Likewise the keys of DESIGN §6.2, only when they are set.
  if (c.ip_limits.present)
    j["ip_limits"] = to_json(c.ip_limits);
  if (c.attempt_rates.present)
    j["attempt_rates"] = to_json(c.attempt_rates);
  if (!c.allowlist.empty())
    j["allowlist"] = c.allowlist;
  if (c.dry_run != 0)
    j["dry_run"] = dry_run_json(c.dry_run);
  return j;
}

std::string json_pointer_step(const std::string& key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

} // namespace rcmgr
