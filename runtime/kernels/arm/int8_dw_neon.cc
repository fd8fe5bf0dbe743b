// Depthwise CONV_2D on INT8 with NEON, bit-exact with conv2d_i8_ref; used by the plain NEON
// and the dot-product kernels alike (a depthwise tap is one multiply, not a 4-deep dot).
//
// Each channel's input is first copied into scratch as int16 x - zx, zero in the padding, in
// a plane holding every row and column any tap reads (Int8ConvPlan::dw_rows x dw_cols). Then
// every tap of a block of 8 output columns is one unconditional load (LD1, LD2 for stride 2, a
// gather for larger strides) and one widening multiply-accumulate by the tap weight (SMLAL:
// int16 x int16 -> int32, exact since |x - zx| <= 255).
#include <arm_neon.h>
#include <string.h>

#include "runtime/kernels/arm/int8_plan.h"
#include "runtime/kernels/arm/neon_requant.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

struct DwJob {
  const Int8ConvData* d;
  ChannelConstants cc;
  const int8_t* x;
  const int8_t* w;
  int8_t* y8;    // INT8 output, or
  int32_t* y32;  // INT32 output
  uint8_t* scratch;
  size_t slot_bytes;
  int64_t planes;
};

void FillPlane(const Int8ConvPlan& p, const int8_t* x, int32_t zx, int16_t* plane) {
  memset(plane, 0, static_cast<size_t>(p.dw_rows * p.dw_cols) * 2);
  const int16x8_t z = vdupq_n_s16(static_cast<int16_t>(zx));
  // Columns of the input row that land in the plane.
  const int64_t n = p.dw_cols - p.pl < p.w ? p.dw_cols - p.pl : p.w;
  for (int64_t r = 0; r < p.dw_rows; ++r) {
    const int64_t ih = r - p.pt;
    if (ih < 0 || ih >= p.h) continue;
    const int8_t* src = x + ih * p.w;
    int16_t* dst = plane + r * p.dw_cols + p.pl;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vst1q_s16(dst + i, vsubq_s16(vmovl_s8(vld1_s8(src + i)), z));
    for (; i < n; ++i) dst[i] = static_cast<int16_t>(src[i] - zx);
  }
}

inline int16x8_t LoadTap(const int16_t* p, int64_t stride) {
  if (stride == 1) return vld1q_s16(p);
  if (stride == 2) return vld2q_s16(p).val[0];
  int16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = p[i * stride];
  return vld1q_s16(g);
}

void DwPlane(const DwJob& j, int64_t t, int16_t* plane) {
  const Int8ConvPlan& p = j.d->plan;
  const int8::LinearOutput& o = j.d->ref.out;
  const int64_t ch = t % p.c;
  FillPlane(p, j.x + t * p.h * p.w, o.input_zp, plane);
  const int8_t* w = j.w + ch * p.kh * p.kw;
  const int32x4_t corr = vdupq_n_s32(j.cc.corr[ch]);
  const int32x4_t m0 = vdupq_n_s32(j.cc.m0[ch]), left = vdupq_n_s32(j.cc.left[ch]);
  const int32x4_t neg_right = vdupq_n_s32(j.cc.neg_right[ch]);
  const RequantNeon requant(o.output_zp, o.act_min, o.act_max);
  for (int64_t oy = 0; oy < p.oh; ++oy) {
    const int16_t* row = plane + oy * p.sh * p.dw_cols;
    const int64_t at = (t * p.oh + oy) * p.ow;
    for (int64_t ox = 0; ox < p.ow; ox += kDepthwiseBlock) {
      int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
      for (int64_t u = 0; u < p.kh; ++u) {
        const int16_t* tap_row = row + u * p.dh * p.dw_cols + ox * p.sw;
        for (int64_t v = 0; v < p.kw; ++v) {
          const int16_t wv = w[u * p.kw + v];
          const int16x8_t xv = LoadTap(tap_row + v * p.dw, p.sw);
          lo = vmlal_n_s16(lo, vget_low_s16(xv), wv);
          hi = vmlal_high_n_s16(hi, xv, wv);
        }
      }
      lo = vsubq_s32(lo, corr);
      hi = vsubq_s32(hi, corr);
      const size_t count = static_cast<size_t>(p.ow - ox < 8 ? p.ow - ox : 8);
      if (j.y32) {
        int32_t out[8];
        vst1q_s32(out, lo);
        vst1q_s32(out + 4, hi);
        memcpy(j.y32 + at + ox, out, count * 4);
      } else {
        const int16x8_t r16 = vcombine_s16(vmovn_s32(requant(lo, m0, left, neg_right)),
                                           vmovn_s32(requant(hi, m0, left, neg_right)));
        int8_t out[8];
        vst1_s8(out, vmovn_s16(r16));
        memcpy(j.y8 + at + ox, out, count);
      }
    }
  }
}

// A fixed number of chunks, each with its own scratch slice, so that concurrent ranges never
// share memory and the result does not depend on the split.
void DwChunks(void* arg, int64_t begin, int64_t end) {
  const DwJob& j = *static_cast<const DwJob*>(arg);
  for (int64_t s = begin; s < end; ++s) {
    int16_t* plane = reinterpret_cast<int16_t*>(j.scratch + s * j.slot_bytes);
    const int64_t lo = s * j.planes / kDepthwiseSlots, hi = (s + 1) * j.planes / kDepthwiseSlots;
    for (int64_t t = lo; t < hi; ++t) DwPlane(j, t, plane);
  }
}

}  // namespace

void EvalDepthwise(const Int8ConvData& d, const ChannelConstants& cc, const int8_t* x,
                   const int8_t* w, void* y, void* scratch, const Executor& ex) {
  const Int8ConvPlan& p = d.plan;
  DwJob j;
  j.d = &d;
  j.cc = cc;
  j.x = x;
  j.w = w;
  j.y8 = d.ref.out.raw_output ? nullptr : static_cast<int8_t*>(y);
  j.y32 = d.ref.out.raw_output ? static_cast<int32_t*>(y) : nullptr;
  j.scratch = static_cast<uint8_t*>(scratch);
  j.slot_bytes = DepthwiseSlotBytes(p);
  j.planes = p.n * p.c;
  ex.ParallelFor(kDepthwiseSlots, 1, DwChunks, &j);
}

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
