// FULLY_CONNECTED with a batch of one on weights left in their stored SPARSE_BITMAP encoding
// (schema/opm.fbs): one bit per weight, then the nonzero weights in order, read in place from
// the model. A dense batch-1 product streams every weight from memory once per Invoke and is
// bound by memory bandwidth; this one streams the nonzero weights and one bit per weight, a
// third of the bytes at 70% sparsity, and needs no decoded copy in the arena.
//
// Each row of the weight matrix is a whole number of bitmap bytes (k % 8 == 0, checked by
// FcReadsSparseWeights). Per bitmap byte, its nonzero weights are expanded into an 8-lane
// vector by a permutation from a table (lane l takes value popcount(byte & ((1 << l) - 1))),
// zeroed where the bit is clear, and multiplied with 8 inputs.
//
// Included by driver_inl.h, i.e. compiled once per instruction set with that set enabled.
// Determinism: each output is one task's, summed in a fixed order whatever the thread count.
#pragma once

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace f32 {
namespace {

typedef float SpVec __attribute__((vector_size(8 * sizeof(float))));
typedef int32_t SpIdx __attribute__((vector_size(8 * sizeof(int32_t))));

// For bitmap byte m: lane l takes value lane[m][l] of the byte's nonzero values, and keep[m][l]
// is all ones where bit l is set, zero where it is clear.
struct SparseExpandTable {
  int32_t lane[256][8];
  int32_t keep[256][8];
  constexpr SparseExpandTable() : lane{}, keep{} {
    for (int m = 0; m < 256; ++m) {
      int next = 0;
      for (int l = 0; l < 8; ++l) {
        const bool set = (m >> l) & 1;
        lane[m][l] = set ? next++ : 0;
        keep[m][l] = set ? -1 : 0;
      }
    }
  }
};
constexpr SparseExpandTable kSparseExpand;

struct FcSparseArgs {
  const float* x;          // [k]
  const uint8_t* bitmap;   // [o * k / 8]
  const float* values;     // the nonzero weights, row after row
  const float* values_end;
  const float* bias;       // [o] or null
  float* y;                // [o]
  int64_t k, o;
  FusedActivation act;
};

constexpr int64_t kSparseRows = 4;               // output rows per task step
constexpr int64_t kSparseBytesPerTask = 2048;    // bitmap bytes below which a split costs more

// Nonzero weights marked in bitmap bytes [0, bytes).
int64_t BitmapPopulation(const uint8_t* bitmap, int64_t bytes) {
  int64_t n = 0, i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t word;
    memcpy(&word, bitmap + i, sizeof(word));
    n += __builtin_popcountll(word);
  }
  for (; i < bytes; ++i) n += __builtin_popcount(bitmap[i]);
  return n;
}

// Eight values from `v`; with kChecked, fewer at the end of the values (never read past them).
template <bool kChecked>
SpVec LoadValues(const float* v, const float* end) {
  SpVec out;
  if (!kChecked || end - v >= 8) {
    memcpy(&out, v, sizeof(out));
  } else {
    float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(tail, v, static_cast<size_t>(end - v) * sizeof(float));
    memcpy(&out, tail, sizeof(out));
  }
  return out;
}

// The eight weights bitmap byte m stands for, from its nonzero values at `v`.
template <bool kChecked>
SpVec ExpandByte(const float* v, const float* end, unsigned m) {
  SpIdx keep;
  memcpy(&keep, kSparseExpand.keep[m], sizeof(keep));
#if defined(__x86_64__)
  // One vpermps: the driver is compiled inside an AVX2 (or AVX-512) target region on x86.
  SpIdx lanes;
  memcpy(&lanes, kSparseExpand.lane[m], sizeof(lanes));
  const SpVec packed = LoadValues<kChecked>(v, end);
  const SpVec w = (SpVec)_mm256_permutevar8x32_ps((__m256)packed, (__m256i)lanes);
#else
  // Only set bits read a value: the model's reader checked that the bitmap marks no more
  // values than there are, so these reads stay before `end`.
  (void)end;
  SpVec w;
  for (int l = 0; l < 8; ++l) w[l] = keep[l] ? v[kSparseExpand.lane[m][l]] : 0.0f;
#endif
  return (SpVec)((SpIdx)w & keep);
}

// One output row: the dot product of `x` with the row whose bitmap is `bits` and whose nonzero
// weights start at `v`; advances `v` past them. kChecked: the row may end within eight values
// of the end of the values, so loads there are shortened.
template <bool kChecked>
float SparseRowDot(const uint8_t* bits, int64_t row_bytes, const float* xr, const float*& v,
                   const float* end) {
  // Two chains, so consecutive bytes do not wait on each other. No branch on empty bytes: at
  // high sparsity a third of them are empty at random, and the mispredictions would cost more
  // than the multiplications they skip.
  SpVec acc0 = {}, acc1 = {};
  int64_t b = 0;
  for (; b + 2 <= row_bytes; b += 2, xr += 16) {
    const unsigned m0 = bits[b], m1 = bits[b + 1];
    const float* v1 = v + __builtin_popcount(m0);
    SpVec x0, x1;
    memcpy(&x0, xr, sizeof(x0));
    memcpy(&x1, xr + 8, sizeof(x1));
    acc0 += ExpandByte<kChecked>(v, end, m0) * x0;
    acc1 += ExpandByte<kChecked>(v1, end, m1) * x1;
    v = v1 + __builtin_popcount(m1);
  }
  if (b < row_bytes) {
    const unsigned m = bits[b];
    SpVec xv;
    memcpy(&xv, xr, sizeof(xv));
    acc0 += ExpandByte<kChecked>(v, end, m) * xv;
    v += __builtin_popcount(m);
  }
  const SpVec acc = acc0 + acc1;
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// A ParallelFor body over blocks of kSparseRows output rows.
void FcSparseRows(void* arg, int64_t begin, int64_t end) {
  const FcSparseArgs& a = *static_cast<const FcSparseArgs*>(arg);
  const int64_t row_bytes = a.k / 8;
  const int64_t first = begin * kSparseRows;
  const int64_t last = end * kSparseRows < a.o ? end * kSparseRows : a.o;
  // This task's first row starts after the nonzero weights of every row before it.
  const float* v = a.values + BitmapPopulation(a.bitmap, first * row_bytes);
  for (int64_t row = first; row < last; ++row) {
    const uint8_t* bits = a.bitmap + row * row_bytes;
    // A row reads at most 8 values past its last nonzero one's byte start: only the last
    // rows of the matrix can come that close to the end and need the shortened loads.
    const float sum = a.values_end - v >= 8 * row_bytes
                          ? SparseRowDot<false>(bits, row_bytes, a.x, v, a.values_end)
                          : SparseRowDot<true>(bits, row_bytes, a.x, v, a.values_end);
    a.y[row] = a.act.Apply(a.bias ? a.bias[row] + sum : sum);
  }
}

void FcSparseGemv(const Executor& ex, const FcSparseArgs& a) {
  const int64_t blocks = (a.o + kSparseRows - 1) / kSparseRows;
  const int64_t bytes_per_block = kSparseRows * a.k / 8;
  const int64_t grain =
      bytes_per_block >= kSparseBytesPerTask ? 1 : kSparseBytesPerTask / bytes_per_block;
  ex.ParallelFor(blocks, grain, FcSparseRows, const_cast<FcSparseArgs*>(&a));
}

}  // namespace
}  // namespace f32
}  // namespace kernels
}  // namespace outpost
