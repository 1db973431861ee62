#include "messages/ip_config.hpp"

namespace rcmgr {

ip_limits_config default_ip_limits() {
  ip_limits_config c;
  c.present = true;
  c.defaults = true;
  c.network_prefix = {{"127.0.0.0/8", no_limit}, {"::1/128", no_limit}};
  c.subnet_v4 = {{32, 8}};
  c.subnet_v6 = {{56, 8}, {48, 64}};
  return c;
}

attempt_rates_config default_attempt_rates() {
  attempt_rates_config c;
  c.present = true;
  c.defaults = true;
  c.network_prefix = {{"127.0.0.0/8", {}, true}, {"::1/128", {}, true}};
  c.subnet_v4 = {{32, {0.2, 16}}};
  c.subnet_v6 = {{56, {0.2, 16}}, {48, {0.5, 80}}};
  return c;
}

} // namespace rcmgr

// -- the JSON forms ---------------------------------------------------------------

#include "messages/config_read.hpp"
#include "messages/ip_address.hpp"

namespace rcmgr {

namespace {

using json = nlohmann::json;

using namespace config_read;

std::string read_prefix(const json& j, const std::string& path) {
  if (!j.is_string())
    fail(path, "expected a CIDR prefix string");
  auto text = j.get<std::string>();
  auto p = parse_cidr(text);
  if (!p)
    fail(path, p.error().message);
  return text;
}

std::uint64_t read_prefix_length(const json& j, const std::string& path, bool v6) {
  auto n = read_count(j, path);
  if (n > (v6 ? 128u : 32u))
    fail(path, v6 ? "must be at most 128" : "must be at most 32");
  return n;
}

handler rate_field(bucket_config& b) {
  return [&b](const json& v, const std::string& p) { b.rate_per_s = read_rate(v, p); };
}

handler burst_field(bucket_config& b) {
  return [&b](const json& v, const std::string& p) { b.burst = read_burst(v, p); };
}

bool is_defaults(const json& j, const std::string& path) {
  if (!j.is_string())
    return false;
  if (j.get<std::string>() != "defaults")
    fail(path, "expected an object or \"defaults\"");
  return true;
}

json prefix_json(const ip_prefix_rate& x) {
  return json{{"prefix", x.prefix},
              {"rate_per_s", x.bucket.rate_per_s},
              {"burst", x.bucket.burst}};
}

} // namespace

result<ip_limits_config> parse_ip_limits(const json& j, const std::string& path) {
  return catching<ip_limits_config>([&]() -> ip_limits_config {
    if (is_defaults(j, path))
      return default_ip_limits();
    ip_limits_config c;
    c.present = true;
    auto subnets = [](std::vector<ip_subnet_limit>& out, bool v6) {
      return [&out, v6](const json& v, const std::string& p) {
        read_array(v, p, [&](const json& e, const std::string& q) {
          ip_subnet_limit x;
          read_object(
              e, q,
              {{"prefix_length",
                [&](const json& w, const std::string& r) {
                  x.prefix_length = read_prefix_length(w, r, v6);
                }},
               {"conns", [&](const json& w,
                             const std::string& r) { x.conns = read_count(w, r); }}},
              {"prefix_length", "conns"});
          out.push_back(x);
        });
      };
    };
    read_object(j, path,
                {{"network_prefix",
                  [&](const json& v, const std::string& p) {
                    read_array(v, p, [&](const json& e, const std::string& q) {
                      ip_prefix_limit x;
                      read_object(e, q,
                                  {{"prefix",
                                    [&](const json& w, const std::string& r) {
                                      x.prefix = read_prefix(w, r);
                                    }},
                                   {"conns",
                                    [&](const json& w, const std::string& r) {
                                      if (w == "unlimited")
                                        x.conns = no_limit;
                                      else if (w.is_string())
                                        fail(r, "expected a non-negative integer or "
                                                "\"unlimited\"");
                                      else
                                        x.conns = read_count(w, r);
                                    }}},
                                  {"prefix", "conns"});
                      c.network_prefix.push_back(std::move(x));
                    });
                  }},
                 {"subnet_v4", subnets(c.subnet_v4, false)},
                 {"subnet_v6", subnets(c.subnet_v6, true)}});
    return c;
  });
}

result<attempt_rates_config> parse_attempt_rates(const json& j, const std::string& path) {
  return catching<attempt_rates_config>([&]() -> attempt_rates_config {
    if (is_defaults(j, path))
      return default_attempt_rates();
    attempt_rates_config c;
    c.present = true;
    auto subnets = [](std::vector<ip_subnet_rate>& out, bool v6) {
      return [&out, v6](const json& v, const std::string& p) {
        read_array(v, p, [&](const json& e, const std::string& q) {
          ip_subnet_rate x;
          read_object(e, q,
                      {{"prefix_length",
                        [&](const json& w, const std::string& r) {
                          x.prefix_length = read_prefix_length(w, r, v6);
                        }},
                       {"rate_per_s", rate_field(x.bucket)},
                       {"burst", burst_field(x.bucket)}},
                      {"prefix_length", "rate_per_s", "burst"});
          out.push_back(x);
        });
      };
    };
    read_object(j, path,
                {{"global",
                  [&](const json& v, const std::string& p) {
                    read_object(v, p,
                                {{"rate_per_s", rate_field(c.global)},
                                 {"burst", burst_field(c.global)}},
                                {"rate_per_s", "burst"});
                  }},
                 {"network_prefix",
                  [&](const json& v, const std::string& p) {
                    read_array(v, p, [&](const json& e, const std::string& q) {
                      ip_prefix_rate x;
                      read_object(e, q,
                                  {{"prefix",
                                    [&](const json& w, const std::string& r) {
                                      x.prefix = read_prefix(w, r);
                                    }},
                                   {"rate_per_s", rate_field(x.bucket)},
                                   {"burst", burst_field(x.bucket)}},
                                  {"prefix", "rate_per_s", "burst"});
                      c.network_prefix.push_back(std::move(x));
                    });
                  }},
                 {"subnet_v4", subnets(c.subnet_v4, false)},
                 {"subnet_v6", subnets(c.subnet_v6, true)}});
    return c;
  });
}

result<std::vector<std::string>> parse_allowlist(const json& j, const std::string& path) {
  return catching<std::vector<std::string>>([&] {
    std::vector<std::string> out;
    read_array(j, path, [&](const json& e, const std::string& p) {
      if (!e.is_string())
        fail(p, "expected a multiaddr string");
      auto text = e.get<std::string>();
      auto entry = parse_allowlist_entry(text);
      if (!entry)
        fail(p, entry.error().message);
      out.push_back(std::move(text));
    });
    return out;
  });
}

json to_json(const ip_limits_config& c) {
  if (c.defaults)
    return "defaults";
  json j = json::object();
  if (!c.network_prefix.empty()) {
    json xs = json::array();
    for (auto& x : c.network_prefix)
      xs.push_back(
          json{{"prefix", x.prefix},
               {"conns", x.conns == no_limit ? json("unlimited") : json(x.conns)}});
    j["network_prefix"] = xs;
  }
  auto subnets = [&](const char* key, const std::vector<ip_subnet_limit>& xs) {
    if (xs.empty())
      return;
    json out = json::array();
    for (auto& x : xs)
      out.push_back(json{{"prefix_length", x.prefix_length}, {"conns", x.conns}});
    j[key] = out;
  };
  subnets("subnet_v4", c.subnet_v4);
  subnets("subnet_v6", c.subnet_v6);
  return j;
}

json to_json(const attempt_rates_config& c) {
  if (c.defaults)
    return "defaults";
  json j = json::object();
  if (c.global.present())
    j["global"] = json{{"rate_per_s", c.global.rate_per_s}, {"burst", c.global.burst}};
  if (!c.network_prefix.empty()) {
    json xs = json::array();
    for (auto& x : c.network_prefix)
      xs.push_back(prefix_json(x));
    j["network_prefix"] = xs;
  }
  auto subnets = [&](const char* key, const std::vector<ip_subnet_rate>& xs) {
    if (xs.empty())
      return;
    json out = json::array();
    for (auto& x : xs)
      out.push_back(json{{"prefix_length", x.prefix_length},
                         {"rate_per_s", x.bucket.rate_per_s},
                         {"burst", x.bucket.burst}});
    j[key] = out;
  };
  subnets("subnet_v4", c.subnet_v4);
  subnets("subnet_v6", c.subnet_v6);
  return j;
}

} // namespace rcmgr
