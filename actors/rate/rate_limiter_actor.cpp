// The rate limiter's actor shell: one rate_limits core; each message is one
// call with the actor's clock (virtual under the test coordinator).
#include "actors/rate/rate_limiter_actor.hpp"
#include "messages/json.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/rate/rate_json.hpp"
#include "actors/rate/rate_limits.hpp"

namespace rcmgr {

namespace {

struct rate_limiter_state {
  rate_limits core;
  static inline const char* name = "rcmgr.rate_limiter";
};

using rate_limiter_self = rate_limiter_actor::stateful_pointer<rate_limiter_state>;

rate_limiter_actor::behavior_type rate_limiter_impl(rate_limiter_self self,
                                                    rate_limits_config cfg) {
  self->state.core.configure(cfg);
  return {
      [self](const protocol_message& msg) {
        return self->state.core.check(msg, now_ns(self));
      },
      [self](const protocol_batch& batch) {
        return self->state.core.check_batch(batch.messages, now_ns(self));
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
                                      const rate_limits_config& cfg) {
  return sys.spawn(rate_limiter_impl, cfg);
}

} // namespace rcmgr
