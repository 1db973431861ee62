#include "actors/faults/fault_monitor_actor.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/faults/fault_log.hpp"

namespace rcmgr {

namespace {

struct fault_monitor_state {
  fault_log log;
  fault_hook hook;
  std::vector<std::pair<caf::actor_addr, std::string>> watched;
  static inline const char* name = "rcmgr.fault_monitor";
};

using monitor_self = fault_monitor_actor::stateful_pointer<fault_monitor_state>;

/// A stop that belongs to a shutdown (or an actor that simply returned).
bool is_shutdown(const caf::error& reason) {
  if (!reason)
    return true;
  if (reason.category() != caf::atom("exit"))
    return false;
  auto code = static_cast<caf::exit_reason>(reason.code());
  return code == caf::exit_reason::normal || code == caf::exit_reason::user_shutdown;
}

std::string reason_text(caf::actor_system& sys, const caf::error& reason) {
  if (reason.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return sys.render(reason);
}

fault_monitor_actor::behavior_type fault_monitor_impl(monitor_self self,
                                                      fault_hook hook) {
  self->state.hook = std::move(hook);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = std::find_if(st.watched.begin(), st.watched.end(),
                          [&](const auto& w) { return w.first == dm.source; });
    if (i == st.watched.end())
      return;
    auto part = std::move(i->second);
    st.watched.erase(i);
    auto reason = reason_text(self->system(), dm.reason);
    if (st.log.on_stop(part, reason, is_shutdown(dm.reason), now_ns(self)) && st.hook)
      st.hook(part, reason);
  });
  return {
      [self](monitor_atom, std::string& part, const caf::actor& whom) {
        if (!whom)
          return;
        self->monitor(whom);
        self->state.watched.emplace_back(whom.address(), std::move(part));
      },
      [self](dump_part_atom) { return self->state.log.dump_part(now_ns(self)); },
  };
}

} // namespace

fault_monitor_actor spawn_fault_monitor(caf::actor_system& sys, fault_hook hook) {
  return sys.spawn(fault_monitor_impl, std::move(hook));
}

} // namespace rcmgr
