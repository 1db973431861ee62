// The result of parsing or reading input that may be bad: a value, or an
// error saying what is wrong and, in a document with paths, where.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace rcmgr {

/// Why an input was refused. `path` is the JSON Pointer (RFC 6901) of the
/// offending value in a document whose errors name one (the config: "" is the
/// document itself, e.g. for a syntax error); errors of a flat input (an event
/// line, which names its field in the message) have none.
struct input_error {
  std::string message;
  std::optional<std::string> path;

  /// "path: message", or the message alone when there is no path.
  std::string text() const { return path ? *path + ": " + message : message; }

  friend bool operator==(const input_error& a, const input_error& b) {
    return a.message == b.message && a.path == b.path;
  }
};

/// A value or an input_error. Reads like std::optional: test it, then `*r`
/// or `r->`; `r.error()` when it holds no value.
template <class T> class result {
public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(input_error err) : v_(std::in_place_index<1>, std::move(err)) {}

  static result failure(std::string message) {
    return input_error{std::move(message), std::nullopt};
  }
  static result failure(std::string path, std::string message) {
    return input_error{std::move(message), std::move(path)};
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// Only when ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Only when !ok().
  const input_error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, input_error> v_;
};

} // namespace rcmgr
