// float32 CONV_2D and FULLY_CONNECTED for AVX-512 (F, BW, DQ, VL) with FMA.
//
// GEMM micro-tile: 8 rows x 48 columns (3 zmm) = 24 accumulators, plus 3 B vectors and one
// broadcast of A: 28 of the 32 vector registers. Per k step the tile loads 3 B vectors and 8
// A scalars for 24 FMAs. Column tails use masked loads and stores (no over-read, no padding).
//
// Depthwise: 16 output columns per vector, every tap a masked load (the mask covers padding
// and the right edge, so borders need no separate loop); stride 2 loads 32 input columns and
// keeps the even ones with one permute.
//
// Only the functions in this file are compiled for AVX-512 (target pragma below); the rest of
// the build stays baseline x86-64, and the resolver calls these only on CPUs that have it.
#include <immintrin.h>
#include <string.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"
#include "runtime/kernels/reference/fully_connected_f32.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/x86/f32_plan.h"
#include "runtime/kernels/x86/f32_tile.h"
#include "runtime/kernels/x86/x86_kernels.h"
#include "runtime/model.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
// GCC 12's own AVX-512 headers trip this warning (an intentionally undefined register in
// _mm512_set1_ps and friends); it is not about this file's code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// The fused activation on 16 lanes, with the reference's NaN behaviour: max/min return their
// second operand when either is NaN, so a NaN input passes through the clamp.
struct VecAct {
  __m512 lo, hi;
  bool hard_swish;
  explicit VecAct(const FusedActivation& a)
      : lo(_mm512_set1_ps(a.lo)), hi(_mm512_set1_ps(a.hi)), hard_swish(a.hard_swish) {}
  __m512 operator()(__m512 x) const {
    if (hard_swish) {
      __m512 t = _mm512_add_ps(x, _mm512_set1_ps(3.0f));
      t = _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), t));
      return _mm512_mul_ps(_mm512_mul_ps(x, t), _mm512_set1_ps(1.0f / 6.0f));
    }
    return _mm512_min_ps(hi, _mm512_max_ps(lo, x));
  }
};

// Lanes i in [0, lanes) for which begin + i lies in [0, limit).
inline uint64_t RangeMask(int64_t begin, int64_t limit, int lanes) {
  int64_t lo = -begin, hi = limit - begin;
  if (lo < 0) lo = 0;
  if (hi > lanes) hi = lanes;
  if (hi <= lo) return 0;
  const uint64_t upto = hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return upto & ~((uint64_t{1} << lo) - 1);
}

struct Avx512 {
  static constexpr int kMR = 8;
  static constexpr int kNR = 48;
  static constexpr bool kHasDepthwise = true;

