#include "actors/trace/trace_file.hpp"

#include <algorithm>
#include <cerrno>

#include <limits.h>

namespace rcmgr {

bool write_pieces(const std::vector<std::string_view>& pieces, std::vector<iovec>& iov,
                  const writev_fn& write) {
  iov.clear();
  for (auto piece : pieces)
    if (!piece.empty())
      iov.push_back(iovec{const_cast<char*>(piece.data()), piece.size()});
  std::size_t next = 0;
  while (next < iov.size()) {
    auto count = static_cast<int>(std::min<std::size_t>(iov.size() - next, IOV_MAX));
    auto n = write(iov.data() + next, count);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) // an error, or a file that takes nothing
      return false;
    auto left = static_cast<std::size_t>(n);
    while (next < iov.size() && left >= iov[next].iov_len)
      left -= iov[next++].iov_len;
    if (left > 0) { // part of a piece was written: the rest goes next
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
      iov[next].iov_len -= left;
    }
  }
  return true;
}

} // namespace rcmgr
