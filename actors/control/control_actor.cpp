#include "actors/control/control_actor.hpp"
#include "messages/json.hpp"

#include <caf/all.hpp>

#include "messages/config_json.hpp"

namespace rcmgr {

namespace {

struct control_state {
  node_config config;
  control_targets targets;
  static inline const char* name = "rcmgr.control";
};

using control_self = control_actor::stateful_pointer<control_state>;

/// Sends a valid config to every target and answers once all have taken it.
caf::result<verdict> fan_out(control_self self, const node_config& cfg) {
  self->state.config = cfg;
  auto rp = self->make_response_promise<verdict>();
  auto& t = self->state.targets;
  auto outstanding = std::make_shared<std::size_t>(4);
  auto first_error = std::make_shared<verdict>(verdict::ok());
  auto done = [rp, outstanding, first_error](const verdict& v) mutable {
    if (v.kind == verdict_kind::error && first_error->kind != verdict_kind::error)
      *first_error = v;
    if (--*outstanding == 0)
      rp.deliver(*first_error);
  };
  auto on_error = [done](const caf::error& e) mutable {
    done(verdict::fail("a resource actor did not take the config: " + caf::to_string(e)));
  };
  self->request(t.gate, caf::infinite, cfg).then(done, on_error);
  self->request(t.sampler, caf::infinite, cfg).then(done, on_error);
  self->request(t.rate_limiter, caf::infinite, cfg).then(done, on_error);
  self->request(t.watcher, caf::infinite, cfg).then(done, on_error);
  return rp;
}

control_actor::behavior_type control_impl(control_self self, node_config cfg,
                                          control_targets targets) {
  self->state.config = std::move(cfg);
  self->state.targets = std::move(targets);
  return {
      [self](config_atom, const std::string& text) -> caf::result<verdict> {
        auto parsed = parse_config_text(text);
        if (!parsed)
          return verdict::fail("invalid config: " + parsed.error().text());
        return fan_out(self, std::move(*parsed));
      },
      [self](const node_config& c) -> caf::result<verdict> {
        // Checked by the rules of its JSON form (parse_config(to_json(c)) == c
        // for a valid one) before any target sees it: no target may take a
        // part of a config another would refuse.
        if (auto checked = parse_config(to_json(c)); !checked)
          return verdict::fail("invalid config: " + checked.error().text());
        return fan_out(self, c);
      },
      [self](const bypass_peer& x) -> caf::result<verdict> {
        auto& peers = self->state.config.bypass_peers;
        if (!x.peer.empty() &&
            std::find(peers.begin(), peers.end(), x.peer) == peers.end())
          peers.push_back(x.peer);
        return self->delegate(self->state.targets.gate, x);
      },
      [self](const remove_bypass& x) -> caf::result<verdict> {
        auto& peers = self->state.config.bypass_peers;
        peers.erase(std::remove(peers.begin(), peers.end(), x.peer), peers.end());
        return self->delegate(self->state.targets.gate, x);
      },
      [self](get_atom, config_atom) { return dump_text(to_json(self->state.config)); },
  };
}

} // namespace

control_actor spawn_control(caf::actor_system& sys, const node_config& cfg,
                            control_targets targets) {
  return sys.spawn(control_impl, cfg, std::move(targets));
}

} // namespace rcmgr
