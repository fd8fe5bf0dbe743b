// float32 CONV_2D and FULLY_CONNECTED for AVX2 with FMA.
//
// GEMM micro-tile: 6 rows x 16 columns (2 ymm) = 12 accumulators, plus 2 B vectors and one
// broadcast of A: 15 of the 16 vector registers. Column tails use masked loads and stores.
// Depthwise: 8 output columns per vector, up to 4 vectors at once
// (runtime/kernels/f32/depthwise_columns_inl.h); stride 2 de-interleaves two loads with a
// shuffle and a cross-lane permute. Blocks where a tap falls outside the row use masked loads.
//
// Only the functions in this file are compiled for AVX2/FMA (target pragma below); the rest of
// the build stays baseline x86-64, and the resolver calls these only on CPUs that have it.
#include <immintrin.h>
#include <string.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"
#include "runtime/kernels/reference/fully_connected_f32.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/f32/plan.h"
#include "runtime/kernels/f32/tile.h"
#include "runtime/kernels/x86/x86_kernels.h"
#include "runtime/model.h"

#include "runtime/kernels/x86/avx2_target_begin.h"

// Inside the target region: its template is instantiated for AVX2 code.
#include "runtime/kernels/f32/depthwise_columns_inl.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

using f32::DepthwiseArgs;
using f32::Epilogue;

// The fused activation on 8 lanes; NaN passes through the clamp as in the reference.
struct VecAct {
  __m256 lo, hi;
  bool hard_swish;
  explicit VecAct(const FusedActivation& a)
      : lo(_mm256_set1_ps(a.lo)), hi(_mm256_set1_ps(a.hi)), hard_swish(a.hard_swish) {}
  __m256 operator()(__m256 x) const {
    if (hard_swish) {
      __m256 t = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
      t = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
      return _mm256_mul_ps(_mm256_mul_ps(x, t), _mm256_set1_ps(1.0f / 6.0f));
    }
    return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  }
};

