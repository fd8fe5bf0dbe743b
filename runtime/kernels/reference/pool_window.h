// The window geometry of MAX_POOL_2D and AVERAGE_POOL_2D, shared by the float and the int8
// kernels so that both accept exactly the same models and visit exactly the same cells.
//
// Window cells outside the input are skipped rather than padded: max pooling ignores them, and
// average pooling divides by the number of cells inside the input, or, with count_include_pad,
// by the number inside the explicitly padded extent [-pad_begin, size + pad_end). Cells that
// ceil_mode adds beyond that extent are never counted (as in PyTorch and the ONNX reference).
//
// The loops are templates in this header: the int8 eval that uses them is integer-only and
// compiled a second time with -mgeneral-regs-only (docs/portability.md).
#pragma once

#include <stdint.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace ref {

struct PoolWindow {
  int32_t kernel[2], stride[2], dilation[2], pad_begin[2], pad_end[2];
  bool count_include_pad;
  bool column_major;  // max pooling indices: storage_order 1
};

// Reads Pool2DOptions into `d` and checks them against the input and output shapes (rank 4,
// the output size one of floor or ceil mode, no window entirely in the padding). The operand
// dtypes are checked already.
Status PreparePoolWindow(KernelContext& ctx, PoolWindow* d);

// MAX_POOL_2D's operands: one `dtype` input, the values output of the same dtype and an
// optional INT64 indices output of the same shape. CheckOperands wants one dtype for all
// outputs, hence this check.
Status CheckMaxPoolOperands(KernelContext& ctx, DType dtype);

// GLOBAL_*_POOL: input [N, C, spatial...] of rank >= 3, output [N, C, 1, ...] of that rank.
Status CheckGlobalPoolShape(KernelContext& ctx);

// Calls cell(out, xp, h0, w0, rh, rw, i, j) for every output cell of every (image, channel)
// plane, in order: `out` is the cell's flat index in the output, `xp` the input plane, (h0, w0)
// the window's top-left input position and rh, rw the window taps that fall inside the input.
template <class T, class Cell>
void ForEachPoolWindow(const PoolWindow& d, const T* x, int64_t planes, int64_t h, int64_t w,
                       int64_t oh, int64_t ow, Cell&& cell) {
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * h * w;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t h0 = i * d.stride[0] - d.pad_begin[0];
      const Range rh = ValidRange(h0, d.dilation[0], h, d.kernel[0]);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t w0 = j * d.stride[1] - d.pad_begin[1];
        const Range rw = ValidRange(w0, d.dilation[1], w, d.kernel[1]);
        cell((p * oh + i) * ow + j, xp, h0, w0, rh, rw, i, j);
      }
    }
  }
}

// The position in its plane of the window's maximum, the first in window order (rows, then
// columns) among equals, as in onnxruntime. `replaces(v, m)`: whether v takes the place of the
// maximum m found so far. Prepare made sure every window has a cell inside the input.
template <class T, class Replaces>
int64_t WindowArgMax(const PoolWindow& d, const T* xp, int64_t w, int64_t h0, int64_t w0,
                     Range rh, Range rw, Replaces&& replaces) {
  int64_t at = (h0 + rh.begin * d.dilation[0]) * w + w0 + rw.begin * d.dilation[1];
  for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
    const int64_t r = h0 + kh * d.dilation[0];
    for (int64_t kw = rw.begin; kw < rw.end; ++kw) {
      const int64_t c = w0 + kw * d.dilation[1];
      if (replaces(xp[r * w + c], xp[at])) at = r * w + c;
    }
  }
  return at;
}

// What ONNX MaxPool's Indices output holds for the maximum at `at` of plane `p`: its position in
// the flattened input, row-major or (storage_order 1) column-major within the plane.
inline int64_t PoolIndex(const PoolWindow& d, int64_t p, int64_t h, int64_t w, int64_t at) {
  const int64_t r = at / w, c = at % w;
  return p * h * w + (d.column_major ? r + c * h : at);
}

// The sum over the window's cells inside the input of f(x).
template <class Acc, class T, class F>
Acc WindowSum(const PoolWindow& d, const T* xp, int64_t w, int64_t h0, int64_t w0, Range rh,
              Range rw, F&& f) {
  Acc sum = 0;
  for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
    const T* xr = xp + (h0 + kh * d.dilation[0]) * w;
    for (int64_t kw = rw.begin; kw < rw.end; ++kw) sum += f(xr[w0 + kw * d.dilation[1]]);
  }
  return sum;
}

// The divisor of average pooling for output cell (i, j) whose window has taps rh, rw inside
// the input: those cells, or with count_include_pad the cells inside [0, padded), i.e.
// [-pad_begin, size + pad_end) shifted by pad_begin.
inline int64_t AverageCount(const PoolWindow& d, int64_t h, int64_t w, int64_t i, int64_t j,
                            Range rh, Range rw) {
  if (!d.count_include_pad) return rh.size() * rw.size();
  const int64_t padded_h = h + d.pad_begin[0] + d.pad_end[0];
  const int64_t padded_w = w + d.pad_begin[1] + d.pad_end[1];
  return ValidRange(i * d.stride[0], d.dilation[0], padded_h, d.kernel[0]).size() *
         ValidRange(j * d.stride[1], d.dilation[1], padded_w, d.kernel[1]).size();
}

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
