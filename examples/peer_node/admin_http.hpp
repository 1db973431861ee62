// The peer node's admin endpoint: GET /state returns the state dump as JSON,
// GET /metrics the same state as Prometheus text (docs/metrics.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

class admin_http {
public:
  /// Binds host:port (port 0 = ephemeral) and serves on its own thread.
  /// Throws std::runtime_error when it cannot bind.
  admin_http(caf::actor_system& sys, state_dump_actor dump, const std::string& host,
             std::uint16_t port);
  ~admin_http();

  std::uint16_t port() const;
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> d_;
};

} // namespace rcmgr
