// float32 MAX_POOL_2D and GLOBAL_AVERAGE_POOL for AVX-512 (F, DQ).
//
// 16 output columns per vector, up to 4 vectors of one output row at once; at the borders a
// tap is a masked load whose masked-off lanes (padding, ceil-mode overhang, the right edge)
// read as -inf, so borders need no separate loop (inside the row, a plain load). Stride 2
// loads 32 input columns and keeps the even ones with one permute; other strides gather. On
// CPUs without AVX-512 the reference kernel runs. 3x3 windows of stride 2 take a separable
// path (rows, then columns: MaxPoolPlanes3x3s2).
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

#include "runtime/kernels/x86/avx512_target_begin.h"

#include "runtime/kernels/x86/f32_avx512_util.h"
#include "runtime/kernels/x86/f32_max_pool_inl.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

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

// 3x3 windows, stride 2, dilation 1 (ResNet's stem pool, the common case): the maximum over
// the window's rows first, once per input column, into a row buffer padded with -inf, then
// over 3 neighbouring columns of it per output. The general kernel takes 9 taps per output,
// each a load pair and a permute; this takes 3 loads per input column and 3 permutes per
// output vector, and the row buffer is in L1. NaN: a column that saw one is stored as NaN,
// and an output whose 3 columns hold one is NaN (MAXPS alone would drop it).
constexpr int64_t kRowFloats = 1024;

bool Separable3x3s2(const MaxPoolArgs& a) {
  const int64_t need_in = a.pl + a.w, need_out = 2 * a.ow + 34;
  return a.kh == 3 && a.kw == 3 && a.sh == 2 && a.sw == 2 && a.dh == 1 && a.dw == 1 &&
         need_in <= kRowFloats && need_out <= kRowFloats;
}

void MaxPoolPlanes3x3s2(const MaxPoolArgs& a, int64_t begin, int64_t end) {
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY), nan = _mm512_set1_ps(NAN);
  const __m512i even = EvenLanes();
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  // row[pl + x] = max over the window rows of input column x; -inf left of pl and right of
  // pl + w (the padding and the ceil-mode overhang): output ox takes row[2 * ox + 0..2].
  alignas(64) float row[kRowFloats];
  for (int64_t i = 0; i < kRowFloats; i += 16) _mm512_store_ps(row + i, neg_inf);
  float* const cols = row + a.pl;
  for (int64_t p = begin; p < end; ++p) {
    const float* xp = a.x + p * a.h * a.w;
    float* yp = a.y + p * a.oh * a.ow;
    for (int64_t oy = 0; oy < a.oh; ++oy) {
      const int64_t iy0 = oy * 2 - a.pt;
      const ref::Range rows = ref::ValidRange(iy0, 1, a.h, 3);
      for (int64_t x0 = 0; x0 < a.w; x0 += 16) {
        const __mmask16 m = static_cast<__mmask16>(RangeMask(x0, a.w, 16));
        __m512 v = neg_inf;
        __mmask16 bad = 0;
        for (int64_t u = rows.begin; u < rows.end; ++u) {
          const __m512 xv = LoadLanes(m, xp + (iy0 + u) * a.w + x0, neg_inf);
          bad |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
          v = _mm512_max_ps(v, xv);
        }
        StoreLanes(m, cols + x0, _mm512_mask_blend_ps(bad, v, nan));
      }
      float* yr = yp + oy * a.ow;
      for (int64_t ox0 = 0; ox0 < a.ow; ox0 += 16) {
        const float* q = row + 2 * ox0;
        const __m512 lo = _mm512_load_ps(q), hi = _mm512_load_ps(q + 16);
        const __m512 e = _mm512_permutex2var_ps(lo, even, hi);
        const __m512 o = _mm512_permutex2var_ps(lo, odd, hi);
        const __m512 e2 = _mm512_permutex2var_ps(_mm512_loadu_ps(q + 2), even,
                                                 _mm512_loadu_ps(q + 18));
        const __mmask16 bad = _mm512_cmp_ps_mask(e, o, _CMP_UNORD_Q) |
                              _mm512_cmp_ps_mask(e2, e2, _CMP_UNORD_Q);
        const __m512 v = _mm512_max_ps(_mm512_max_ps(e, o), e2);
        StoreLanes(static_cast<__mmask16>(RangeMask(ox0, a.ow, 16)), yr + ox0,
                   _mm512_mask_blend_ps(bad, v, nan));
      }
    }
  }
}

