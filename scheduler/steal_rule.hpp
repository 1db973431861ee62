// When a worker with nothing to do may take a job from another worker's queue.
//
// CAF's work stealing takes the oldest job of another worker's queue whenever
// it finds one. Two actors that answer each other (a node's gate and the
// actor feeding it batches) then change worker every few hundred
// microseconds, each time the idle worker looks, and the gate's tables follow
// it from one CPU's caches to the other's: on a 2-vCPU VM its batches take
// 30-40 % longer for the next hundred after each move (docs/benchmarks.md).
// Such a pair empties its worker's queue at every turn; a job that waits
// behind a long one (a state dump) does not. So a job is taken only from a
// queue whose owner has not once found it empty for `patience`: a job still
// waits at most about `patience` plus one look behind a long job, and a pair
// that keeps its worker busy keeps its worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rcmgr {

class steal_rule {
public:
  /// `patience` in the unit of the times given to may_steal.
  explicit steal_rule(std::int64_t patience) : patience_(patience) {}

  /// Whether a job may be taken from worker `victim` at `now`, given how
  /// many times its owner has so far found its queue empty after taking a job
  /// (`emptied`, never decreasing). True when that count has not changed
  /// since a look at least `patience` ago. Remembers this look.
  bool may_steal(std::size_t victim, std::uint64_t emptied, std::int64_t now);

private:
  struct look {
    std::uint64_t emptied = 0;
    std::int64_t since = 0;
    bool seen = false;
  };

  std::int64_t patience_;
  std::vector<look> looks_; // by worker id
};

} // namespace rcmgr
