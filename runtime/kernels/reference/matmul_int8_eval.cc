// MATMUL on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// C[M,N] = A[M,K] * B[K,N] one block of columns at a time: the block's multipliers and zero
// points are derived once, then its int32 accumulators (on the stack) stream rows of B.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {
namespace {

constexpr int64_t kBlock = 64;

void Gemm(const MatMulData& d, const TensorView& bv, const int8_t* a, const int8_t* b,
          int8_t* y8, int32_t* y32) {
  const LinearOutput& o = d.out;
  QuantizedMultiplier mult[kBlock];
  int16_t zb[kBlock];  // |v - zp| <= 255: 16 x 16 -> 32-bit products vectorize well
  int32_t acc[kBlock];
  for (int64_t j0 = 0; j0 < d.n; j0 += kBlock) {
    const int64_t nb = d.n - j0 < kBlock ? d.n - j0 : kBlock;
    for (int64_t j = 0; j < nb; ++j) {
      int32_t z;
      ChannelParams(o, bv, j0 + j, &mult[j], &z);
      zb[j] = static_cast<int16_t>(z);
    }
    for (int64_t i = 0; i < d.m; ++i) {
      for (int64_t j = 0; j < nb; ++j) acc[j] = 0;
      for (int64_t p = 0; p < d.k; ++p) {
        const int16_t av = static_cast<int16_t>(a[i * d.k + p] - o.input_zp);
        if (av == 0) continue;
        const int8_t* br = b + p * d.n + j0;
        for (int64_t j = 0; j < nb; ++j) acc[j] += av * static_cast<int16_t>(br[j] - zb[j]);
      }
      const int64_t at = i * d.n + j0;
      if (y32 != nullptr) {
        for (int64_t j = 0; j < nb; ++j) y32[at + j] = acc[j];
      } else {
        for (int64_t j = 0; j < nb; ++j)
          y8[at + j] = static_cast<int8_t>(FinishAccumulator(o, acc[j], mult[j]));
      }
    }
  }
}

}  // namespace

Status EvalMatMul(KernelContext& ctx) {
  const MatMulData* d = ctx.op_data<MatMulData>();
  const TensorView& bv = ctx.input(1);
  const int8_t* a = ctx.input(0).as<int8_t>();
  const int8_t* b = bv.as<int8_t>();
  const TensorView& yv = ctx.output(0);
  int8_t* y8 = d->out.raw_output ? nullptr : yv.as<int8_t>();
  int32_t* y32 = d->out.raw_output ? yv.as<int32_t>() : nullptr;
  const int64_t a_mat = d->m * d->k, b_mat = d->k * d->n, y_mat = d->m * d->n;
  ref::ForEachMatMulBatch(*d, [&](int64_t t, int64_t ia, int64_t ib) {
    Gemm(*d, bv, a + ia * a_mat, b + ib * b_mat, y8 ? y8 + t * y_mat : nullptr,
         y32 ? y32 + t * y_mat : nullptr);
  });
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
