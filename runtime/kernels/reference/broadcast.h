// NumPy broadcasting of two operands to the output of an element-wise binary op, shared by the
// float and int8 kernels: prepare checks the shapes once, eval visits the elements with
// ForEachBroadcast. Integer-only, so the int8 eval may use it.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace ref {

struct BinaryBroadcast {
  int64_t a_strides[kMaxRank];
  int64_t b_strides[kMaxRank];
};

// Inputs 0 and 1 must broadcast to output 0, and every output axis must come from at least
// one input (no silent zero-stride expansion).
Status PrepareBinaryBroadcast(KernelContext& ctx, BinaryBroadcast* d);

// Calls f(i, ia, ib) for every output element i in order, with the offsets of the input
// elements it combines. Element i of an output aliasing input 0 is read before it is written.
template <class F>
void ForEachBroadcast(const BinaryBroadcast& d, const TensorView& a, const TensorView& b,
                      const TensorView& y, F&& f) {
  const int64_t n = y.num_elements();
  // Fast path: both operands are full size.
  if (a.num_elements() == n && b.num_elements() == n) {
    for (int64_t i = 0; i < n; ++i) f(i, i, i);
    return;
  }
  int32_t idx[kMaxRank] = {0};
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, ia, ib);
    // Odometer increment over the output index, keeping both input offsets in step.
    for (int k = y.rank - 1; k >= 0; --k) {
      ia += d.a_strides[k];
      ib += d.b_strides[k];
      if (++idx[k] < y.dims[k]) break;
      ia -= d.a_strides[k] * y.dims[k];
      ib -= d.b_strides[k] * y.dims[k];
      idx[k] = 0;
    }
  }
}

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
