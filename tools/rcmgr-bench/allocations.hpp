// Heap allocations made by the calling thread, counted by the bench binary's
// own operator new (allocations.cpp): what core_allocations_per_op reads.
#pragma once

#include <cstdint>

namespace rcmgr::bench {

/// operator new calls on this thread so far.
std::uint64_t thread_allocations();

} // namespace rcmgr::bench
