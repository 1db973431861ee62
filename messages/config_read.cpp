#include "messages/config_read.hpp"

#include <cmath>

#include "messages/config_json.hpp"

namespace rcmgr::config_read {

void fail(const std::string& path, std::string why) {
  throw config_error{input_error{std::move(why), path}};
}

void read_object(const json& j, const std::string& path,
                 const std::map<std::string, handler>& handlers,
                 std::initializer_list<const char*> required) {
  if (!j.is_object())
    fail(path, "expected an object");
  for (auto& [key, value] : j.items()) {
    auto i = handlers.find(key);
    if (i == handlers.end())
      fail(path + json_pointer_step(key), "unknown key");
    i->second(value, path + json_pointer_step(key));
  }
  for (auto key : required)
    if (!j.contains(key))
      fail(path + "/" + key, "missing");
}

std::uint64_t read_count(const json& j, const std::string& path) {
  if (j.is_number_unsigned())
    return j.get<std::uint64_t>();
  if (j.is_number_integer())
    fail(path, "must not be negative");
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (d < 0)
      fail(path, "must not be negative");
    if (std::floor(d) != d || d >= 1.8e19)
      fail(path, "must be a whole number");
    return static_cast<std::uint64_t>(d);
  }
  fail(path, "expected a non-negative integer");
}

double read_number(const json& j, const std::string& path) {
  if (!j.is_number())
    fail(path, "expected a number");
  double d = j.get<double>();
  if (!std::isfinite(d))
    fail(path, "must be finite");
  return d;
}

double read_rate(const json& j, const std::string& path) {
  double d = read_number(j, path);
  if (d <= 0)
    fail(path, "must be greater than 0");
  if (d > 1e9)
    fail(path, "must be at most 1e9");
  return d;
}

std::uint64_t read_burst(const json& j, const std::string& path) {
  auto n = read_count(j, path);
  if (n == 0)
    fail(path, "must be at least 1");
  if (n > 1000000)
    fail(path, "must be at most 1000000");
  return n;
}

} // namespace rcmgr::config_read