  template <int kNV>
  static void TileN(const float* a, const float* b, int64_t ldb, int64_t k, float* c,
                    int64_t ldc, int rows, int cols, const Epilogue& e) {
    const __mmask16 tail = static_cast<__mmask16>(RangeMask(0, cols - (kNV - 1) * 16, 16));
    __m512 acc[kMR][kNV];
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v) {
        const __mmask16 m = v == kNV - 1 ? tail : 0xffff;
        if (!e.first) {
          acc[r][v] = r < rows ? _mm512_maskz_loadu_ps(m, c + r * ldc + 16 * v)
                               : _mm512_setzero_ps();
        } else if (e.bias_col != nullptr) {
          acc[r][v] = _mm512_maskz_loadu_ps(m, e.bias_col + 16 * v);
        } else {
          acc[r][v] = _mm512_set1_ps(e.bias_row != nullptr && r < rows ? e.bias_row[r] : 0.0f);
        }
      }
    }
    for (int64_t kk = 0; kk < k; ++kk) {
      __m512 bv[kNV];
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v)
        bv[v] = v == kNV - 1 ? _mm512_maskz_loadu_ps(tail, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
      for (int r = 0; r < kMR; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
        for (int v = 0; v < kNV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
      a += kMR;
      b += ldb;
    }
    const VecAct act(e.act);
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows) break;
      float* cr = c + r * ldc;
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v) {
        const __m512 out = e.last ? act(acc[r][v]) : acc[r][v];
        if (v == kNV - 1) {
          _mm512_mask_storeu_ps(cr + 16 * v, tail, out);
        } else {
          _mm512_storeu_ps(cr + 16 * v, out);
        }
      }
    }
  }

  static void Tile(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                   int rows, int cols, const Epilogue& e) {
    if (cols > 32) {
      TileN<3>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else if (cols > 16) {
      TileN<2>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else {
      TileN<1>(a, b, ldb, k, c, ldc, rows, cols, e);
    }
  }

  // kNB blocks of 16 output columns of kR rows starting at (oy, ox0), kR * kNB <= 4:
  // independent accumulators, so the FMA latency of one block's tap chain hides behind the
  // others. Narrow planes (the late layers: 7x7, 14x14) take several rows at once.
  template <int kR, int kNB>
  static void DepthwiseBlocks(const DepthwiseArgs& j, const float* xp, const float* wp,
                              float* yp, int64_t oy, int64_t ox0, __m512 b0,
                              const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t sw = d.stride_w, h = j.h, wd = j.wd, kh = j.kh, kw = j.kw;
    // Even lanes of the concatenation (lo, hi): the stride-2 columns.
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    __m512 acc[kR][kNB];
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) acc[r][b] = b0;
    // Taps column-major: a column's masks and offsets are the same for every kernel row and
    // output row, so they are computed once per column.
    for (int64_t v = 0; v < kw; ++v) {
      int64_t ix0[kNB];
      uint64_t mask[kNB];
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        ix0[b] = (ox0 + 16 * b) * sw - d.pad_left + v * d.dilation_w;
        mask[b] = RangeMask(ix0[b], wd, sw == 1 ? 16 : 32);
      }
      for (int64_t u = 0; u < kh; ++u) {
        const __m512 wv = _mm512_set1_ps(wp[u * kw + v]);
#pragma GCC unroll 4
        for (int r = 0; r < kR; ++r) {
          const int64_t iy = (oy + r) * d.stride_h - d.pad_top + u * d.dilation_h;
          if (iy < 0 || iy >= h) continue;
          const float* row = xp + iy * wd;
#pragma GCC unroll 4
          for (int b = 0; b < kNB; ++b) {
            // Lanes outside the row are masked off, so the (possibly out-of-row) address is
            // never dereferenced there; integer arithmetic keeps forming it well defined.
            const float* p = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                                            static_cast<uintptr_t>(ix0[b] * 4));
            __m512 xv;
            if (sw == 1) {
              xv = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask[b]), p);
            } else {
              const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask[b]), p);
              const __m512 hi =
                  _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask[b] >> 16), p + 16);
              xv = _mm512_permutex2var_ps(lo, even, hi);
            }
            acc[r][b] = _mm512_fmadd_ps(wv, xv, acc[r][b]);
          }
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const __mmask16 out = static_cast<__mmask16>(RangeMask(ox0 + 16 * b, j.ow, 16));
        _mm512_mask_storeu_ps(yp + (oy + r) * j.ow + ox0 + 16 * b, out, act(acc[r][b]));
      }
  }

  // One output row from column ox0 on, in blocks of up to 4 vectors.
  static void DepthwiseRow(const DepthwiseArgs& j, const float* xp, const float* wp, float* yp,
                           int64_t oy, __m512 b0, const VecAct& act) {
    int64_t ox0 = 0;
    for (; ox0 + 48 < j.ow; ox0 += 64) DepthwiseBlocks<1, 4>(j, xp, wp, yp, oy, ox0, b0, act);
    const int64_t left = (j.ow - ox0 + 15) / 16;  // 0..3 blocks
    if (left == 3) DepthwiseBlocks<1, 3>(j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 2) DepthwiseBlocks<1, 2>(j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 1) DepthwiseBlocks<1, 1>(j, xp, wp, yp, oy, ox0, b0, act);
  }

  static void DepthwisePlanes(void* arg, int64_t begin, int64_t end) {
    const DepthwiseArgs& j = *static_cast<const DepthwiseArgs*>(arg);
    const VecAct act(j.d->act);
    for (int64_t t = begin; t < end; ++t) {
      const int64_t ch = t % j.c;
      const float* xp = j.x + t * j.h * j.wd;
      const float* wp = j.w + ch * j.kh * j.kw;
      float* yp = j.y + t * j.oh * j.ow;
      const __m512 b0 = _mm512_set1_ps(j.bias != nullptr ? j.bias[ch] : 0.0f);
      int64_t oy = 0;
      if (j.ow <= 16) {
        for (; oy + 4 <= j.oh; oy += 4) DepthwiseBlocks<4, 1>(j, xp, wp, yp, oy, 0, b0, act);
      } else if (j.ow <= 32) {
        for (; oy + 2 <= j.oh; oy += 2) DepthwiseBlocks<2, 2>(j, xp, wp, yp, oy, 0, b0, act);
      }
      for (; oy < j.oh; ++oy) DepthwiseRow(j, xp, wp, yp, oy, b0, act);
    }
  }
};

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/f32_kernels_inl.h"

namespace outpost {
namespace kernels {

const KernelRegistration kConv2DF32Avx512 = {
    OpCode::CONV_2D,
    DType::FLOAT32,
    KernelFamily::kX86,
    "conv2d_f32_avx512",
    sizeof(x86::ConvOpData),
    x86::ConvScratchBytes<x86::Avx512>,
    x86::PrepareConv<x86::Avx512>,
    x86::EvalConv<x86::Avx512>,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    x86::ConvPackedBytes<x86::Avx512>,
};

const KernelRegistration kFullyConnectedF32Avx512 = {
    OpCode::FULLY_CONNECTED,
    DType::FLOAT32,
    KernelFamily::kX86,
    "fully_connected_f32_avx512",
    sizeof(x86::FullyConnectedOpData),
    x86::FullyConnectedScratchBytes<x86::Avx512>,
    x86::PrepareFullyConnected<x86::Avx512>,
    x86::EvalFullyConnected<x86::Avx512>,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    x86::FullyConnectedPackedBytes<x86::Avx512>,
};

}  // namespace kernels
}  // namespace outpost

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
