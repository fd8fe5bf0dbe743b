// float32 MAX_POOL_2D for AVX2: the AVX-512 kernel's scheme (f32_pool_avx512.cc) on 8 lanes,
// for the CPUs without AVX-512 (most laptops, Atom/Celeron, Zen 2/3).
//
// 8 output columns per vector, up to 4 vectors of one output row at once. Each tap loads the
// input columns its lanes start at: stride 1 one load, stride 2 two loads and a shuffle that
// keeps the even columns, other strides a gather. At the borders (padding, ceil-mode overhang,
// the right edge) the load is masked and its masked-off lanes become -inf, so borders need no
// separate loop; inside the row the loads are plain. Masked loads and gathers do not touch
// masked-off lanes, so addresses left of the row are never read.
//
// MAXPS drops a NaN already in the accumulator, so the lanes that saw a NaN are tracked and
// come out as NaN, as in the reference (a quiet NaN rather than the input's payload). Ties keep
// one of the equal values: -0 and +0 may come out either way.
//
// Prepare is the reference's (its checks and op data); the INT64 indices output, when present,
// runs the reference eval.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/x86/x86_kernels.h"

#include "runtime/kernels/x86/avx2_target_begin.h"

#include "runtime/kernels/x86/f32_max_pool_inl.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// `row + index` without pointer arithmetic: the address of a load whose lanes outside the row
// are masked off (never dereferenced there).
inline const float* Address(const float* row, int64_t index) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                        static_cast<uintptr_t>(index * 4));
}

// All ones in the lanes whose column first + lane * step lies in [0, w).
inline __m256i ColumnMask(int64_t first, int64_t step, int64_t w) {
  const __m256i col = _mm256_add_epi32(
      _mm256_set1_epi32(static_cast<int32_t>(first)),
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                         _mm256_set1_epi32(static_cast<int32_t>(step))));
  return _mm256_and_si256(_mm256_cmpgt_epi32(col, _mm256_set1_epi32(-1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(w)), col));
}

// 8 columns from p under `mask` (all lanes: a plain load), -inf where the mask is off.
inline __m256 LoadColumns(const float* p, __m256i mask, bool full, __m256 neg_inf) {
  if (full) return _mm256_loadu_ps(p);
  return _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}

// One tap's columns for a block: for stride 1 and 2, the masks cover the columns loaded (8 or
// 16 of them); for other strides, the 8 columns the lanes start at.
struct BlockTap {
  int64_t ix0;
  __m256i m0, m1;
  bool full;
};

template <int kNB>
void MaxPoolBlocks(const MaxPoolArgs& a, const float* xp, float* yr, int64_t oy, int64_t ox0) {
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  const __m256i strided = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                             _mm256_set1_epi32(static_cast<int32_t>(a.sw)));
  __m256 acc[kNB], nan[kNB];
#pragma GCC unroll 4
  for (int b = 0; b < kNB; ++b) acc[b] = neg_inf, nan[b] = _mm256_setzero_ps();
  const int64_t iy0 = oy * a.sh - a.pt;
  const ref::Range rows = ref::ValidRange(iy0, a.dh, a.h, a.kh);
  for (int64_t v = 0; v < a.kw; ++v) {
    BlockTap t[kNB];
#pragma GCC unroll 4
    for (int b = 0; b < kNB; ++b) {
      t[b].ix0 = (ox0 + 8 * b) * a.sw - a.pl + v * a.dw;
      const int64_t span = a.sw == 2 ? 16 : 7 * a.sw + 1;  // columns the lanes touch
      t[b].full = t[b].ix0 >= 0 && t[b].ix0 + span <= a.w;
      if (a.sw == 2) {
        t[b].m0 = ColumnMask(t[b].ix0, 1, a.w);
        t[b].m1 = ColumnMask(t[b].ix0 + 8, 1, a.w);
      } else {
        t[b].m0 = t[b].m1 = ColumnMask(t[b].ix0, a.sw, a.w);
      }
    }
    for (int64_t u = rows.begin; u < rows.end; ++u) {
      const float* row = xp + (iy0 + u * a.dh) * a.w;
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const float* p = Address(row, t[b].ix0);
        __m256 xv;
        if (a.sw == 1) {
          xv = LoadColumns(p, t[b].m0, t[b].full, neg_inf);
        } else if (a.sw == 2) {
          const __m256 lo = LoadColumns(p, t[b].m0, t[b].full, neg_inf);
          const __m256 hi = LoadColumns(Address(p, 8), t[b].m1, t[b].full, neg_inf);
          // (lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6), then the middle 64-bit pairs swapped.
          const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
          xv = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even),
                                                      _MM_SHUFFLE(3, 1, 2, 0)));
        } else {
          xv = _mm256_mask_i32gather_ps(neg_inf, p, strided, _mm256_castsi256_ps(t[b].m0), 4);
        }
        acc[b] = _mm256_max_ps(acc[b], xv);
        nan[b] = _mm256_or_ps(nan[b], _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
      }
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < kNB; ++b) {
    const __m256 y = _mm256_blendv_ps(acc[b], _mm256_set1_ps(NAN), nan[b]);
    float* out = yr + ox0 + 8 * b;
    if (ox0 + 8 * b + 8 <= a.ow) {
      _mm256_storeu_ps(out, y);
    } else {
      _mm256_maskstore_ps(out, ColumnMask(ox0 + 8 * b, 1, a.ow), y);
    }
  }
}

struct Avx2Blocks {
  template <int kNB>
  static void Row(const MaxPoolArgs& a, const float* xp, float* yr, int64_t oy, int64_t ox0) {
    MaxPoolBlocks<kNB>(a, xp, yr, oy, ox0);
  }
};

void MaxPoolPlanes(void* arg, int64_t begin, int64_t end) {
  MaxPoolRows<8, Avx2Blocks>(*static_cast<const MaxPoolArgs*>(arg), begin, end);
}

Status EvalMaxPoolAvx2(KernelContext& ctx) { return EvalMaxPool(ctx, MaxPoolPlanes); }

}  // namespace
}  // namespace x86

const KernelRegistration kMaxPool2DF32Avx2 = {
    OpCode::MAX_POOL_2D,
    DType::FLOAT32,
    KernelFamily::kX86,
    "max_pool2d_f32_avx2",
    sizeof(x86::MaxPoolOpData),
    nullptr,
    x86::PrepareMaxPool,
    x86::EvalMaxPoolAvx2,
    kCpuX86Avx2Fma,
    nullptr,
};

}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/avx2_target_end.h"
