#include "admin_http.hpp"

#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <caf/all.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/dump/effective_config.hpp"
#include "actors/dump/metrics_text.hpp"
#include "messages/json.hpp"

namespace rcmgr {

std::optional<std::string> fetch_effective_config(caf::actor_system& sys,
                                                  const control_actor& control,
                                                  const state_dump_actor& dump,
                                                  std::string& error) {
  // Blocking requests: never on an actor's thread.
  caf::scoped_actor self{sys};
  nlohmann::json config;
  nlohmann::json state;
  self->request(control, std::chrono::seconds(5), get_atom::value, config_atom::value)
      .receive(
          [&](const std::string& doc) {
            config = nlohmann::json::parse(doc, nullptr, false);
          },
          [&](const caf::error& e) { error = "no config: " + caf::to_string(e); });
  if (!error.empty())
    return std::nullopt;
  self->request(dump, std::chrono::seconds(5), dump_atom::value)
      .receive(
          [&](const std::string& doc) {
            state = nlohmann::json::parse(doc, nullptr, false);
          },
          [&](const caf::error& e) { error = "no state dump: " + caf::to_string(e); });
  if (!error.empty())
    return std::nullopt;
  if (config.is_discarded() || state.is_discarded()) {
    error = "the config or the state dump is not JSON";
    return std::nullopt;
  }
  return dump_text(effective_config(config, state));
}

struct admin_http::impl {
  std::unique_ptr<httplib::Server> server_ptr;
  httplib::Server& server;
  std::thread thread;
  std::uint16_t port = 0;
  // The histograms' counters across scrapes; the server's threads take
  // turns with it.
  std::mutex metrics_mutex;
  histogram_carry carry;

  explicit impl(std::unique_ptr<httplib::Server> s)
      : server_ptr(std::move(s)), server(*server_ptr) {}
};

namespace {

std::unique_ptr<httplib::Server> make_server(const std::optional<admin_http_tls>& tls) {
  if (!tls)
    return std::make_unique<httplib::Server>();
  // Given a client CA, httplib requires a client certificate that chains to it
  // (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  auto server = std::make_unique<httplib::SSLServer>(tls->cert.c_str(), tls->key.c_str(),
                                                     tls->client_ca.c_str());
  if (!server->is_valid())
    throw std::runtime_error("cannot set up HTTPS for the admin endpoint with '" +
                             tls->cert + "', '" + tls->key + "' and '" + tls->client_ca +
                             "'");
  return server;
}

} // namespace

admin_http::admin_http(caf::actor_system& sys, state_dump_actor dump,
                       control_actor control, const std::string& host, std::uint16_t port,
                       const std::optional<admin_http_tls>& tls)
    : d_(std::make_unique<impl>(make_server(tls))) {
  d_->server.Get("/state", [&sys, dump](const httplib::Request&, httplib::Response& res) {
    // A blocking request on the server's own thread: never on an actor.
    caf::scoped_actor self{sys};
    self->request(dump, std::chrono::seconds(5), dump_atom::value)
        .receive(
            [&](const std::string& doc) { res.set_content(doc, "application/json"); },
            [&](const caf::error& e) {
              res.status = 503;
              res.set_content("{\"error\":\"" + caf::to_string(e) + "\"}",
                              "application/json");
            });
  });
  d_->server.Get("/metrics", [this, &sys, dump](const httplib::Request&,
                                                httplib::Response& res) {
    // Rendered from the dump itself, so the two never disagree.
    caf::scoped_actor self{sys};
    self->request(dump, std::chrono::seconds(5), dump_atom::value)
        .receive(
            [&](const std::string& doc) {
              auto state = nlohmann::json::parse(doc, nullptr, false);
              if (state.is_discarded()) {
                res.status = 500;
                res.set_content("the state dump is not JSON\n", "text/plain");
                return;
              }
              std::lock_guard<std::mutex> lock{d_->metrics_mutex};
              res.set_content(metrics_text(state, &d_->carry), metrics_content_type);
            },
            [&](const caf::error& e) {
              res.status = 503;
              res.set_content("no state dump: " + caf::to_string(e) + "\n", "text/plain");
            });
  });
  d_->server.Get(
      "/config", [&sys, dump, control](const httplib::Request&, httplib::Response& res) {
        std::string error;
        if (auto doc = fetch_effective_config(sys, control, dump, error)) {
          res.set_content(*doc, "application/json");
          return;
        }
        res.status = 503;
        res.set_content(dump_text(nlohmann::json{{"error", error}}), "application/json");
      });
  int bound = port == 0 ? d_->server.bind_to_any_port(host.c_str())
                        : (d_->server.bind_to_port(host.c_str(), port) ? port : -1);
  if (bound <= 0)
    throw std::runtime_error("cannot bind the admin endpoint to " + host + ":" +
                             std::to_string(port));
  d_->port = static_cast<std::uint16_t>(bound);
  d_->thread = std::thread([this] { d_->server.listen_after_bind(); });
}

admin_http::~admin_http() {
  stop();
}

std::uint16_t admin_http::port() const {
  return d_->port;
}

void admin_http::stop() {
  if (d_->thread.joinable()) {
    d_->server.stop();
    d_->thread.join();
  }
}

} // namespace rcmgr
