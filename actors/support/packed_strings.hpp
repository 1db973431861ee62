// A short list of strings in one heap block, 8 bytes when held. Plain C++.
//
// A connection's remote addresses are its own (the port differs per
// connection), so interning them saves nothing; a vector of strings costs
// two or three heap blocks and 24 bytes per record, this one block and 8.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rcmgr {

class packed_strings {
public:
  packed_strings() = default;
  explicit packed_strings(const std::vector<std::string>& xs) { assign(xs); }
  packed_strings(const packed_strings& other) { *this = other; }
  packed_strings(packed_strings&&) noexcept = default;
  packed_strings& operator=(const packed_strings& other);
  packed_strings& operator=(packed_strings&&) noexcept = default;

  /// From a vector of strings, or (assign_list) any list with `size()` and an
  /// `operator[]` giving something a std::string_view is made of (a vector of strings, a
  /// `text_list`).
  void assign(const std::vector<std::string>& xs) { assign_list(xs); }
  template <class List> void assign_list(const List& xs) {
    auto n = xs.size();
    if (n == 0) {
      data_.reset();
      return;
    }
    check_size(n);
    std::size_t total = header;
    for (std::size_t i = 0; i < n; ++i) {
      auto len = std::string_view{xs[i]}.size();
      check_size(len);
      total += 4 + len;
    }
    check_size(total);
    // The block held is written over when the strings fit in it.
    if (!data_ || read_u32(0) < total) {
      data_ = std::make_unique<char[]>(total);
      write_u32(data_.get(), static_cast<std::uint32_t>(total));
    }
    write_u32(data_.get() + 4, static_cast<std::uint32_t>(n));
    std::size_t at = header;
    for (std::size_t i = 0; i < n; ++i) {
      std::string_view x{xs[i]};
      write_u32(data_.get() + at, static_cast<std::uint32_t>(x.size()));
      std::memcpy(data_.get() + at + 4, x.data(), x.size());
      at += 4 + x.size();
    }
  }
  /// No strings; the block stays, for the next assign_list to write into.
  void clear() {
    if (data_)
      write_u32(data_.get() + 4, 0);
  }
  bool empty() const { return size() == 0; }
  /// Whether this holds exactly the strings of `xs`, in order.
  template <class List> bool holds(const List& xs) const {
    if (size() != xs.size())
      return false;
    std::size_t i = 0;
    bool same = true;
    for_each([&](std::string_view s) { same = same && s == std::string_view{xs[i++]}; });
    return same;
  }
  std::size_t size() const;
  std::vector<std::string> unpack() const;

  /// Calls `f(std::string_view)` for each string, in order.
  template <class F> void for_each(F&& f) const {
    if (!data_)
      return;
    auto n = read_u32(4);
    std::size_t at = header;
    for (std::uint32_t i = 0; i < n; ++i) {
      auto len = read_u32(at);
      f(std::string_view{data_.get() + at + 4, len});
      at += 4 + len;
    }
  }

private:
  // Layout: the block's size, the count, then each string as its length and
  // its bytes; all 32-bit (a frame is at most 1 MiB anyway). The size lets a
  // record reuse its block for the next connection's address (most fit in
  // the block malloc gives anyway, 4 bytes more or not).
  static constexpr std::size_t header = 8;
  std::uint32_t read_u32(std::size_t at) const;
  static void write_u32(char* at, std::uint32_t x) { std::memcpy(at, &x, sizeof x); }
  /// Throws std::length_error past 2^32 - 1 (strings, or bytes in one).
  static void check_size(std::size_t n);
  std::size_t bytes() const;

  std::unique_ptr<char[]> data_;
};

} // namespace rcmgr
