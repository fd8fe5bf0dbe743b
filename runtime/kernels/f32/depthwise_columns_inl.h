// The column-vector depthwise convolution shared by the instruction sets whose depthwise
// micro-kernel vectorizes along output columns (NEON: 4 lanes, AVX2: 8 lanes). Include after
// defining the instruction set's struct, inside its namespace.
//
// The interior columns in vectors of Isa::kDepthwiseLanes columns, four vectors at once while
// they fit (independent accumulators, so the FMA latency of one chain hides behind the
// others). The border columns (some tap falls into the padding, or past the row end): with
// Isa::kMaskedEdgeRows in vectors whose loads are masked to the row, four rows' sums at once
// (one border column at a time in scalar code took most of MobileNetV2's depthwise time on
// AVX2: 8 of every 56 columns, and every column of its 14x14 and 7x7 planes); otherwise
// (NEON) one column at a time in scalar code. The instruction set supplies:
//   Vec, Act            its vector type and fused activation (Act(FusedActivation))
//   kDepthwiseLanes     floats per vector
//   Splat(float)        a vector of one value
//   Load(p), Store(p,v) unaligned vector load and store
//   LoadEven(p)         p[0], p[2], ...: the stride-2 columns (may read the odd float after)
//   Fma(a, b, c)        a * b + c
//   kMaskedEdgeRows     whether it has DepthwiseEdgeRows<kR>(j, xp, wp, yp, oy, ox0, b0, act)
#pragma once

#include <stdint.h>

#include "runtime/kernels/f32/tile.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace f32 {

// One output column the slow way: the borders, where some taps fall into the padding.
inline float DepthwiseBorderColumn(const DepthwiseArgs& j, const float* xp, const float* wp,
                                   int64_t oy, int64_t ox, float b0) {
  const ref::ConvF32Data& d = *j.d;
  float acc = b0;
  for (int64_t u = 0; u < j.kh; ++u) {
    const int64_t iy = oy * d.stride_h - d.pad_top + u * d.dilation_h;
    if (iy < 0 || iy >= j.h) continue;
    for (int64_t v = 0; v < j.kw; ++v) {
      const int64_t ix = ox * d.stride_w - d.pad_left + v * d.dilation_w;
      if (ix >= 0 && ix < j.wd) acc += xp[iy * j.wd + ix] * wp[u * j.kw + v];
    }
  }
  return j.d->act.Apply(acc);
}

// kNB vectors of interior output columns from ox0 on.
template <class Isa, int kNB>
inline void DepthwiseBlocks(const DepthwiseArgs& j, const float* xp, const float* wp, float* yrow,
                            int64_t oy, int64_t ox0, typename Isa::Vec b0,
                            const typename Isa::Act& act) {
  constexpr int64_t kLanes = Isa::kDepthwiseLanes;
  const ref::ConvF32Data& d = *j.d;
  typename Isa::Vec acc[kNB];
  for (int b = 0; b < kNB; ++b) acc[b] = b0;
  for (int64_t u = 0; u < j.kh; ++u) {
    const int64_t iy = oy * d.stride_h - d.pad_top + u * d.dilation_h;
    if (iy < 0 || iy >= j.h) continue;
    const float* row = xp + iy * j.wd + ox0 * d.stride_w - d.pad_left;
    for (int64_t v = 0; v < j.kw; ++v) {
      const typename Isa::Vec wv = Isa::Splat(wp[u * j.kw + v]);
      const float* p = row + v * d.dilation_w;
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const typename Isa::Vec xv =
            d.stride_w == 1 ? Isa::Load(p + kLanes * b) : Isa::LoadEven(p + 2 * kLanes * b);
        acc[b] = Isa::Fma(wv, xv, acc[b]);
      }
    }
  }
  for (int b = 0; b < kNB; ++b) Isa::Store(yrow + ox0 + kLanes * b, act(acc[b]));
}

