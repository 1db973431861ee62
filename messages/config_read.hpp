// The readers every config parser shares: a JSON value at a JSON Pointer path
// becomes a checked value, or an input_error naming that path.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/result.hpp"

namespace rcmgr::config_read {

using json = nlohmann::json;

/// Thrown by the readers only; `catching` turns it into the parser's error.
struct config_error {
  input_error err;
};

[[noreturn]] void fail(const std::string& path, std::string why);

using handler = std::function<void(const json&, const std::string&)>;

/// Calls the handler of each key; a key without one is an error; each key of
/// `required` must be there.
void read_object(const json& j, const std::string& path,
                 const std::map<std::string, handler>& handlers,
                 std::initializer_list<const char*> required = {});

/// Calls `each(element, path + "/" + index)` for every element.
template <class F> void read_array(const json& j, const std::string& path, F each) {
  if (!j.is_array())
    fail(path, "expected an array");
  for (std::size_t i = 0; i < j.size(); ++i)
    each(j[i], path + "/" + std::to_string(i));
}

/// A non-negative whole number; 5.0 reads as 5.
std::uint64_t read_count(const json& j, const std::string& path);

/// A finite number.
double read_number(const json& j, const std::string& path);

/// A token bucket's refill rate: in (0, 1e9] per second.
double read_rate(const json& j, const std::string& path);

/// A token bucket's burst: 1 to 1,000,000 tokens.
std::uint64_t read_burst(const json& j, const std::string& path);

/// Runs a parser made of the readers above and returns its value or the
/// error the first failing reader raised.
template <class T, class F> result<T> catching(F f) {
  try {
    return f();
  } catch (config_error& e) {
    return std::move(e.err);
  }
}

} // namespace rcmgr::config_read