// All-ones in lanes [0, count), for maskload / maskstore.
inline __m256i LaneMask(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

struct Avx2 {
  static constexpr int kMR = 6;
  static constexpr int kNR = 16;
  static constexpr bool kHasDepthwise = true;
  static constexpr bool kHasGather = false;
  static constexpr bool kHasIm2colRow = false;
  static constexpr bool kHasWinograd = false;
  static constexpr bool kHasPhaseRows = false;

  template <int kNV>
  static void TileN(const float* a, const float* b, int64_t ldb, int64_t k, float* c,
                    int64_t ldc, int rows, int cols, const Epilogue& e) {
    const __m256i tail = LaneMask(cols - (kNV - 1) * 8);
    // Epilogue::stream, as in the AVX-512 tile: the next tile's output lines, and below each
    // B row two tiles ahead (MobileNetV2's 32 -> 16 layer on 112x112: 349 -> 234 us). Plain
    // prefetches: PREFETCHW is not on every AVX2 CPU.
    const bool stream = e.stream && cols == kNR;
    if (stream) {
#pragma GCC unroll 6
      for (int r = 0; r < kMR; ++r) {
        if (r >= rows) break;
        _mm_prefetch(reinterpret_cast<const char*>(Offset(c, r * ldc + kNR)), _MM_HINT_T0);
      }
    }
    __m256 acc[kMR][kNV];
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 2
      for (int v = 0; v < kNV; ++v) {
        if (!e.first) {
          acc[r][v] = r >= rows ? _mm256_setzero_ps()
                      : v == kNV - 1 ? _mm256_maskload_ps(c + r * ldc + 8 * v, tail)
                                     : _mm256_loadu_ps(c + r * ldc + 8 * v);
        } else if (e.bias_col != nullptr) {
          acc[r][v] = v == kNV - 1 ? _mm256_maskload_ps(e.bias_col + 8 * v, tail)
                                   : _mm256_loadu_ps(e.bias_col + 8 * v);
        } else {
          acc[r][v] = _mm256_set1_ps(e.bias_row != nullptr && r < rows ? e.bias_row[r] : 0.0f);
        }
      }
    }
    for (int64_t kk = 0; kk < k; ++kk) {
      if (stream) _mm_prefetch(reinterpret_cast<const char*>(Offset(b, 2 * kNR)), _MM_HINT_T1);
      __m256 bv[kNV];
#pragma GCC unroll 2
      for (int v = 0; v < kNV; ++v)
        bv[v] = v == kNV - 1 ? _mm256_maskload_ps(b + 8 * v, tail) : _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 6
      for (int r = 0; r < kMR; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 2
        for (int v = 0; v < kNV; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
      }
      a += kMR;
      b += ldb;
    }
    const VecAct act(e.act);
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows) break;
      float* cr = c + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < kNV; ++v) {
        const __m256 out = e.last ? act(acc[r][v]) : acc[r][v];
        if (v == kNV - 1) {
          _mm256_maskstore_ps(cr + 8 * v, tail, out);
        } else {
          _mm256_storeu_ps(cr + 8 * v, out);
        }
      }
    }
  }

  // The even lanes of p[0, 16): p[0], p[2], ..., p[14].
  static __m256 LoadEven(const float* p) {
    const __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8),
                                       _MM_SHUFFLE(2, 0, 2, 0));  // 0 2 8 10 | 4 6 12 14
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
  }

  // dst[i] = src[2 * i] for i < n. LoadEven reads up to src[2 * i + 15], so the vector loop
  // stops while that stays below the last element read, src[2 * n - 2].
  static void CopyStride2(const float* src, int64_t n, float* dst) {
    int64_t i = 0;
    for (; i + 9 <= n; i += 8) _mm256_storeu_ps(dst + i, LoadEven(src + 2 * i));
    for (; i < n; ++i) dst[i] = src[2 * i];
  }

  static void Tile(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                   int rows, int cols, const Epilogue& e) {
    if (cols > 8) {
      TileN<2>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else {
      TileN<1>(a, b, ldb, k, c, ldc, rows, cols, e);
    }
  }

  using Vec = __m256;
  using Act = VecAct;
  static constexpr int64_t kDepthwiseLanes = 8;
  static __m256 Splat(float v) { return _mm256_set1_ps(v); }

  static __m256 Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
  static __m256 Fma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }

  // `row + index` without pointer arithmetic: the address of a masked load whose lanes
  // outside the row are off (never dereferenced).
  static const float* Offset(const float* row, int64_t index) {
    return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                          static_cast<uintptr_t>(index * 4));
  }

  // Which of the 8 input columns ix0 + offsets lie in [0, wd).
  static __m256i InsideRow(int64_t ix0, int64_t wd, __m256i offsets) {
    const __m256i ix = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(ix0)), offsets);
    return _mm256_and_si256(_mm256_cmpgt_epi32(ix, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(wd)), ix));
  }

  // Output columns [ox0, ox0 + 8) (those below ow) of kR rows from oy where some tap falls
  // into the padding or past the row end: every load masked to the row (lanes i of p[i], or
  // with stride 2 of p[0, 16), whose even lanes are kept), the store to ow. The rows share
  // each tap's masks and keep kR independent sums. The column code's border columns one at a
  // time in scalar code took most of the time on MobileNetV2 (8 of every 56 columns, and every
  // column of 14x14 and 7x7 planes).
  template <int kR>
  static void DepthwiseEdgeRows(const DepthwiseArgs& j, const float* xp, const float* wp,
                                float* yp, int64_t oy, int64_t ox0, __m256 b0,
                                const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t sw = d.stride_w;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lanes_hi = _mm256_add_epi32(lanes, _mm256_set1_epi32(8));
    __m256 acc[kR];
    for (int r = 0; r < kR; ++r) acc[r] = b0;
    for (int64_t u = 0; u < j.kh; ++u) {
      for (int64_t v = 0; v < j.kw; ++v) {
        const int64_t ix0 = ox0 * sw - d.pad_left + v * d.dilation_w;
        const __m256i ml = InsideRow(ix0, j.wd, lanes);
        const __m256i mh = sw == 2 ? InsideRow(ix0, j.wd, lanes_hi) : ml;
        const __m256 wv = _mm256_set1_ps(wp[u * j.kw + v]);
#pragma GCC unroll 4
        for (int r = 0; r < kR; ++r) {
          const int64_t iy = (oy + r) * d.stride_h - d.pad_top + u * d.dilation_h;
          if (iy < 0 || iy >= j.h) continue;
          const float* p = Offset(xp + iy * j.wd, ix0);
          __m256 x = _mm256_maskload_ps(p, ml);
          if (sw == 2) {
            const __m256 s = _mm256_shuffle_ps(x, _mm256_maskload_ps(Offset(p, 8), mh),
                                               _MM_SHUFFLE(2, 0, 2, 0));  // 0 2 8 10 | 4 6 12 14
            x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
          }
          acc[r] = _mm256_fmadd_ps(wv, x, acc[r]);
        }
      }
    }
    const int64_t left = j.ow - ox0;
    const __m256i out = LaneMask(static_cast<int>(left < 8 ? left : 8));
    for (int r = 0; r < kR; ++r) _mm256_maskstore_ps(yp + (oy + r) * j.ow + ox0, out, act(acc[r]));
  }

  static constexpr bool kMaskedEdgeRows = true;
  static void DepthwisePlanes(void* arg, int64_t begin, int64_t end) {
    f32::DepthwisePlanesByColumns<Avx2>(arg, begin, end);
  }
};

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/f32/driver_inl.h"

namespace outpost {
namespace kernels {

const KernelRegistration kConv2DF32Avx2 = {
    OpCode::CONV_2D,
    DType::FLOAT32,
    KernelFamily::kX86,
    "conv2d_f32_avx2",
    sizeof(f32::ConvOpData),
    f32::ConvScratchBytes<x86::Avx2>,
    f32::PrepareConv<x86::Avx2>,
    f32::EvalConv<x86::Avx2>,
    kCpuX86Avx2Fma,
    f32::ConvPackedBytes<x86::Avx2>,
    "f32-conv-panels/avx2/mr6/kc256/v1",
};

const KernelRegistration kFullyConnectedF32Avx2 = {
    OpCode::FULLY_CONNECTED,
    DType::FLOAT32,
    KernelFamily::kX86,
    "fully_connected_f32_avx2",
    sizeof(f32::FullyConnectedOpData),
    f32::FullyConnectedScratchBytes<x86::Avx2>,
    f32::PrepareFullyConnected<x86::Avx2>,
    f32::EvalFullyConnected<x86::Avx2>,
    kCpuX86Avx2Fma,
    f32::FullyConnectedPackedBytes<x86::Avx2>,
    "f32-fc-columns/avx2/nr16/v1",
    f32::FcReadsSparseWeights,
};

}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/avx2_target_end.h"
