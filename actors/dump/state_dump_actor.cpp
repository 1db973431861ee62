#include "actors/dump/state_dump_actor.hpp"

#include <map>

#include <caf/all.hpp>

#include "actors/dump/dump_merge.hpp"

namespace rcmgr {

namespace {

/// One dump in progress: the parts asked for in parallel, joined as they come.
struct pending_dump {
  caf::typed_response_promise<std::string> promise;
  dump_assembler doc;
  std::vector<std::string> missing;
  std::size_t outstanding = 0;
};

struct state_dump_state {
  std::vector<dump_source> sources;
  state_dump_options opts;
  std::map<std::uint64_t, pending_dump> pending;
  std::uint64_t next_id = 0;
  static inline const char* name = "rcmgr.state_dump";
};

using dump_self = state_dump_actor::stateful_pointer<state_dump_state>;

void part_done(dump_self self, std::uint64_t id) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end() || --i->second.outstanding > 0)
    return;
  auto& p = i->second;
  p.promise.deliver(p.doc.finish(std::move(p.missing)));
  self->state.pending.erase(i);
}

state_dump_actor::behavior_type state_dump_impl(dump_self self,
                                                std::vector<dump_source> sources,
                                                state_dump_options opts) {
  self->state.sources = std::move(sources);
  self->state.opts = opts;
  return {
      [self](dump_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.sources.empty())
          return dump_assembler{}.finish({});
        auto id = st.next_id++;
        auto& p = st.pending[id];
        p.promise = self->make_response_promise<std::string>();
        p.outstanding = st.sources.size();
        auto timeout = caf::duration{st.opts.part_timeout};
        for (auto& src : st.sources) {
          auto name = src.name;
          self->request(src.handle, timeout, dump_part_atom::value)
              .then(
                  [self, id, name](const std::string& text) {
                    auto i = self->state.pending.find(id);
                    if (i != self->state.pending.end() && !i->second.doc.add(text))
                      i->second.missing.push_back(name); // unreadable counts as absent
                    part_done(self, id);
                  },
                  [self, id, name](const caf::error&) {
                    auto i = self->state.pending.find(id);
                    if (i != self->state.pending.end())
                      i->second.missing.push_back(name);
                    part_done(self, id);
                  });
        }
        return p.promise;
      },
  };
}

} // namespace

state_dump_actor spawn_state_dump(caf::actor_system& sys,
                                  std::vector<dump_source> sources,
                                  state_dump_options opts) {
  return sys.spawn(state_dump_impl, std::move(sources), opts);
}

} // namespace rcmgr
