// Counts heap allocations made by this process while armed. Linking this file replaces
// malloc/calloc/realloc/free (glibc's versions stay reachable as __libc_*), so allocations from
// C++ operator new, the C library and everything else are all seen.
#pragma once

#include <cstddef>

namespace outpost::testing {

void ArmAllocationCounter();
// Stops counting and returns the number of allocations since arming.
size_t DisarmAllocationCounter();

}  // namespace outpost::testing
