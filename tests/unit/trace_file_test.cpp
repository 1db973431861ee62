// Writing a trace's lines (actors/trace/trace_file.hpp) through a fake
// writev: short writes continued, interruptions retried, errors reported.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include <limits.h>

#include "actors/trace/trace_file.hpp"

using namespace rcmgr;

namespace {

/// Takes at most `max_bytes` a call; call number `interrupt_at` (from 1)
/// fails with EINTR, call `fail_at` with EIO.
struct fake_file {
  std::string written;
  std::size_t max_bytes = 1 << 30;
  int interrupt_at = 0;
  int fail_at = 0;
  int calls = 0;
  int most_buffers = 0;

  writev_fn fn() {
    return [this](const iovec* iov, int count) -> ssize_t {
      ++calls;
      most_buffers = std::max(most_buffers, count);
      if (calls == interrupt_at) {
        errno = EINTR;
        return -1;
      }
      if (calls == fail_at) {
        errno = EIO;
        return -1;
      }
      std::size_t n = 0;
      for (int i = 0; i < count && n < max_bytes; ++i) {
        REQUIRE(iov[i].iov_base != nullptr);
        REQUIRE(iov[i].iov_len > 0u);
        auto take = std::min(iov[i].iov_len, max_bytes - n);
        written.append(static_cast<const char*>(iov[i].iov_base), take);
        n += take;
      }
      return static_cast<ssize_t>(n);
    };
  }
};

} // namespace

TEST_CASE("pieces written in order; a short write goes on where it stopped") {
  std::vector<std::string_view> pieces{"abc\n", "", "defgh\n", "i\n"};
  std::vector<iovec> iov;
  fake_file f;
  f.max_bytes = 5; // splits "defgh\n" across calls
  f.interrupt_at = 2;
  CHECK(write_pieces(pieces, iov, f.fn()));
  CHECK(f.written == "abc\ndefgh\ni\n");
  CHECK(f.calls == 4); // 5 bytes, EINTR, 5 bytes, 2 bytes
}

TEST_CASE("at most IOV_MAX buffers a call") {
  std::vector<std::string> texts(2 * IOV_MAX + 5, "x");
  std::vector<std::string_view> pieces(texts.begin(), texts.end());
  std::vector<iovec> iov;
  fake_file f;
  CHECK(write_pieces(pieces, iov, f.fn()));
  CHECK(f.written == std::string(texts.size(), 'x'));
  CHECK(f.calls == 3);
  CHECK(f.most_buffers == IOV_MAX);
}

TEST_CASE("an error or a call that writes nothing ends the write, false") {
  std::vector<std::string_view> pieces{"abc\n", "def\n"};
  std::vector<iovec> iov;
  fake_file f;
  f.max_bytes = 4;
  f.fail_at = 2;
  CHECK_FALSE(write_pieces(pieces, iov, f.fn()));
  CHECK(f.written == "abc\n"); // what came before the error
  fake_file none;
  none.max_bytes = 0;
  CHECK_FALSE(write_pieces(pieces, iov, none.fn()));
  CHECK(none.calls == 1);
  fake_file empty;
  CHECK(write_pieces({"", ""}, iov, empty.fn())); // nothing to write: no call
  CHECK(empty.calls == 0);
}
