// The GEMM part of the ARM int8 CONV_2D and FULLY_CONNECTED eval, shared by the plain NEON and
// the dot-product kernels. Included by one source file per instruction set after it has
// defined `Isa`, which supplies
//   Dot<L>(acc, a, b)   acc[i] += the dot product of the 4 bytes of lane i of `a` with the 4
//                       bytes of lane L of `b` (SDOT by element, or its NEON equivalent).
// Everything is in an anonymous namespace, compiled for the including file's target.
//
// CONV_2D: per batch item and group, Y[m, p] = sum_k W[m, k] * X[k, p] over k = (input
// channel, kh, kw) and p = output pixel. X is the input itself for a 1x1 stride-1 unpadded
// conv, otherwise an im2col (padded cells hold the input zero point, which the correction
// cancels); it is stored in scratch as [k / 4][pixel][4 k], so one 16-byte vector holds 4
// pixels' 4 k. The weights are packed at prepare as [tile][k / 4][8 channels][4 k]: each
// k step multiplies 3 pixel vectors by 8 channels (24 accumulators).
//
// FULLY_CONNECTED: Y[n, o] = sum_k X[n, k] * W[o, k], each accumulator holding 4 output
// channels: the weights are [o / 4][k / 4][4 channels][4 k], and 16 bytes of the input row (4
// groups of 4 k) are loaded once for 4 steps.
//
// Determinism: every output is written by one task, with integer sums: any split gives the
// same bytes.
#pragma once

#include <arm_neon.h>
#include <string.h>

#include "runtime/kernel.h"
#include "runtime/kernels/arm/int8_plan.h"
#include "runtime/kernels/arm/neon_requant.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

// Interleaves four rows of n int8 values into n groups of 4 bytes (row 0 first). A null row
// reads as zeros (its weights are zero). The tail up to n rounded to 4 is zeroed.
inline void InterleaveRows4(const int8_t* const rows[4], int64_t n, int8_t* out) {
  int64_t i = 0;
  if (rows[0] && rows[1] && rows[2] && rows[3]) {
    for (; i + 16 <= n; i += 16) {
      const int8x16x2_t ab = vzipq_s8(vld1q_s8(rows[0] + i), vld1q_s8(rows[1] + i));
      const int8x16x2_t cd = vzipq_s8(vld1q_s8(rows[2] + i), vld1q_s8(rows[3] + i));
      const int16x8x2_t lo =
          vzipq_s16(vreinterpretq_s16_s8(ab.val[0]), vreinterpretq_s16_s8(cd.val[0]));
      const int16x8x2_t hi =
          vzipq_s16(vreinterpretq_s16_s8(ab.val[1]), vreinterpretq_s16_s8(cd.val[1]));
      vst1q_s8(out + i * 4, vreinterpretq_s8_s16(lo.val[0]));
      vst1q_s8(out + i * 4 + 16, vreinterpretq_s8_s16(lo.val[1]));
      vst1q_s8(out + i * 4 + 32, vreinterpretq_s8_s16(hi.val[0]));
      vst1q_s8(out + i * 4 + 48, vreinterpretq_s8_s16(hi.val[1]));
    }
  }
  for (; i < n; ++i)
    for (int r = 0; r < 4; ++r) out[i * 4 + r] = rows[r] ? rows[r][i] : 0;
  for (; i < (n + 3) / 4 * 4; ++i)
    for (int r = 0; r < 4; ++r) out[i * 4 + r] = 0;
}

// X of one group of one image into `b` ([kq][npad][4]); `rows` holds 4 im2col rows.
inline void PackInput(const Int8ConvPlan& p, const int8_t* xg, int8_t zx, int8_t* b, int8_t* rows) {
  for (int64_t q = 0; q < p.kq; ++q) {
    const int8_t* r[4];
    int8_plan::GemmRowGroup(p, xg, q, 4, zx, rows, p.npad, nullptr, r);
    InterleaveRows4(r, p.npix, b + q * p.npad * 4);
  }
}

struct GemmJob {
  const Int8ConvData* d;
  ChannelConstants cc;
  const int8_t* a;  // packed weights of the group
  int64_t g;        // the group
  const int8_t* b;  // [kq][npad][4]
  int8_t* y8;       // output plane of the group's first channel, or
  int32_t* y32;     // (INT32 output)
  int64_t mtiles;
};

