#include "tests/portability/allocation_counter.h"

#include <atomic>
#include <cstdlib>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> armed{false};
std::atomic<size_t> count{0};
void Note() {
  if (armed.load(std::memory_order_relaxed)) count.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  Note();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  Note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  Note();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}

namespace outpost::testing {

void ArmAllocationCounter() {
  count = 0;
  armed = true;
}

size_t DisarmAllocationCounter() {
  armed = false;
  return count.load();
}

}  // namespace outpost::testing
