// float32 CONV_2D and FULLY_CONNECTED for AArch64 Advanced SIMD (NEON), the baseline of every
// AArch64 CPU: no target switch is needed.
//
// The planning, weight packing, im2col and GEMM tiling are the instruction-set-independent
// driver the x86 kernels use (runtime/kernels/f32/driver_inl.h, f32_plan.h); this file
// supplies the micro-kernels:
//
// GEMM micro-tile: 8 rows x 12 columns (3 q registers) = 24 accumulators, plus 3 B vectors
// and 2 A vectors (the 8 rows of one k step, used lane by lane with FMLA by element): 29 of
// the 32 vector registers. Column tails load and store lane by lane (NEON has no masked
// loads), so no tile reads past the end of B or writes past the end of C.
//
// Depthwise: 4 output columns per vector, up to 4 vectors at once. Columns whose every tap
// lies inside the input row (the interior) are vector loads; stride 2 de-interleaves with
// LD2. The border columns and strides above 2 (rows only: PlanConv keeps stride_w <= 2 on
// this path) are computed one column at a time.
#include <arm_neon.h>
#include <string.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/arm/arm_kernels.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"
#include "runtime/kernels/reference/fully_connected_f32.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/f32/depthwise_columns_inl.h"
#include "runtime/kernels/f32/plan.h"
#include "runtime/kernels/f32/tile.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

using f32::DepthwiseArgs;
using f32::Epilogue;

// The fused activation on 4 lanes. FMAX/FMIN return NaN when either operand is NaN, so a NaN
// passes through the clamp as in the reference.
struct VecAct {
  float32x4_t lo, hi;
  bool hard_swish;
  explicit VecAct(const FusedActivation& a)
      : lo(vdupq_n_f32(a.lo)), hi(vdupq_n_f32(a.hi)), hard_swish(a.hard_swish) {}
  float32x4_t operator()(float32x4_t x) const {
    if (hard_swish) {
      float32x4_t t = vaddq_f32(x, vdupq_n_f32(3.0f));
      t = vminq_f32(vdupq_n_f32(6.0f), vmaxq_f32(vdupq_n_f32(0.0f), t));
      return vmulq_f32(vmulq_f32(x, t), vdupq_n_f32(1.0f / 6.0f));
    }
    return vminq_f32(hi, vmaxq_f32(lo, x));
  }
};

// Lanes [0, n) of p, the others zero; n in [1, 4].
inline float32x4_t LoadLanes(const float* p, int n) {
  if (n == 4) return vld1q_f32(p);
  float32x4_t v = vld1q_lane_f32(p, vdupq_n_f32(0.0f), 0);
  if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
  return v;
}

inline void StoreLanes(float* p, float32x4_t v, int n) {
  if (n == 4) {
    vst1q_f32(p, v);
    return;
  }
  vst1q_lane_f32(p, v, 0);
  if (n > 1) vst1q_lane_f32(p + 1, v, 1);
  if (n > 2) vst1q_lane_f32(p + 2, v, 2);
}

struct Neon {
  static constexpr int kMR = 8;
  static constexpr int kNR = 12;
  static constexpr bool kHasDepthwise = true;
  static constexpr bool kHasGather = false;
  static constexpr bool kHasIm2colRow = false;
  static constexpr bool kHasWinograd = false;
  static constexpr bool kHasPhaseRows = false;

  // dst[i] = src[2 * i] for i < n: LD2 de-interleaves 8 floats into even and odd lanes. It
  // reads up to src[2 * i + 7], so the vector loop stops while that stays below the last
  // element read, src[2 * n - 2].
  static void CopyStride2(const float* src, int64_t n, float* dst) {
    int64_t i = 0;
    for (; i + 5 <= n; i += 4) vst1q_f32(dst + i, vld2q_f32(src + 2 * i).val[0]);
    for (; i < n; ++i) dst[i] = src[2 * i];
  }

