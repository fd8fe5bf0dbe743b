// MATMUL's shapes under NumPy matmul semantics (a rank-1 A is a row vector, a rank-1 B a column
// vector, batch axes broadcast), shared by the float and int8 kernels: prepare checks them
// once, eval walks the batch with ForEachMatMulBatch. Integer-only, so the int8 eval may use it.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace ref {

constexpr int kMaxBatchRank = kMaxRank - 2;

struct MatMulShape {
  int64_t m, k, n;
  int32_t batch_rank;
  int32_t batch_dims[kMaxBatchRank];
  // Strides in whole matrices; 0 on axes an operand broadcasts along.
  int64_t a_strides[kMaxBatchRank];
  int64_t b_strides[kMaxBatchRank];
};

// Checks A (input 0), B (input 1) and the stored output shape against each other and fills `d`.
Status PrepareMatMulShape(KernelContext& ctx, MatMulShape* d);

// Calls gemm(t, ia, ib) for every output matrix t in order, with the indices of the A and B
// matrices it multiplies (broadcast axes repeat a matrix).
template <class Gemm>
void ForEachMatMulBatch(const MatMulShape& d, Gemm&& gemm) {
  int64_t batches = 1;
  for (int i = 0; i < d.batch_rank; ++i) batches *= d.batch_dims[i];
  int32_t idx[kMaxBatchRank] = {0};
  int64_t ia = 0, ib = 0;
  for (int64_t t = 0; t < batches; ++t) {
    gemm(t, ia, ib);
    for (int i = d.batch_rank - 1; i >= 0; --i) {
      ia += d.a_strides[i];
      ib += d.b_strides[i];
      if (++idx[i] < d.batch_dims[i]) break;
      ia -= d.a_strides[i] * d.batch_dims[i];
      ib -= d.b_strides[i] * d.batch_dims[i];
      idx[i] = 0;
    }
  }
}

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
