#include "actors/watcher/socket_watcher_actor.hpp"
#include "messages/json.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/watcher/socket_probe.hpp"
#include "actors/watcher/socket_watch.hpp"
#include "actors/watcher/watcher_json.hpp"
#include "messages/time.hpp"

namespace rcmgr {

namespace {

struct watcher_state {
  socket_watch core;
  gate_actor gate;
  std::vector<net_control> nets;
  bool tick_pending = false;
  static inline const char* name = "rcmgr.socket_watcher";
};

using watcher_self = socket_watcher_actor::stateful_pointer<watcher_state>;

/// One tick outstanding at a time: every refresh interval (on the timer at
/// most a day, see timer_delay), or every 100 ms while a peer is throttled (so
/// it resumes as soon as its window allows).
void schedule_tick(watcher_self self) {
  auto& st = self->state;
  if (st.tick_pending)
    return;
  st.tick_pending = true;
  auto interval = timer_delay(st.core.config().refresh_interval_ms);
  if (st.core.throttling())
    interval = std::min(interval, std::chrono::milliseconds(100));
  self->delayed_send(self, interval, tick_atom::value);
}

void execute(watcher_self self, const watcher_actions& acts) {
  auto& st = self->state;
  for (auto& net : st.nets) {
    for (auto& [conn, reason] : acts.close)
      self->send(net, close_atom::value, conn, reason);
    for (auto conn : acts.pause)
      self->send(net, pause_atom::value, conn);
    for (auto conn : acts.resume)
      self->send(net, resume_atom::value, conn);
    for (auto& [conn, bytes_per_s] : acts.throttle)
      self->send(net, throttle_atom::value, conn, bytes_per_s);
  }
  if (st.gate)
    for (auto& b : acts.block)
      self->send(st.gate, b);
  if (!acts.pause.empty())
    schedule_tick(self); // throttling now: check back within 100 ms
}

socket_watcher_actor::behavior_type watcher_impl(watcher_self self, watcher_config cfg,
                                                 gate_actor gate) {
  self->state.core.configure(cfg);
  self->state.gate = std::move(gate);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& nets = self->state.nets;
    nets.erase(std::remove_if(nets.begin(), nets.end(),
                              [&](const net_control& n) {
                                return caf::actor_cast<caf::actor_addr>(n) == dm.source;
                              }),
               nets.end());
  });
  schedule_tick(self);
  return {
      [self](const watch_socket& w) {
        watcher_actions acts;
        self->state.core.watch(w.conn, w.peer, w.fd, now_ns(self), acts);
        execute(self, acts);
      },
      [self](const unwatch_socket& u) {
        watcher_actions acts;
        self->state.core.unwatch(u.conn, acts);
        execute(self, acts);
      },
      [self](const traffic_report& r) {
        execute(self, self->state.core.on_traffic(r.samples, now_ns(self)));
      },
      [self](const peer_violation& v) {
        execute(self, self->state.core.on_violation(v.peer, v.kind, now_ns(self)));
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.tick_pending = false;
        execute(self, st.core.refresh(now_ns(self), socket_hung_up));
        schedule_tick(self);
      },
      [self](subscribe_atom, const net_control& net) {
        auto& nets = self->state.nets;
        if (!net || std::find(nets.begin(), nets.end(), net) != nets.end())
          return; // a second subscription would double every order
        self->monitor(net);
        self->state.nets.push_back(net);
      },
      [self](const node_config& c) -> verdict {
        execute(self, self->state.core.reconfigure(c.watcher, now_ns(self)));
        return verdict::ok();
      },
      [self](dump_part_atom) {
        auto now = now_ns(self);
        nlohmann::json part{{"watcher", to_json(self->state.core.stats_at(now))},
                            {"anomalies", to_json(self->state.core.anomalies())}};
        return dump_text(part);
      },
  };
}

} // namespace

socket_watcher_actor spawn_socket_watcher(caf::actor_system& sys,
                                          const watcher_config& cfg, gate_actor gate) {
  return sys.spawn(watcher_impl, cfg, std::move(gate));
}

} // namespace rcmgr
