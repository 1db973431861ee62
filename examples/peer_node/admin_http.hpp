// The peer node's admin endpoint: GET /state returns the state dump as JSON,
// GET /metrics the same state as Prometheus text (docs/metrics.md), GET
// /config the config in force with the scope limits resolved from it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

/// The config in force (the control actor's) and the scope limits the gate
/// resolved, as JSON text (actors/dump/effective_config.hpp); nothing, with
/// `error` set, when an actor does not answer within 5 s.
std::optional<std::string> fetch_effective_config(caf::actor_system& sys,
                                                  const control_actor& control,
                                                  const state_dump_actor& dump,
                                                  std::string& error);

/// HTTPS for the admin endpoint: the node's certificate and key, and the CA
/// that every client's certificate must chain to (PEM file paths).
struct admin_http_tls {
  std::string cert;
  std::string key;
  std::string client_ca;
};

class admin_http {
public:
  /// Binds host:port (port 0 = ephemeral) and serves on its own thread;
  /// with `tls`, HTTPS that answers only clients with a certificate from
  /// `tls->client_ca`. Throws std::runtime_error when it cannot bind or
  /// load the TLS files.
  admin_http(caf::actor_system& sys, state_dump_actor dump, control_actor control,
             const std::string& host, std::uint16_t port,
             const std::optional<admin_http_tls>& tls = std::nullopt);
  ~admin_http();

  std::uint16_t port() const;
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> d_;
};

} // namespace rcmgr