template <class Isa, int kNV>
void GemmTile(const GemmJob& j, int64_t mt, int64_t p0) {
  const Int8ConvPlan& p = j.d->plan;
  const int64_t kq = p.kq, bstride = p.npad * 4;
  int32x4_t acc[kConvMr][kNV];
  for (int i = 0; i < kConvMr; ++i)
    for (int v = 0; v < kNV; ++v) acc[i][v] = vdupq_n_s32(0);
  const int8_t* a = j.a + mt * kq * kConvMr * 4;
  const int8_t* b = j.b + p0 * 4;
  for (int64_t q = 0; q < kq; ++q) {
    int8x16_t bv[kNV];
    for (int v = 0; v < kNV; ++v) bv[v] = vld1q_s8(b + q * bstride + 16 * v);
    const int8x16_t a0 = vld1q_s8(a + q * 32), a1 = vld1q_s8(a + q * 32 + 16);
    for (int v = 0; v < kNV; ++v) {
      acc[0][v] = Isa::template Dot<0>(acc[0][v], bv[v], a0);
      acc[1][v] = Isa::template Dot<1>(acc[1][v], bv[v], a0);
      acc[2][v] = Isa::template Dot<2>(acc[2][v], bv[v], a0);
      acc[3][v] = Isa::template Dot<3>(acc[3][v], bv[v], a0);
      acc[4][v] = Isa::template Dot<0>(acc[4][v], bv[v], a1);
      acc[5][v] = Isa::template Dot<1>(acc[5][v], bv[v], a1);
      acc[6][v] = Isa::template Dot<2>(acc[6][v], bv[v], a1);
      acc[7][v] = Isa::template Dot<3>(acc[7][v], bv[v], a1);
    }
  }
  const int8::LinearOutput& o = j.d->ref.out;
  const RequantNeon requant(o.output_zp, o.act_min, o.act_max);
  const int64_t count = p.npix - p0 < 4 * kNV ? p.npix - p0 : 4 * kNV;
  for (int i = 0; i < kConvMr; ++i) {
    const int64_t m = mt * kConvMr + i;  // within the group
    if (m >= p.mg) break;
    const int64_t gm = j.g * p.mg + m;  // in the model
    const int32x4_t corr = vdupq_n_s32(j.cc.corr[gm]);
    if (j.y32) {
      int32_t out[4 * kNV];
      for (int v = 0; v < kNV; ++v) vst1q_s32(out + 4 * v, vsubq_s32(acc[i][v], corr));
      memcpy(j.y32 + m * p.npix + p0, out, static_cast<size_t>(count) * 4);
      continue;
    }
    const int32x4_t m0 = vdupq_n_s32(j.cc.m0[gm]), left = vdupq_n_s32(j.cc.left[gm]);
    const int32x4_t neg_right = vdupq_n_s32(j.cc.neg_right[gm]);
    int8_t out[4 * kNV];
    for (int v = 0; v < kNV; ++v) {
      const int32x4_t r = requant(vsubq_s32(acc[i][v], corr), m0, left, neg_right);
      const int32_t word = vget_lane_s32(vreinterpret_s32_s8(NarrowToInt8(r)), 0);
      memcpy(out + 4 * v, &word, 4);
    }
    memcpy(j.y8 + m * p.npix + p0, out, static_cast<size_t>(count));
  }
}

template <class Isa>
void GemmTiles(void* arg, int64_t begin, int64_t end) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const Int8ConvPlan& p = j.d->plan;
  for (int64_t t = begin; t < end; ++t) {
    // Pixel blocks outermost: one block of X stays in L1 while every channel tile uses it.
    const int64_t nb = t / j.mtiles, mt = t % j.mtiles;
    const int64_t p0 = nb * kConvNv * 4;
    const int64_t rest = (p.npix - p0 + 3) / 4;
    if (rest >= 3)
      GemmTile<Isa, 3>(j, mt, p0);
    else if (rest == 2)
      GemmTile<Isa, 2>(j, mt, p0);
    else
      GemmTile<Isa, 1>(j, mt, p0);
  }
}

template <class Isa>
Status EvalConv(KernelContext& ctx) {
  const Int8ConvData& d = *ctx.op_data<Int8ConvData>();
  if (d.use_reference) return int8::EvalConv(ctx);
  const Int8ConvPlan& p = d.plan;
  const ChannelConstants cc = ConvConstants(p, ctx.packed());
  const int8_t* x = ctx.input(0).as<int8_t>();
  const TensorView& y = ctx.output(0);
  if (p.depthwise) {
    EvalDepthwise(d, cc, x, ctx.input(1).as<int8_t>(), y.data, ctx.scratch(), ctx.executor());
    return Status::kOk;
  }
  int8_t* b = static_cast<int8_t*>(ctx.scratch());
  int8_t* rows = b + p.kq * p.npad * 4;
  GemmJob j;
  j.d = &d;
  j.cc = cc;
  j.b = b;
  j.mtiles = p.mg_pad / kConvMr;
  const int64_t nblocks = (p.npix + kConvNv * 4 - 1) / (kConvNv * 4);
  const bool raw = d.ref.out.raw_output;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t g = 0; g < p.groups; ++g) {
      PackInput(p, x + (n * p.c + g * p.cg) * p.h * p.w, static_cast<int8_t>(d.ref.out.input_zp), b,
                rows);
      j.a = cc.weights + g * p.mg_pad * p.kq * 4;
      j.g = g;
      const int64_t first = (n * p.m + g * p.mg) * p.npix;
      j.y8 = raw ? nullptr : y.as<int8_t>() + first;
      j.y32 = raw ? y.as<int32_t>() + first : nullptr;
      ctx.executor().ParallelFor(nblocks * j.mtiles, 1, GemmTiles<Isa>, &j);
    }
  return Status::kOk;
}