// kR output rows from oy, for an instruction set with masked loads (Isa::kMaskedEdgeRows):
// interior columns [lo, hi) in blocks of 4 or 1 vectors per row, the others in
// Isa::DepthwiseEdgeRows<kR>, vectors whose loads are masked to the row.
template <class Isa, int kR>
inline void DepthwiseRowsWithEdges(const DepthwiseArgs& j, const float* xp, const float* wp,
                                   float* yp, int64_t oy, int64_t lo, int64_t hi,
                                   typename Isa::Vec b0, const typename Isa::Act& act) {
  constexpr int64_t kLanes = Isa::kDepthwiseLanes;
  for (int64_t ox = 0; ox < j.ow;) {
    if (ox >= lo && ox + 4 * kLanes <= hi) {
      for (int r = 0; r < kR; ++r)
        DepthwiseBlocks<Isa, 4>(j, xp, wp, yp + (oy + r) * j.ow, oy + r, ox, b0, act);
      ox += 4 * kLanes;
    } else if (ox >= lo && ox + kLanes <= hi) {
      for (int r = 0; r < kR; ++r)
        DepthwiseBlocks<Isa, 1>(j, xp, wp, yp + (oy + r) * j.ow, oy + r, ox, b0, act);
      ox += kLanes;
    } else {
      Isa::template DepthwiseEdgeRows<kR>(j, xp, wp, yp, oy, ox, b0, act);
      ox += kLanes;
    }
  }
}

// A ParallelFor body over (image, channel) planes.
template <class Isa>
void DepthwisePlanesByColumns(void* arg, int64_t begin, int64_t end) {
  constexpr int64_t kLanes = Isa::kDepthwiseLanes;
  const DepthwiseArgs& j = *static_cast<const DepthwiseArgs*>(arg);
  const ref::ConvF32Data& d = *j.d;
  const typename Isa::Act act(d.act);
  // Interior columns: every tap's input column (and with stride 2 the odd column after it,
  // which the de-interleaving load reads) lies in the row.
  const int64_t reach = (j.kw - 1) * d.dilation_w + (d.stride_w == 2 ? 1 : 0);
  const int64_t lo = ref::ValidRange(-d.pad_left, d.stride_w, j.wd, j.ow).begin;
  const int64_t hi = ref::ValidRange(reach - d.pad_left, d.stride_w, j.wd, j.ow).end;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t ch = t % j.c;
    const float* xp = j.x + t * j.h * j.wd;
    const float* wp = j.w + ch * j.kh * j.kw;
    float* yp = j.y + t * j.oh * j.ow;
    const float bias = j.bias != nullptr ? j.bias[ch] : 0.0f;
    const typename Isa::Vec b0 = Isa::Splat(bias);
    if constexpr (Isa::kMaskedEdgeRows) {
      // Four rows at a time: the border blocks' sums are then four independent chains.
      int64_t oy = 0;
      for (; oy + 4 <= j.oh; oy += 4)
        DepthwiseRowsWithEdges<Isa, 4>(j, xp, wp, yp, oy, lo, hi, b0, act);
      for (; oy < j.oh; ++oy) DepthwiseRowsWithEdges<Isa, 1>(j, xp, wp, yp, oy, lo, hi, b0, act);
      continue;
    }
    for (int64_t oy = 0; oy < j.oh; ++oy) {
      float* yrow = yp + oy * j.ow;
      int64_t ox = 0;
      for (; ox < j.ow && ox < lo; ++ox) yrow[ox] = DepthwiseBorderColumn(j, xp, wp, oy, ox, bias);
      for (; ox + 4 * kLanes <= hi; ox += 4 * kLanes)
        DepthwiseBlocks<Isa, 4>(j, xp, wp, yrow, oy, ox, b0, act);
      for (; ox + kLanes <= hi; ox += kLanes)
        DepthwiseBlocks<Isa, 1>(j, xp, wp, yrow, oy, ox, b0, act);
      for (; ox < j.ow; ++ox) yrow[ox] = DepthwiseBorderColumn(j, xp, wp, oy, ox, bias);
    }
  }
}

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
