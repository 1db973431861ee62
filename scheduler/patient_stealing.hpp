// CAF's work-stealing scheduler with one change: an idle worker takes a job
// from another's queue only by steal_rule (steal_rule.hpp), with the relaxed
// sleep (`work-stealing.relaxed-sleep-duration`) as its patience. Everything
// else is CAF's: each worker takes its own newest job first, a message from
// outside CAF is queued round robin and wakes a sleeping worker, and the
// `work-stealing.*` options keep their meaning.
//
// use_node_scheduler (actors/runtime.hpp) installs it; docs/node.md,
// "Threads", says what it trades.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>

#include "scheduler/steal_rule.hpp"

namespace rcmgr {

class patient_stealing : public caf::policy::work_stealing {
public:
  using base = caf::policy::work_stealing;

  struct worker_data : base::worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator* p)
        : base::worker_data(p), looks(to_ns(strategies[2].sleep_duration)) {}
    worker_data(const worker_data& other)
        : base::worker_data(other), looks(to_ns(strategies[2].sleep_duration)) {}

    /// Times the owner found its queue empty after taking a job; thieves
    /// read it.
    std::atomic<std::uint64_t> emptied{0};
    /// This worker's looks at the others' queues (its own thread only).
    steal_rule looks;
  };

  template <class Worker> caf::resumable* dequeue(Worker* self) {
    auto& data = d(self);
    // CAF's two polling phases, then sleeping on the condition variable.
    for (std::size_t phase = 0; phase < 2; ++phase) {
      const auto& s = data.strategies[phase];
      for (std::size_t i = 0; i < s.attempts;
           i += std::max<std::size_t>(s.step_size, 1)) {
        if (auto job = take_own(self))
          return job;
        if (due(i, s.steal_interval))
          if (auto job = steal_waiting(self))
            return job;
        if (s.sleep_duration.count() > 0)
          std::this_thread::sleep_for(s.sleep_duration);
      }
    }
    const auto& relaxed = data.strategies[2];
    auto& wait = data.waitdata;
    for (std::size_t i = 1;; ++i) {
      bool woken;
      {
        std::unique_lock<std::mutex> guard{wait.lock};
        wait.sleeping = true;
        woken = wait.cv.wait_for(guard, relaxed.sleep_duration,
                                 [&] { return !data.queue.empty(); });
        wait.sleeping = false;
      }
      if (woken) {
        if (auto job = take_own(self))
          return job;
      } else if (due(i, relaxed.steal_interval)) {
        if (auto job = steal_waiting(self))
          return job;
      }
    }
  }

private:
  static std::int64_t to_ns(std::chrono::nanoseconds t) { return t.count(); }

  static bool due(std::size_t attempt, std::size_t interval) {
    return interval > 0 && attempt % interval == 0;
  }

  template <class Worker> static caf::resumable* take_own(Worker* self) {
    auto& data = d(self);
    auto job = data.queue.take_head();
    if (job != nullptr && data.queue.empty())
      data.emptied.fetch_add(1, std::memory_order_relaxed);
    return job;
  }

  /// The oldest job of the first other worker (from a random one on) whose
  /// queue steal_rule lets this worker take from.
  template <class Worker> static caf::resumable* steal_waiting(Worker* self) {
    auto* parent = self->parent();
    auto n = parent->num_workers();
    if (n < 2)
      return nullptr;
    auto& data = d(self);
    auto now = to_ns(std::chrono::steady_clock::now().time_since_epoch());
    auto first = data.uniform(data.rengine);
    for (std::size_t k = 0; k < n; ++k) {
      auto id = (first + k) % n;
      if (id == self->id())
        continue;
      auto& victim = d(parent->worker_by_id(id));
      if (!data.looks.may_steal(id, victim.emptied.load(std::memory_order_relaxed), now))
        continue;
      if (auto job = victim.queue.take_tail())
        return job;
    }
    return nullptr;
  }
};

} // namespace rcmgr
