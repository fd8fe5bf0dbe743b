// CONV_2D on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
//
// As in the float kernel, outputs are accumulated tap by tap and padding is never
// materialized: a padded cell holds the input zero point, i.e. contributes (x - zx) = 0, so
// skipping it is exact. The int32 accumulators of a tile of the output plane (a few rows, or
// part of one row) live on the stack, since reference kernels use no scratch memory; for each
// tap the rows and columns of the tile whose input lies inside the image are computed once, so
// the innermost loop runs along an output row without bounds checks.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace int8 {
namespace {

using ref::Range;
using ref::ValidRange;

constexpr int64_t kTile = 256;  // accumulators per tile (1 KiB of stack)

struct ConvJob : ref::ConvSizes {
  const ConvData* d;
  const TensorView* w_view;
  const int8_t* x;
  const int8_t* w;
  const int32_t* bias;  // null when absent
  int8_t* y8;           // INT8 output, or
  int32_t* y32;         // INT32 raw accumulators
};

// acc[0..n) += (x[i * stride] - zx) * wv. Both factors fit in int16 (|v - zp| <= 255), and
// written as a 16 x 16 -> 32-bit product the loop vectorizes without 32-bit multiplies.
inline void Accumulate(int32_t* acc, const int8_t* x, int32_t zx, int32_t wv, int64_t n,
                       int64_t stride) {
  const int16_t z = static_cast<int16_t>(zx), w = static_cast<int16_t>(wv);
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<int16_t>(x[i] - z) * w;
  } else {
    for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<int16_t>(x[i * stride] - z) * w;
  }
}

inline Range Intersect(Range r, int64_t begin, int64_t end) {
  if (r.begin < begin) r.begin = begin;
  if (r.end > end) r.end = end;
  return r;
}

// Computes output planes [begin, end) of the flattened (n, m) range.
void ConvPlanes(void* arg, int64_t begin, int64_t end) {
  const ConvJob& j = *static_cast<const ConvJob*>(arg);
  const ConvData& d = *j.d;
  const int64_t cg = j.c / d.groups, mg = j.m / d.groups;
  const int32_t zx = d.out.input_zp;
  const int64_t tile_w = j.ow < kTile ? j.ow : kTile;
  const int64_t tile_h = kTile / tile_w;
  int32_t acc[kTile];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t n = t / j.m, m = t % j.m, g = m / mg;
    QuantizedMultiplier mult;
    int32_t zw;
    ChannelParams(d.out, *j.w_view, m, &mult, &zw);
    const int32_t b0 = j.bias ? j.bias[m] : 0;
    const int64_t plane = t * j.oh * j.ow;
    for (int64_t r0 = 0; r0 < j.oh; r0 += tile_h) {
      const int64_t r1 = r0 + tile_h < j.oh ? r0 + tile_h : j.oh;
      for (int64_t c0 = 0; c0 < j.ow; c0 += tile_w) {
        const int64_t c1 = c0 + tile_w < j.ow ? c0 + tile_w : j.ow;
        for (int64_t i = 0; i < (r1 - r0) * tile_w; ++i) acc[i] = b0;
        for (int64_t ci = 0; ci < cg; ++ci) {
          const int8_t* xp = j.x + ((n * j.c) + g * cg + ci) * j.h * j.wd;
          const int8_t* wp = j.w + (m * cg + ci) * j.kh * j.kw;
          for (int64_t kh = 0; kh < j.kh; ++kh) {
            const int64_t off_h = kh * d.dilation_h - d.pad_top;
            const Range rh = Intersect(ValidRange(off_h, d.stride_h, j.h, j.oh), r0, r1);
            if (rh.size() == 0) continue;
            for (int64_t kw = 0; kw < j.kw; ++kw) {
              const int32_t wv = wp[kh * j.kw + kw] - zw;
              if (wv == 0) continue;
              const int64_t off_w = kw * d.dilation_w - d.pad_left;
              const Range rw = Intersect(ValidRange(off_w, d.stride_w, j.wd, j.ow), c0, c1);
              if (rw.size() == 0) continue;
              const int8_t* x0 = xp + rw.begin * d.stride_w + off_w;
              for (int64_t oh = rh.begin; oh < rh.end; ++oh)
                Accumulate(acc + (oh - r0) * tile_w + (rw.begin - c0),
                           x0 + (oh * d.stride_h + off_h) * j.wd, zx, wv, rw.size(), d.stride_w);
            }
          }
        }
        for (int64_t oh = r0; oh < r1; ++oh) {
          const int32_t* a = acc + (oh - r0) * tile_w;
          const int64_t at = plane + oh * j.ow + c0;
          if (j.y32 != nullptr) {
            for (int64_t i = 0; i < c1 - c0; ++i) j.y32[at + i] = a[i];
          } else {
            for (int64_t i = 0; i < c1 - c0; ++i)
              j.y8[at + i] = static_cast<int8_t>(FinishAccumulator(d.out, a[i], mult));
          }
        }
      }
    }
  }
}

}  // namespace

Status EvalConv(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  ConvJob j;
  j.d = ctx.op_data<ConvData>();
  j.w_view = &w;
  j.x = x.as<int8_t>();
  j.w = w.as<int8_t>();
  j.bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  j.y8 = j.d->out.raw_output ? nullptr : y.as<int8_t>();
  j.y32 = j.d->out.raw_output ? y.as<int32_t>() : nullptr;
  j.Set(x, w, y);
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * j.m, 1, ConvPlanes, &j);
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
