// float32 MAX_POOL_2D for AVX-512 (F, DQ).
//
// 16 output columns per vector, up to 4 vectors of one output row at once; at the borders a
// tap is a masked load whose masked-off lanes (padding, ceil-mode overhang, the right edge)
// read as -inf, so borders need no separate loop (inside the row, a plain load). Stride 2
// loads 32 input columns and keeps the even ones with one permute; other strides gather. On
// CPUs without AVX-512 the reference kernel runs.
//
// MAXPS drops a NaN already in the accumulator, so the lanes that saw a NaN are tracked in a
// mask and come out as NaN, as in the reference (a quiet NaN rather than the input's payload).
// Ties keep one of the equal values: -0 and +0 may come out either way.
//
// Prepare is the reference's (its checks and op data); the INT64 indices output, when present,
// runs the reference eval.
#include <immintrin.h>
#include <math.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/x86/x86_kernels.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "runtime/kernels/x86/f32_avx512_util.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// Room for the reference's op data, which this kernel's prepare fills (its layout is the
// reference's own business; prepare checks that it fits).
struct alignas(16) MaxPoolOpData {
  unsigned char ref[64];
};

struct MaxPoolArgs {
  const float* x;
  float* y;
  int64_t h, w, oh, ow;
  int64_t kh, kw, sh, sw, dh, dw, pt, pl;
};

template <int kNB>
void MaxPoolBlocks(const MaxPoolArgs& a, const float* xp, float* yr, int64_t oy, int64_t ox0) {
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
  const __m512i strided = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int32_t>(a.sw)));
  __m512 acc[kNB];
  __mmask16 nan[kNB];
#pragma GCC unroll 4
  for (int b = 0; b < kNB; ++b) acc[b] = neg_inf, nan[b] = 0;
  const int64_t iy0 = oy * a.sh - a.pt;
  const ref::Range rows = ref::ValidRange(iy0, a.dh, a.h, a.kh);
  for (int64_t v = 0; v < a.kw; ++v) {
    int64_t ix0[kNB];
    uint64_t mask[kNB];
#pragma GCC unroll 4
    for (int b = 0; b < kNB; ++b) {
      ix0[b] = (ox0 + 16 * b) * a.sw - a.pl + v * a.dw;
      if (a.sw <= 2) {
        mask[b] = RangeMask(ix0[b], a.w, a.sw == 1 ? 16 : 32);
      } else {
        mask[b] = 0;  // lane i reads column ix0 + i * sw
        for (int i = 0; i < 16; ++i) {
          const int64_t col = ix0[b] + i * a.sw;
          if (col >= 0 && col < a.w) mask[b] |= uint64_t{1} << i;
        }
      }
    }
    for (int64_t u = rows.begin; u < rows.end; ++u) {
      const float* row = xp + (iy0 + u * a.dh) * a.w;
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const float* p = MaskedAddress(row, ix0[b]);
        __m512 xv;
        if (a.sw == 1) {
          xv = LoadLanes(static_cast<__mmask16>(mask[b]), p, neg_inf);
        } else if (a.sw == 2) {
          xv = LoadEven(mask[b], p, neg_inf);
        } else {
          xv = _mm512_mask_i32gather_ps(neg_inf, static_cast<__mmask16>(mask[b]), strided, p, 4);
        }
        acc[b] = _mm512_max_ps(acc[b], xv);
        nan[b] |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
      }
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < kNB; ++b) {
    const __mmask16 out = static_cast<__mmask16>(RangeMask(ox0 + 16 * b, a.ow, 16));
    const __m512 y = _mm512_mask_blend_ps(nan[b], acc[b], _mm512_set1_ps(NAN));
    StoreLanes(out, yr + ox0 + 16 * b, y);
  }
}

void MaxPoolPlanes(void* arg, int64_t begin, int64_t end) {
  const MaxPoolArgs& a = *static_cast<const MaxPoolArgs*>(arg);
  for (int64_t p = begin; p < end; ++p) {
    const float* xp = a.x + p * a.h * a.w;
    float* yp = a.y + p * a.oh * a.ow;
    for (int64_t oy = 0; oy < a.oh; ++oy) {
      float* yr = yp + oy * a.ow;
      int64_t ox0 = 0;
      for (; ox0 + 48 < a.ow; ox0 += 64) MaxPoolBlocks<4>(a, xp, yr, oy, ox0);
      const int64_t left = (a.ow - ox0 + 15) / 16;  // 0..3 blocks
      if (left == 3) MaxPoolBlocks<3>(a, xp, yr, oy, ox0);
      if (left == 2) MaxPoolBlocks<2>(a, xp, yr, oy, ox0);
      if (left == 1) MaxPoolBlocks<1>(a, xp, yr, oy, ox0);
    }
  }
}

Status PrepareMaxPool(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, kMaxPool2DF32Ref.op_data_bytes <= sizeof(MaxPoolOpData),
                       Status::kInternal, "max pool: reference op data of %zu bytes > %zu",
                       kMaxPool2DF32Ref.op_data_bytes, sizeof(MaxPoolOpData));
  return kMaxPool2DF32Ref.prepare(ctx);
}

Status EvalMaxPool(KernelContext& ctx) {
  if (ctx.num_outputs() != 1) return kMaxPool2DF32Ref.eval(ctx);
  const auto* o = ctx.options<opm::Pool2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  MaxPoolArgs a{x.as<float>(), y.as<float>(), x.dims[2], x.dims[3], y.dims[2], y.dims[3],
                o->kernel_h(), o->kernel_w(), o->stride_h(), o->stride_w(), o->dilation_h(),
                o->dilation_w(), o->pad_top(), o->pad_left()};
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * x.dims[1], 1, MaxPoolPlanes, &a);
  return Status::kOk;
}

}  // namespace
}  // namespace x86

const KernelRegistration kMaxPool2DF32Avx512 = {
    OpCode::MAX_POOL_2D,
    DType::FLOAT32,
    KernelFamily::kX86,
    "max_pool2d_f32_avx512",
    sizeof(x86::MaxPoolOpData),
    nullptr,
    x86::PrepareMaxPool,
    x86::EvalMaxPool,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    nullptr,
};

}  // namespace kernels
}  // namespace outpost

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
