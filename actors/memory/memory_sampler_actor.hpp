// The memory sampler: reads process RSS, system total and the cgroup v2
// limit every `sample_interval_ms` on delayed messages, and pushes a
// memory_sample to its listeners (the gate, users). The admission path never
// reads /proc itself.
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace rcmgr {

enum class memory_source_kind {
  /// Reads /proc (under `proc_root`, so tests can point at a fake tree).
  proc,
  /// Reads nothing: only injected `memory_sample` messages (rcmgr-replay).
  injected,
};

struct memory_sampler_options {
  memory_source_kind kind = memory_source_kind::proc;
  /// Root of the file system the proc source reads: "/" in production.
  std::string proc_root = "/";
};

memory_sampler_actor spawn_memory_sampler(caf::actor_system& sys, const memory_config& cfg,
                                          memory_sampler_options opts);

} // namespace rcmgr
