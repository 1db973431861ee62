// A short list of strings in one heap block, 8 bytes when held. Plain C++.
//
// A connection's remote addresses are its own (the port differs per
// connection), so interning them saves nothing; a vector of strings costs
// two or three heap blocks and 24 bytes per record, this one block and 8.
#pragma once

#include <cstdint>
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

  void assign(const std::vector<std::string>& xs);
  bool empty() const { return data_ == nullptr; }
  std::size_t size() const;
  std::vector<std::string> unpack() const;

  /// Calls `f(std::string_view)` for each string, in order.
  template <class F> void for_each(F&& f) const {
    if (!data_)
      return;
    auto n = read_u32(0);
    std::size_t at = 4;
    for (std::uint32_t i = 0; i < n; ++i) {
      auto len = read_u32(at);
      f(std::string_view{data_.get() + at + 4, len});
      at += 4 + len;
    }
  }

private:
  // Layout: count, then each string as its length and its bytes; lengths
  // and the count are 32-bit (a frame is at most 1 MiB anyway).
  std::uint32_t read_u32(std::size_t at) const;
  std::size_t bytes() const;

  std::unique_ptr<char[]> data_;
};

} // namespace rcmgr
