// Writing a trace's lines to its file: plain C++ over a writev-like call, so
// that short and interrupted writes are tested without a file that makes
// them.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include <sys/types.h>
#include <sys/uio.h>

namespace rcmgr {

/// Writes up to `count` buffers of `iov` and returns the bytes written, or
/// -1 with errno set: ::writev's contract.
using writev_fn = std::function<ssize_t(const iovec* iov, int count)>;

/// Writes `pieces` in order through `write`, in as few calls as it allows
/// (at most IOV_MAX buffers a call): a short write is continued where it
/// stopped, an interrupted one (EINTR) retried. Empty pieces are skipped.
/// False on an error or a call that writes nothing; what came before it was
/// written. `iov` is scratch space the caller keeps from call to call.
bool write_pieces(const std::vector<std::string_view>& pieces, std::vector<iovec>& iov,
                  const writev_fn& write);

} // namespace rcmgr
