// Asks the kernel whether a socket's peer hung up, without reading from it.
#pragma once

namespace rcmgr {

/// True when `fd` reports a hang-up (POLLRDHUP, POLLHUP or POLLERR) on a
/// zero-timeout poll. Reads no data; false for fd < 0 or a live socket.
bool socket_hung_up(int fd);

} // namespace rcmgr
