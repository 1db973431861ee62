#include "admin_http.hpp"

#include <stdexcept>
#include <thread>

#include <caf/all.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/dump/metrics_text.hpp"

namespace rcmgr {

struct admin_http::impl {
  httplib::Server server;
  std::thread thread;
  std::uint16_t port = 0;
};

admin_http::admin_http(caf::actor_system& sys, state_dump_actor dump,
                       const std::string& host, std::uint16_t port)
    : d_(std::make_unique<impl>()) {
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
  d_->server.Get("/metrics", [&sys, dump](const httplib::Request&,
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
              res.set_content(metrics_text(state), metrics_content_type);
            },
            [&](const caf::error& e) {
              res.status = 503;
              res.set_content("no state dump: " + caf::to_string(e) + "\n", "text/plain");
            });
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
