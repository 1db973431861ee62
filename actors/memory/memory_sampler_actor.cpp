// The memory sampler's actor shell. The sources (actors/memory_sources.hpp)
// do the reading; this shell owns the loop, the last reading and the
// listeners.
//
// The loop: one tick right at start (the actor's first message), then one
// tick every `sample_interval_ms` on a delayed message to itself. Exactly one
// timer tick is outstanding at any time: only a tick the sampler sent itself
// schedules the next one, so a tick sent from outside (a test, an operator)
// takes one extra sample at once and never starts a second loop. A config
// update's interval applies from the next timer tick (the one already
// scheduled still fires on the old interval). The interval is clamped to
// [1 ms, 1 day] for the timer (timer_delay).
//
// Each tick (kind proc) reads every source; a reading that fails is skipped
// (nothing is pushed, the listeners keep the previous sample, which grows
// old and eventually stale in the gate's eyes) and counted, with its error
// text kept for the dump. A good reading is stamped with the actor's clock
// (virtual time under the test coordinator) and pushed to every listener.
//
// Injected samples (`memory_sample` messages) are taken with either kind: the
// sample replaces the last reading, is stamped with the actor's clock (its
// own `at` is ignored) and is pushed at once. With kind proc the next tick
// reads /proc again and replaces it. With kind injected the sampler never
// reads files: a tick re-pushes the last injected reading with a fresh `at`,
// so that a reading that still holds is not seen as stale by the gate (a tick
// before any injected sample pushes nothing).
#include "actors/memory/memory_sampler_actor.hpp"
#include "messages/json.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/memory/memory_sources.hpp"
#include "messages/time.hpp"

namespace rcmgr {

namespace {

struct memory_sampler_state {
  memory_config cfg;
  memory_sampler_options opts;
  /// The last good reading (read or injected), stamped when taken.
  std::optional<memory_sample> last;
  std::vector<memory_listener> listeners;
  /// Samples pushed (good readings, injected samples, injected re-pushes).
  std::uint64_t samples = 0;
  /// Readings that failed and were skipped.
  std::uint64_t skipped_reads = 0;
  std::optional<std::string> last_read_error;
  /// The one timer tick in flight.
  bool timer_pending = false;
  static inline const char* name = "rcmgr.memory_sampler";
};

using sampler_self = memory_sampler_actor::stateful_pointer<memory_sampler_state>;

std::chrono::milliseconds timer_interval(const memory_config& cfg) {
  return timer_delay(cfg.sample_interval_ms);
}

const char* source_name(memory_source_kind kind) {
  return kind == memory_source_kind::proc ? "proc" : "injected";
}

void push(sampler_self self, memory_sample s) {
  auto& st = self->state;
  s.at = now_ns(self);
  st.last = s;
  ++st.samples;
  for (auto& l : st.listeners)
    self->send(l, s);
}

/// One sampling step: a proc reading, or the injected reading re-stamped.
void sample(sampler_self self) {
  auto& st = self->state;
  if (st.opts.kind == memory_source_kind::injected) {
    if (st.last)
      push(self, *st.last);
    return;
  }
  auto r = read_memory(st.opts.proc_root);
  if (!r) {
    ++st.skipped_reads;
    st.last_read_error = r.error();
    return;
  }
  memory_sample s;
  s.rss = r->rss;
  s.total = r->total;
  s.cgroup_limit = r->cgroup_limit;
  s.cgroup_usage = r->cgroup_usage;
  push(self, s);
}

void schedule_tick(sampler_self self) {
  auto& st = self->state;
  if (st.timer_pending)
    return;
  st.timer_pending = true;
  self->delayed_send(self, timer_interval(st.cfg), tick_atom::value);
}

std::string dump_part(sampler_self self) {
  auto& st = self->state;
  nlohmann::json m{{"source", source_name(st.opts.kind)},
                   {"sample_interval_ms", st.cfg.sample_interval_ms},
                   {"samples", st.samples},
                   {"skipped_reads", st.skipped_reads},
                   {"last_read_error", st.last_read_error
                                           ? nlohmann::json(*st.last_read_error)
                                           : nlohmann::json(nullptr)},
                   {"listeners", st.listeners.size()}};
  return dump_text(nlohmann::json{{"memory", std::move(m)}});
}

memory_sampler_actor::behavior_type
memory_sampler_impl(sampler_self self, memory_config cfg, memory_sampler_options opts) {
  auto& st = self->state;
  st.cfg = cfg;
  st.opts = std::move(opts);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const memory_listener& l) {
                              return caf::actor_cast<caf::actor_addr>(l) == dm.source;
                            }),
             ls.end());
  });
  // The first sample: the actor's first message, before any subscription.
  st.timer_pending = true;
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        auto own = self->current_sender() == self->ctrl();
        if (own)
          self->state.timer_pending = false;
        sample(self);
        if (own)
          schedule_tick(self);
      },
      [self](memory_sample s) { push(self, s); },
      [self](subscribe_atom, const memory_listener& l) {
        if (!l)
          return;
        auto& st = self->state;
        if (std::find(st.listeners.begin(), st.listeners.end(), l) ==
            st.listeners.end()) {
          self->monitor(l);
          st.listeners.push_back(l);
        }
        if (st.last)
          self->send(l, *st.last);
      },
      [self](const node_config& c) -> verdict {
        self->state.cfg = c.memory;
        return verdict::ok();
      },
      [self](dump_part_atom) { return dump_part(self); },
  };
}

} // namespace

memory_sampler_actor spawn_memory_sampler(caf::actor_system& sys,
                                          const memory_config& cfg,
                                          memory_sampler_options opts) {
  return sys.spawn(memory_sampler_impl, cfg, std::move(opts));
}

} // namespace rcmgr
