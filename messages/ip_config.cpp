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
