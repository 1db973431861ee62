// The bench binary's operator new and delete: malloc and free, with a count
// per thread. A thread-local count costs one increment per allocation and no
// synchronisation, so the other phases run as they would without it.
#include "allocations.hpp"

#include <cstdlib>
#include <new>

namespace rcmgr::bench {
namespace {
thread_local std::uint64_t allocations = 0;
} // namespace

std::uint64_t thread_allocations() {
  return allocations;
}

} // namespace rcmgr::bench

void* operator new(std::size_t size) {
  ++rcmgr::bench::allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc{};
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++rcmgr::bench::allocations;
  return std::malloc(size == 0 ? 1 : size);
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
