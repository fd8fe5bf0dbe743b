// A lane mask over a range, shared by the x86 kernels of every vector width. Plain integer
// code: includable before or inside a file's AVX-512 region.
#pragma once

#include <stdint.h>

namespace outpost {
namespace kernels {
namespace x86 {

// Lanes i in [0, lanes) for which begin + i lies in [0, limit); lanes <= 64.
inline uint64_t RangeMask(int64_t begin, int64_t limit, int lanes) {
  int64_t lo = -begin, hi = limit - begin;
  if (lo < 0) lo = 0;
  if (hi > lanes) hi = lanes;
  if (hi <= lo) return 0;
  const uint64_t upto = hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return upto & ~((uint64_t{1} << lo) - 1);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