struct FcJob {
  const Int8FullyConnectedData* d;
  ChannelConstants cc;
  const int8_t* xq;  // one row of X, zero past k
  int8_t* y8;        // the row's outputs, or
  int32_t* y32;
};

template <class Isa>
void FcBlocks(void* arg, int64_t begin, int64_t end) {
  const FcJob& j = *static_cast<const FcJob*>(arg);
  const Int8FullyConnectedData& d = *j.d;
  const int8::LinearOutput& o = d.ref.out;
  const RequantNeon requant(o.output_zp, o.act_min, o.act_max);
  const int64_t nb = d.out_pad / 4, kq4 = d.kq4;
  for (int64_t g = begin; g < end; ++g) {
    const int64_t b0 = g * kFcBlocks;
    const int64_t blocks = nb - b0 < kFcBlocks ? nb - b0 : kFcBlocks;
    int32x4_t acc[kFcBlocks];
    for (int v = 0; v < kFcBlocks; ++v) acc[v] = vdupq_n_s32(0);
    const int8_t* w = j.cc.weights + b0 * kq4 * 16;
    for (int64_t q = 0; q < kq4; q += 4) {
      const int8x16_t xv = vld1q_s8(j.xq + q * 4);
      for (int v = 0; v < kFcBlocks; ++v) {
        if (v >= blocks) break;
        const int8_t* wq = w + (v * kq4 + q) * 16;
        acc[v] = Isa::template Dot<0>(acc[v], vld1q_s8(wq), xv);
        acc[v] = Isa::template Dot<1>(acc[v], vld1q_s8(wq + 16), xv);
        acc[v] = Isa::template Dot<2>(acc[v], vld1q_s8(wq + 32), xv);
        acc[v] = Isa::template Dot<3>(acc[v], vld1q_s8(wq + 48), xv);
      }
    }
    for (int v = 0; v < blocks; ++v) {
      const int64_t c0 = (b0 + v) * 4;
      const size_t count = static_cast<size_t>(d.out - c0 < 4 ? d.out - c0 : 4);
      const int32x4_t val = vsubq_s32(acc[v], vld1q_s32(j.cc.corr + c0));
      if (j.y32) {
        int32_t out[4];
        vst1q_s32(out, val);
        memcpy(j.y32 + c0, out, count * 4);
      } else {
        const int32x4_t r = requant(val, vld1q_s32(j.cc.m0 + c0), vld1q_s32(j.cc.left + c0),
                                    vld1q_s32(j.cc.neg_right + c0));
        const int32_t word = vget_lane_s32(vreinterpret_s32_s8(NarrowToInt8(r)), 0);
        memcpy(j.y8 + c0, &word, count);
      }
    }
  }
}

template <class Isa>
Status EvalFullyConnected(KernelContext& ctx) {
  const Int8FullyConnectedData& d = *ctx.op_data<Int8FullyConnectedData>();
  if (d.use_reference) return int8::EvalFullyConnected(ctx);
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  int8_t* xq = static_cast<int8_t*>(ctx.scratch());
  FcJob j;
  j.d = &d;
  j.cc = FullyConnectedConstants(d, ctx.packed());
  j.xq = xq;
  const int64_t groups = (d.out_pad / 4 + kFcBlocks - 1) / kFcBlocks;
  memset(xq, 0, static_cast<size_t>(d.kq4 * 4));  // padding k: its weights are 0 too
  for (int64_t n = 0; n < xv.dims[0]; ++n) {
    memcpy(xq, xv.as<int8_t>() + n * d.k, static_cast<size_t>(d.k));
    j.y8 = d.ref.out.raw_output ? nullptr : yv.as<int8_t>() + n * d.out;
    j.y32 = d.ref.out.raw_output ? yv.as<int32_t>() + n * d.out : nullptr;
    ctx.executor().ParallelFor(groups, 1, FcBlocks<Isa>, &j);
  }
  return Status::kOk;
}

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace outpost
