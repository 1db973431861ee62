// The text a single event message carries (a peer id, an address, a protocol
// or service name, a scope name): up to 63 bytes inside the object, longer
// text on the heap. A libp2p peer id (52 characters for an Ed25519 key, 46
// for RSA), a TCP or QUIC multiaddr and a protocol id fit, so sending an event
// allocates CAF's mailbox element and nothing per field
// (docs/lifecycle.md#lean-messages). Across the middleman it is a string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>

namespace rcmgr {

class inline_text {
public:
  /// The longest text kept inside the object.
  static constexpr std::size_t inline_capacity = 63;

  inline_text() noexcept { raw_[tag_at] = 0; }
  inline_text(std::string_view s) { init(s); }
  inline_text(const std::string& s) : inline_text(std::string_view{s}) {}
  inline_text(const char* s) : inline_text(std::string_view{s}) {}
  inline_text(const inline_text& x) : inline_text(x.view()) {}
  inline_text(inline_text&& x) noexcept {
    std::memcpy(raw_, x.raw_, sizeof(raw_));
    x.raw_[tag_at] = 0;
  }
  ~inline_text() { release(); }

  inline_text& operator=(const inline_text& x) {
    if (this != &x)
      *this = inline_text{x};
    return *this;
  }
  inline_text& operator=(inline_text&& x) noexcept {
    if (this != &x) {
      release();
      std::memcpy(raw_, x.raw_, sizeof(raw_));
      x.raw_[tag_at] = 0;
    }
    return *this;
  }
  // Through a copy: `s` may point into this object's own text.
  inline_text& operator=(std::string_view s) { return *this = inline_text{s}; }
  inline_text& operator=(const std::string& s) { return *this = std::string_view{s}; }
  inline_text& operator=(const char* s) { return *this = std::string_view{s}; }

  const char* data() const noexcept { return on_heap() ? heap_data() : raw_; }
  std::size_t size() const noexcept { return on_heap() ? heap_size() : tag(); }
  bool empty() const noexcept { return size() == 0; }
  std::string_view view() const noexcept { return {data(), size()}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string{view()}; }
  /// Whether the text lives on the heap (longer than inline_capacity).
  bool on_heap() const noexcept { return tag() == heap_tag; }
  void clear() noexcept {
    release();
    raw_[tag_at] = 0;
  }

  friend bool operator==(const inline_text& a, const inline_text& b) noexcept {
    return a.view() == b.view();
  }
  friend bool operator!=(const inline_text& a, const inline_text& b) noexcept {
    return !(a == b);
  }
  friend bool operator<(const inline_text& a, const inline_text& b) noexcept {
    return a.view() < b.view();
  }
  // Anything a string_view is made of (std::string, const char*, string_view)
  // compares as text; templates, so that no conversion competes.
  template <class T>
  using if_text = std::enable_if_t<!std::is_same_v<std::decay_t<T>, inline_text> &&
                                   std::is_convertible_v<const T&, std::string_view>>;
  template <class T, class = if_text<T>>
  friend bool operator==(const inline_text& a, const T& b) noexcept {
    return a.view() == std::string_view{b};
  }
  template <class T, class = if_text<T>>
  friend bool operator==(const T& a, const inline_text& b) noexcept {
    return std::string_view{a} == b.view();
  }
  template <class T, class = if_text<T>>
  friend bool operator!=(const inline_text& a, const T& b) noexcept {
    return !(a == b);
  }
  template <class T, class = if_text<T>>
  friend bool operator!=(const T& a, const inline_text& b) noexcept {
    return !(a == b);
  }

  friend std::ostream& operator<<(std::ostream& os, const inline_text& x) {
    return os << x.view();
  }

private:
  // raw_[63] is the tag: the length of an inline text (0..63), or heap_tag,
  // when raw_ begins with the heap pointer and the length.
  static constexpr std::size_t tag_at = 63;
  static constexpr unsigned char heap_tag = 0xFF;

  unsigned char tag() const noexcept { return static_cast<unsigned char>(raw_[tag_at]); }
  const char* heap_data() const noexcept {
    char* p;
    std::memcpy(&p, raw_, sizeof(p));
    return p;
  }
  std::size_t heap_size() const noexcept {
    std::size_t n;
    std::memcpy(&n, raw_ + sizeof(char*), sizeof(n));
    return n;
  }
  void init(std::string_view s) {
    if (s.size() <= inline_capacity) {
      if (!s.empty())
        std::memcpy(raw_, s.data(), s.size());
      raw_[tag_at] = static_cast<char>(s.size());
      return;
    }
    char* p = new char[s.size()];
    std::memcpy(p, s.data(), s.size());
    std::size_t n = s.size();
    std::memcpy(raw_, &p, sizeof(p));
    std::memcpy(raw_ + sizeof(p), &n, sizeof(n));
    raw_[tag_at] = static_cast<char>(heap_tag);
  }
  void release() noexcept {
    if (on_heap())
      delete[] heap_data();
  }

  alignas(8) char raw_[64];
};

static_assert(sizeof(inline_text) == 64);

/// Across the middleman (and in CAF's to_string) the text is a string.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inline_text& x) {
  std::string text;
  if constexpr (Inspector::reads_state)
    text = x.str();
  return f(text, caf::meta::load_callback([&]() -> caf::error {
             x = text;
             return caf::none;
           }));
}

} // namespace rcmgr

template <> struct std::hash<rcmgr::inline_text> {
  std::size_t operator()(const rcmgr::inline_text& x) const noexcept {
    return std::hash<std::string_view>{}(x.view());
  }
};
