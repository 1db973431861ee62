#include "actors/watcher/socket_probe.hpp"

#include <poll.h>

namespace rcmgr {

bool socket_hung_up(int fd) {
  if (fd < 0)
    return false;
  pollfd p{};
  p.fd = fd;
  p.events = POLLRDHUP;
  if (::poll(&p, 1, 0) <= 0)
    return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

} // namespace rcmgr
