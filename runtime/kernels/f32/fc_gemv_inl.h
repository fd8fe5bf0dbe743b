// FULLY_CONNECTED with a batch of one, as a matrix-vector product over the weights in their
// stored [out, in] layout. Nothing is packed: prepare does no work and needs no packed memory
// (for a 3136 x 128 layer a 1.6 MB copy, whose page faults alone cost milliseconds of cold
// start on a virtual machine),
// and with one input row a GEMM micro-tile would waste most of its rows anyway. Every weight
// is read once per Invoke in either layout, so the product is bound by memory bandwidth.
//
// Included by driver_inl.h, i.e. compiled once per instruction set with that set enabled.
// 16-float GCC vectors: one zmm under AVX-512, a pair of ymm under AVX2.
//
// Determinism: each output is computed by one task, its dot product in a fixed order (16 lanes
// over k, lanes summed in order, then the k % 16 tail), so the thread count does not matter.
#pragma once

#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace f32 {
namespace {

struct FcGemvArgs {
  const float* x;     // [k]
  const float* w;     // [o, k]
  const float* bias;  // [o] or null
  float* y;           // [o]
  int64_t k, o;
  FusedActivation act;
};

// Output rows per task step: each load of x serves this many weight rows, and the rows are
// independent accumulation chains that hide the FMA latency.
constexpr int64_t kGemvRows = 4;
constexpr int kGemvLanes = 16;
// Below this many multiply-adds per parallel task a call costs more than it saves.
constexpr int64_t kGemvMacsPerTask = 16384;

typedef float GemvVec __attribute__((vector_size(kGemvLanes * sizeof(float))));
// The same vector read from any float address (unaligned loads, may alias float data).
typedef float GemvVecIn
    __attribute__((vector_size(kGemvLanes * sizeof(float)), aligned(4), may_alias));

// A ParallelFor body over blocks of kGemvRows output rows.
void FcGemvRows(void* arg, int64_t begin, int64_t end) {
  const FcGemvArgs& a = *static_cast<const FcGemvArgs*>(arg);
  const int64_t k = a.k, kv = k - k % kGemvLanes;
  for (int64_t block = begin; block < end; ++block) {
    const int64_t r0 = block * kGemvRows;
    const int64_t rows = a.o - r0 < kGemvRows ? a.o - r0 : kGemvRows;
    // Rows past the end repeat the last row (computed, never stored): one loop for all blocks.
    const float* w[kGemvRows];
    for (int64_t r = 0; r < kGemvRows; ++r) w[r] = a.w + (r0 + (r < rows ? r : rows - 1)) * k;
    GemvVec acc[kGemvRows] = {};
    for (int64_t kk = 0; kk < kv; kk += kGemvLanes) {
      const GemvVec xv = *reinterpret_cast<const GemvVecIn*>(a.x + kk);
      for (int64_t r = 0; r < kGemvRows; ++r)
        acc[r] += *reinterpret_cast<const GemvVecIn*>(w[r] + kk) * xv;
    }
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0.0f;
      for (int l = 0; l < kGemvLanes; ++l) sum += acc[r][l];
      for (int64_t kk = kv; kk < k; ++kk) sum += w[r][kk] * a.x[kk];
      const int64_t row = r0 + r;
      a.y[row] = a.act.Apply(a.bias ? a.bias[row] + sum : sum);
    }
  }
}

void FcGemv(const Executor& ex, const FcGemvArgs& a) {
  const int64_t blocks = (a.o + kGemvRows - 1) / kGemvRows;
  const int64_t macs_per_block = kGemvRows * a.k;
  const int64_t grain = macs_per_block >= kGemvMacsPerTask ? 1 : kGemvMacsPerTask / macs_per_block;
  ex.ParallelFor(blocks, grain, FcGemvRows, const_cast<FcGemvArgs*>(&a));
}

}  // namespace
}  // namespace f32
}  // namespace kernels
}  // namespace outpost
