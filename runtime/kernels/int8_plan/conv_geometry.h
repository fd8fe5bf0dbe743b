// The instruction-set-independent preparation of the optimized int8 CONV_2D and
// FULLY_CONNECTED kernels (AArch64 NEON, x86 AVX2 and AVX-512 VNNI): a convolution's
// geometry from shapes and options alone, the model operands' shapes, and the im2col rows.
// Each kernel family derives its own plan from the geometry (tile sizes, padding, scratch),
// so packed_bytes and scratch_bytes (called with the Model before prepare) and prepare
// (called with the tensors) agree. Portable code: no intrinsics here.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {
namespace int8_plan {

// Input [n, c, h, w], weights [m, cg, kh, kw], output [n, m, oh, ow], in groups.
struct ConvGeometry {
  int64_t n, c, h, w, m, kh, kw, oh, ow, groups, cg, mg;
  int64_t sh, sw, dh, dw, pt, pl;
  int64_t k;     // GEMM depth: cg * kh * kw
  int64_t npix;  // output pixels per plane
  bool direct;   // 1x1, stride 1, no padding: GEMM rows are the input planes themselves
};

// False when the shapes or options make no sense (prepare reports the details).
bool MakeConvGeometry(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                      const opm::Conv2DOptions* o, ConvGeometry* g);

// The shape of operand `i` (an input, or an output) of `op` when it has rank `rank`.
bool OperandDims(const Model& model, const opm::Operator& op, bool input, int i, int rank,
                 int32_t* dims);

// Input, weights and output shapes of a CONV_2D from the model.
bool ConvShapes(const Model& model, const opm::Operator& op, int32_t x[4], int32_t wt[4],
                int32_t y[4]);

// A CONV_2D's packed or scratch bytes as a registration's size function: the kernel's plan
// (`Make` extends the geometry) from the model's shapes, then `Bytes` of it; 0 when there is
// no plan (prepare then reports the error or takes the reference path).
template <class Plan,
          bool (*Make)(const int32_t*, const int32_t*, const int32_t*, const opm::Conv2DOptions*,
                       Plan*),
          size_t (*Bytes)(const Plan&)>
size_t ConvPlanBytes(const Model& model, const opm::Operator& op) {
  int32_t x[4], wt[4], y[4];
  Plan p;
  if (!ConvShapes(model, op, x, wt, y) || !Make(x, wt, y, op.options_as<opm::Conv2DOptions>(), &p))
    return 0;
  return Bytes(p);
}

// FULLY_CONNECTED weights [out, k] from the model, both positive.
bool FullyConnectedWeightDims(const Model& model, const opm::Operator& op, int64_t* out,
                              int64_t* k);

// A FULLY_CONNECTED's packed or scratch bytes as a registration's size function: `Bytes` of
// its weights' [out, k]; 0 when the model has no such weights (prepare reports it).
template <size_t (*Bytes)(int64_t out, int64_t k)>
size_t FullyConnectedBytes(const Model& model, const opm::Operator& op) {
  int64_t out, k;
  return FullyConnectedWeightDims(model, op, &out, &k) ? Bytes(out, k) : 0;
}

// Copies the in-range outputs [begin, end) of one im2col row, taking every `sw`-th byte of
// `src` into `row`, as far as it can; returns the first output it left for the portable loop.
// Lets an instruction set plug in its vector gather for strided rows.
using StridedRowCopy = int64_t (*)(const int8_t* src, int64_t sw, int64_t begin, int64_t end,
                                   int64_t src_bytes, int8_t* row);

// Row `k` of the im2col matrix of the group whose first input channel is `xg`: npix values,
// the input zero point `zx` in the padding. `strided` (may be null) speeds up sw > 1.
void Im2colRow(const ConvGeometry& g, const int8_t* xg, int64_t k, int8_t zx, int8_t* row,
               StridedRowCopy strided = nullptr);

// The `n` GEMM rows of depth group q (k = q * n .. q * n + n - 1) of the group whose first
// input channel is `xg`, into out[0 .. n): the input planes themselves for a direct
// convolution, else im2col rows built in `rows` (n rows, `row_stride` bytes apart); null past
// k (their weights are zero).
void GemmRowGroup(const ConvGeometry& g, const int8_t* xg, int64_t q, int n, int8_t zx,
                  int8_t* rows, int64_t row_stride, StridedRowCopy strided, const int8_t** out);

}  // namespace int8_plan
}  // namespace kernels
}  // namespace outpost