  // kR rows (4 or 8: a fully connected layer with batch 1 computes one panel of 4) by kNV
  // vectors of columns, the last holding `cols - 4 * (kNV - 1)` of them.
  template <int kR, int kNV>
  static void TileN(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                    int rows, int cols, const Epilogue& e) {
    const int tail = cols - 4 * (kNV - 1);
    float32x4_t acc[kR][kNV];
    for (int r = 0; r < kR; ++r) {
      for (int v = 0; v < kNV; ++v) {
        const int n = v == kNV - 1 ? tail : 4;
        if (!e.first) {
          acc[r][v] = r < rows ? LoadLanes(c + r * ldc + 4 * v, n) : vdupq_n_f32(0.0f);
        } else if (e.bias_col != nullptr) {
          acc[r][v] = LoadLanes(e.bias_col + 4 * v, n);
        } else {
          acc[r][v] = vdupq_n_f32(e.bias_row != nullptr && r < rows ? e.bias_row[r] : 0.0f);
        }
      }
    }
    for (int64_t kk = 0; kk < k; ++kk) {
      float32x4_t bv[kNV];
      for (int v = 0; v < kNV; ++v) bv[v] = LoadLanes(b + 4 * v, v == kNV - 1 ? tail : 4);
      const float32x4_t a0 = vld1q_f32(a);
      for (int v = 0; v < kNV; ++v) {
        acc[0][v] = vfmaq_laneq_f32(acc[0][v], bv[v], a0, 0);
        acc[1][v] = vfmaq_laneq_f32(acc[1][v], bv[v], a0, 1);
        acc[2][v] = vfmaq_laneq_f32(acc[2][v], bv[v], a0, 2);
        acc[3][v] = vfmaq_laneq_f32(acc[3][v], bv[v], a0, 3);
      }
      if constexpr (kR == 8) {
        const float32x4_t a1 = vld1q_f32(a + 4);
        for (int v = 0; v < kNV; ++v) {
          acc[4][v] = vfmaq_laneq_f32(acc[4][v], bv[v], a1, 0);
          acc[5][v] = vfmaq_laneq_f32(acc[5][v], bv[v], a1, 1);
          acc[6][v] = vfmaq_laneq_f32(acc[6][v], bv[v], a1, 2);
          acc[7][v] = vfmaq_laneq_f32(acc[7][v], bv[v], a1, 3);
        }
      }
      a += kMR;
      b += ldb;
    }
    const VecAct act(e.act);
    for (int r = 0; r < kR && r < rows; ++r)
      for (int v = 0; v < kNV; ++v)
        StoreLanes(c + r * ldc + 4 * v, e.last ? act(acc[r][v]) : acc[r][v],
                   v == kNV - 1 ? tail : 4);
  }

  template <int kR>
  static void TileRows(const float* a, const float* b, int64_t ldb, int64_t k, float* c,
                       int64_t ldc, int rows, int cols, const Epilogue& e) {
    if (cols > 8) {
      TileN<kR, 3>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else if (cols > 4) {
      TileN<kR, 2>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else {
      TileN<kR, 1>(a, b, ldb, k, c, ldc, rows, cols, e);
    }
  }

  static void Tile(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                   int rows, int cols, const Epilogue& e) {
    if (rows > 4) {
      TileRows<8>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else {
      TileRows<4>(a, b, ldb, k, c, ldc, rows, cols, e);
    }
  }

  using Vec = float32x4_t;
  using Act = VecAct;
  static constexpr int64_t kDepthwiseLanes = 4;
  static float32x4_t Splat(float v) { return vdupq_n_f32(v); }

  static float32x4_t Load(const float* p) { return vld1q_f32(p); }
  static float32x4_t LoadEven(const float* p) { return vld2q_f32(p).val[0]; }  // LD2
  static void Store(float* p, float32x4_t v) { vst1q_f32(p, v); }
  static float32x4_t Fma(float32x4_t a, float32x4_t b, float32x4_t c) { return vfmaq_f32(c, a, b); }

  static constexpr bool kMaskedEdgeRows = false;  // no masked loads: scalar border columns
  static void DepthwisePlanes(void* arg, int64_t begin, int64_t end) {
    f32::DepthwisePlanesByColumns<Neon>(arg, begin, end);
  }
};

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/f32/driver_inl.h"

namespace outpost {
namespace kernels {
namespace arm {

const KernelRegistration kConv2DF32Neon = {
    OpCode::CONV_2D,
    DType::FLOAT32,
    KernelFamily::kArm,
    "conv2d_f32_neon",
    sizeof(f32::ConvOpData),
    f32::ConvScratchBytes<Neon>,
    f32::PrepareConv<Neon>,
    f32::EvalConv<Neon>,
    kCpuArmNeon,
    f32::ConvPackedBytes<Neon>,
    "f32-conv-panels/neon/mr8/kc256/v1",
};

const KernelRegistration kFullyConnectedF32Neon = {
    OpCode::FULLY_CONNECTED,
    DType::FLOAT32,
    KernelFamily::kArm,
    "fully_connected_f32_neon",
    sizeof(f32::FullyConnectedOpData),
    f32::FullyConnectedScratchBytes<Neon>,
    f32::PrepareFullyConnected<Neon>,
    f32::EvalFullyConnected<Neon>,
    kCpuArmNeon,
    f32::FullyConnectedPackedBytes<Neon>,
    "f32-fc-columns/neon/nr12/v1",
};

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
