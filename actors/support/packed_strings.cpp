#include "actors/support/packed_strings.hpp"

#include <cstring>
#include <stdexcept>

namespace rcmgr {

std::uint32_t packed_strings::read_u32(std::size_t at) const {
  std::uint32_t x;
  std::memcpy(&x, data_.get() + at, sizeof x);
  return x;
}

std::size_t packed_strings::bytes() const {
  if (!data_)
    return 0;
  std::size_t at = header;
  for (std::uint32_t i = 0, n = read_u32(4); i < n; ++i)
    at += 4 + read_u32(at);
  return at;
}

void packed_strings::check_size(std::size_t n) {
  if (n > UINT32_MAX)
    throw std::length_error("packed_strings: more than 2^32 - 1 strings or bytes");
}

packed_strings& packed_strings::operator=(const packed_strings& other) {
  if (this == &other)
    return *this;
  if (!other.data_) {
    data_.reset();
    return *this;
  }
  auto n = other.bytes();
  auto buf = std::make_unique<char[]>(n);
  std::memcpy(buf.get(), other.data_.get(), n);
  write_u32(buf.get(), static_cast<std::uint32_t>(n)); // the copy's own size
  data_ = std::move(buf);
  return *this;
}

std::size_t packed_strings::size() const {
  return data_ ? read_u32(4) : 0;
}

std::vector<std::string> packed_strings::unpack() const {
  std::vector<std::string> out;
  out.reserve(size());
  for_each([&](std::string_view s) { out.emplace_back(s); });
  return out;
}

} // namespace rcmgr