struct Avx512Blocks {
  template <int kNB>
  static void Row(const MaxPoolArgs& a, const float* xp, float* yr, int64_t oy, int64_t ox0) {
    MaxPoolBlocks<kNB>(a, xp, yr, oy, ox0);
  }
};

void MaxPoolPlanes(void* arg, int64_t begin, int64_t end) {
  const MaxPoolArgs& a = *static_cast<const MaxPoolArgs*>(arg);
  if (Separable3x3s2(a)) return MaxPoolPlanes3x3s2(a, begin, end);
  MaxPoolRows<16, Avx512Blocks>(a, begin, end);
}

Status EvalMaxPoolAvx512(KernelContext& ctx) { return EvalMaxPool(ctx, MaxPoolPlanes); }

// GLOBAL_AVERAGE_POOL: the mean of each plane, its floats summed in double as the reference
// sums them, but 16 at a time into two vectors of 8 doubles where the reference adds them one
// by one, a chain of dependent additions (MobileNetV2's 1280 planes of 7x7 took 40 us that
// way). A double holds the sum of a plane's floats with 29 bits to spare, so the order changes
// only bits far below the float the mean is rounded to: results match the reference to the
// last bit but in rare ties (x86_f32_kernels_test allows one unit in the last place).
struct GlobalAverageArgs {
  const float* x;
  float* y;
  int64_t size;  // floats per plane
};

// Planes per ParallelFor task: at least this many floats a task, so that small layers run on
// one thread.
constexpr int64_t kGlobalAverageFloatsPerTask = 16384;

void GlobalAveragePlanes(void* arg, int64_t begin, int64_t end) {
  const GlobalAverageArgs& a = *static_cast<const GlobalAverageArgs*>(arg);
  for (int64_t p = begin; p < end; ++p) {
    const float* xp = a.x + p * a.size;
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int64_t i = 0; i < a.size; i += 16) {
      // Masked-off lanes read +0, which leaves the sum as it is (the reference's sum starts at
      // +0 too).
      const __m512 v = LoadLanes(static_cast<__mmask16>(RangeMask(i, a.size, 16)), xp + i,
                                 _mm512_setzero_ps());
      lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
      hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
    a.y[p] = static_cast<float>(sum / static_cast<double>(a.size));
  }
}

// The reference's prepare (its shape checks; no op data), called at run time: its registration
// is initialized dynamically, in another file.
Status PrepareGlobalAveragePool(KernelContext& ctx) {
  return kGlobalAveragePoolF32Ref.prepare(ctx);
}

Status EvalGlobalAveragePool(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const int64_t planes = static_cast<int64_t>(x.dims[0]) * x.dims[1];
  if (planes == 0 || x.num_elements() == 0) return kGlobalAveragePoolF32Ref.eval(ctx);
  GlobalAverageArgs a{x.as<float>(), ctx.output(0).as<float>(), x.num_elements() / planes};
  const int64_t grain =
      a.size >= kGlobalAverageFloatsPerTask ? 1 : kGlobalAverageFloatsPerTask / a.size;
  ctx.executor().ParallelFor(planes, grain, GlobalAveragePlanes, &a);
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
    x86::EvalMaxPoolAvx512,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    nullptr,
};

const KernelRegistration kGlobalAveragePoolF32Avx512 = {
    OpCode::GLOBAL_AVERAGE_POOL,
    DType::FLOAT32,
    KernelFamily::kX86,
    "global_average_pool_f32_avx512",
    0,
    nullptr,
    x86::PrepareGlobalAveragePool,
    x86::EvalGlobalAveragePool,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    nullptr,
};

}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/avx512_target_end.h"
