// A batch's texts (peer ids, addresses, reasons) in one block of characters.
//
// A 52-character peer id or a multiaddr is past the short-string buffer, so
// a vector of strings would make each text a heap block of its own, allocated
// by the sender and freed by whichever thread drops the message last (a
// profile of the batched lifecycle put about a fifth of its CPU in malloc and
// free for such texts). Here all texts of a batch share two blocks: the
// characters, and where each text ends.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace rcmgr {

class text_table {
public:
  text_table() = default;
  text_table(std::initializer_list<std::string_view> xs) {
    for (auto x : xs)
      push(x);
  }

  /// A table from its raw parts, as a remote sender may send them: nothing is
  /// checked here; `has` tells which texts lie inside `chars`.
  static text_table from_parts(std::string chars, std::vector<std::uint32_t> ends) {
    text_table t;
    t.chars_ = std::move(chars);
    t.ends_ = std::move(ends);
    return t;
  }

  std::size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }

  /// Whether text `i` exists and lies inside the characters. Always true for
  /// `i < size()` in a table built with `push`; a table read from the
  /// network may hold ends that run backwards or past its characters.
  bool has(std::size_t i) const {
    if (i >= ends_.size())
      return false;
    auto b = begin_of(i);
    return b <= ends_[i] && ends_[i] <= chars_.size();
  }

  /// Text `i`; "" for a text that is not there (see `has`), never a read
  /// outside the characters.
  std::string_view operator[](std::size_t i) const {
    if (!has(i))
      return {};
    auto b = begin_of(i);
    return std::string_view{chars_}.substr(b, ends_[i] - b);
  }

  /// Appends `x`; returns its index. Throws std::length_error when the
  /// characters would pass 2^32 - 1 (a batch is far smaller).
  std::uint32_t push(std::string_view x) {
    if (x.size() > UINT32_MAX - chars_.size())
      throw std::length_error("text_table: more than 2^32 - 1 characters");
    chars_.append(x.data(), x.size());
    ends_.push_back(static_cast<std::uint32_t>(chars_.size()));
    return static_cast<std::uint32_t>(ends_.size() - 1);
  }

  /// Room for `texts` more texts of `chars` more characters in all.
  void reserve(std::size_t texts, std::size_t chars) {
    ends_.reserve(ends_.size() + texts);
    chars_.reserve(chars_.size() + chars);
  }

  /// Drops the texts from `n` on (nothing when `n >= size()`).
  void truncate(std::size_t n) {
    if (n >= ends_.size())
      return;
    chars_.resize(n == 0 ? 0 : ends_[n - 1]);
    ends_.resize(n);
  }

  void clear() {
    chars_.clear();
    ends_.clear();
  }

  /// The texts as strings (tests, diagnostics).
  std::vector<std::string> to_vector() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (std::size_t i = 0; i < size(); ++i)
      out.emplace_back((*this)[i]);
    return out;
  }

  friend bool operator==(const text_table& a, const text_table& b) {
    return a.chars_ == b.chars_ && a.ends_ == b.ends_;
  }
  friend bool operator!=(const text_table& a, const text_table& b) { return !(a == b); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, text_table& x) {
    return f(caf::meta::type_name("text_table"), x.chars_, x.ends_);
  }

private:
  std::uint32_t begin_of(std::size_t i) const { return i == 0 ? 0 : ends_[i - 1]; }

  std::string chars_;
  /// One past the last character of each text.
  std::vector<std::uint32_t> ends_;
};

} // namespace rcmgr
