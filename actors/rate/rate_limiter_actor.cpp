// The rate limiter's actor shell: one rate_limits core; each message is one
// call with the actor's clock (virtual under the test coordinator).
#include "actors/rate/rate_limiter_actor.hpp"
#include "messages/json.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/rate/rate_json.hpp"
#include "actors/rate/rate_limits.hpp"
#include "actors/trace/trace_lines.hpp"

namespace rcmgr {

namespace {

struct rate_limiter_state {
  rate_limits core;
  trace_hook trace;
  trace_backlog trace_sent;
  static inline const char* name = "rcmgr.rate_limiter";
};

using rate_limiter_self = rate_limiter_actor::stateful_pointer<rate_limiter_state>;

/// Sends a message and its verdict to the trace; call only when there is one.
void trace_decision(rate_limiter_self self, time_ns now, const protocol_message& msg,
                    const verdict& v) {
  auto& tr = self->state.trace;
  auto t = now - tr.origin;
  auto line = trace_line(t, trace_event_json(input_event{msg}), v);
  line += '\n';
  send_trace_lines(self, self->state.trace_sent, tr, t, std::move(line), 1);
}

rate_limiter_actor::behavior_type
rate_limiter_impl(rate_limiter_self self, rate_limits_config cfg, trace_hook trace) {
  self->state.core.configure(cfg);
  self->state.trace = std::move(trace);
  self->state.trace_sent = trace_backlog{self->state.trace.max_backlog_bytes};
  return {
      [self](const oneway<protocol_message>& ow) {
        // The one-way form: the same check, answered with an event_verdict.
        // First: CAF 0.17 tries handlers in order, and each miss costs a
        // type_info comparison.
        auto now = now_ns(self);
        auto v = self->state.core.check(ow.event, now);
        if (self->state.trace)
          trace_decision(self, now, ow.event, v);
        if (ow.reply_to)
          self->send(ow.reply_to, event_verdict{ow.id, std::move(v)});
      },
      [self](const protocol_message& msg) {
        auto now = now_ns(self);
        auto v = self->state.core.check(msg, now);
        if (self->state.trace)
          trace_decision(self, now, msg, v);
        return v;
      },
      [self](const protocol_batch& batch) {
        auto now = now_ns(self);
        auto vs = self->state.core.check_batch(batch.messages, now);
        if (self->state.trace)
          for (std::size_t i = 0; i < vs.size() && i < batch.messages.size(); ++i)
            trace_decision(self, now, batch.messages[i], vs[i]);
        return vs;
      },
      [self](const node_config& cfg) {
        // The control actor sends validated configs; anything else that is out
        // of bounds is rejected and the rules in force stay.
        if (auto err = rate_limits::validate(cfg.rate_limits); !err.empty())
          return verdict::fail("invalid rate_limits: " + err);
        // A changed rate_limits section resets every bucket; an identical one
        // (an update of another section) changes nothing.
        self->state.core.configure(cfg.rate_limits);
        return verdict::ok();
      },
      [self](dump_part_atom) {
        return dump_text(rate_dump_part(self->state.core.stats_at(now_ns(self))));
      },
  };
}

} // namespace

rate_limiter_actor spawn_rate_limiter(caf::actor_system& sys,
                                      const rate_limits_config& cfg, trace_hook trace) {
  return sys.spawn(rate_limiter_impl, cfg, std::move(trace));
}

} // namespace rcmgr
