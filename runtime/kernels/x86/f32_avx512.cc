// float32 CONV_2D and FULLY_CONNECTED for AVX-512 (F, BW, DQ, VL) with FMA.
//
// GEMM micro-tile: 8 rows x 48 columns (3 zmm) = 24 accumulators, plus 3 B vectors and one
// broadcast of A: 28 of the 32 vector registers. Per k step the tile loads 3 B vectors and 8
// A scalars for 24 FMAs. Column tails use masked loads and stores (no over-read, no padding);
// a tail of at most 4 columns runs with the vectors along the rows (TileNarrow). A is
// prefetched a fixed distance ahead (the weights of the late layers come from memory).
//
// Implicit im2col (GatherTile): on large maps with stride 1 or 2 along rows, each GEMM task
// gathers its column tile's B block straight from the input with masked loads, instead of a
// materialized im2col written to memory and read back.
//
// Depthwise: 16 output columns per vector, every tap a masked load (the mask covers padding
// and the right edge, so borders need no separate loop); stride 2 loads 32 input columns and
// keeps the even ones with one permute. Small stride-1 planes run as one flat row
// (DepthwiseFlatPlanes); the other planes of a 3-row kernel run 4 output rows at once, loading
// each input row once for all of them (DepthwiseBlocks3), and a 3x3 kernel at stride 1 or 2
// loads it once for all three column taps too (DepthwiseBlocks3S1, DepthwiseBlocks3S2).
//
// Only the functions in this file are compiled for AVX-512 (avx512_target_begin.h); the rest of
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

#include "runtime/kernels/x86/avx512_target_begin.h"

#include "runtime/kernels/x86/f32_avx512_util.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

using f32::DepthwiseArgs;
using f32::Epilogue;
using f32::GatherSource;

struct Avx512 {
  static constexpr int kMR = 8;
  static constexpr int kNR = 48;
  static constexpr bool kHasDepthwise = true;
  static constexpr bool kHasGather = true;
  static constexpr bool kHasWinograd = true;
  static constexpr bool kHasPhaseRows = true;

  // How far ahead (floats) TileN prefetches A: 32 k steps, about the memory latency at the
  // tile's pace. Prefetches past the end of the packed weights are harmless (no faults).
  static constexpr int64_t kPrefetchA = 32 * kMR;

  // kTail: the last vector is partial (masked loads and stores); a full tile uses plain ones,
  // as masked loads cost more on some cores (AMD Zen) even with every lane enabled.
  // kRows: B row kk is at b + off[kk] (kPhaseRows: each tap's stretch of the split input)
  // instead of b + kk * ldb.
  template <int kNV, bool kTail, bool kRows = false>
  static void TileN(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                    int rows, int cols, const Epilogue& e, const int64_t* off = nullptr) {
    const __mmask16 tail = static_cast<__mmask16>(RangeMask(0, cols - (kNV - 1) * 16, 16));
    // Epilogue::stream: the next column tile's output lines, for writing. A convolution's
    // output rows are one stream per output channel (96 in MobileNetV2's 16 -> 96 expansion
    // on 112x112, 4.8 MB), so a store would miss and only then read its line for ownership.
    // With this and the B prefetch below that layer took 463 instead of 596 us, its 32 -> 16
    // layer 145 instead of 225 (1 thread). Past the last tile these lines lie beyond C, which
    // a prefetch may touch (MaskedAddress: no pointer arithmetic out of bounds).
    if (!kTail && e.stream) {
#pragma GCC unroll 8
      for (int r = 0; r < kMR; ++r) {
        if (r >= rows) break;
#pragma GCC unroll 3
        for (int v = 0; v < kNV; ++v)
          _mm_prefetch(reinterpret_cast<const char*>(MaskedAddress(c, r * ldc + kNR + 16 * v)),
                       _MM_HINT_ET0);
      }
    }
    __m512 acc[kMR][kNV];
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v) {
        const __mmask16 m = kTail && v == kNV - 1 ? tail : 0xffff;
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
      // A streams from memory or L2 (the weights: 9.4 MB for a 512-channel 3x3 conv), one
      // 8-float step per k; the next panel's block follows this one, so prefetching a fixed
      // distance ahead also covers the switch to it. One line serves two k steps.
      if ((kk & 1) == 0)
        _mm_prefetch(reinterpret_cast<const char*>(MaskedAddress(a, kPrefetchA)), _MM_HINT_T0);
      const float* bk = kRows ? b + off[kk] : b;
      // And this row's B two column tiles ahead, into L2: a 1x1 convolution reads its input
      // in place, one stream per input channel (32 in the 32 -> 16 layer above).
      if (!kRows && !kTail && e.stream) {
#pragma GCC unroll 3
        for (int v = 0; v < kNV; ++v)
          _mm_prefetch(reinterpret_cast<const char*>(MaskedAddress(bk, 2 * kNR + 16 * v)),
                       _MM_HINT_T1);
      }
      __m512 bv[kNV];
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v)
        bv[v] = kTail && v == kNV - 1 ? _mm512_maskz_loadu_ps(tail, bk + 16 * v)
                                      : _mm512_loadu_ps(bk + 16 * v);
#pragma GCC unroll 8
      for (int r = 0; r < kMR; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
        for (int v = 0; v < kNV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
      a += kMR;
      if (!kRows) b += ldb;
    }
    const VecAct act(e.act);
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows) break;
      float* cr = c + r * ldc;
#pragma GCC unroll 3
      for (int v = 0; v < kNV; ++v) {
        const __m512 out = e.last ? act(acc[r][v]) : acc[r][v];
        if (kTail && v == kNV - 1) {
          _mm512_mask_storeu_ps(cr + 16 * v, tail, out);
        } else {
          _mm512_storeu_ps(cr + 16 * v, out);
        }
      }
    }
  }

  // Bits kStride * i for lanes i in [begin, end) (none when empty): a load mask over input
  // positions.
  template <int kStride>
  static uint32_t SpreadLanes(int64_t begin, int64_t end) {
    if (end <= begin) return 0;
    const uint64_t upto = (uint64_t{1} << (kStride * end)) - 1;
    const uint64_t from = (uint64_t{1} << (kStride * begin)) - 1;
    const uint64_t every = kStride == 1 ? ~uint64_t{0} : 0x5555555555555555ull;
    return static_cast<uint32_t>(upto & ~from & every);
  }

  // Implicit im2col (tile.h, GatherSource), stride 1 or 2 along rows and ow >= 16 (PlanConv):
  // the 16 lanes of a B vector then cover at most 2 output rows, and within one output row
  // lane i reads input column c0 + stride * i. So each vector of each kernel tap is at most 2
  // masked loads, one per output row (stride 2: LoadEven, two loads and a permute), at
  // offsets from the channel plane that are the same for every input channel: computed once
  // per call, the row loop is loads and stores only. Masked-off lanes (padding, columns past
  // the tile) read as 0.
  template <int kStride>
  static void GatherTileS(const GatherSource& s, int64_t n0, int64_t cols, int64_t k0,
                          int64_t kc, float* dst) {
    const ref::ConvF32Data& d = *s.d;
    constexpr int kVectors = kNR / 16;
    struct Seg {
      int64_t off_a, off_b;  // lane i reads plane[off_a + kStride * i] or plane[off_b + ...]
      uint32_t mask_a, mask_b;  // per input position (kStride bits a lane), for the loads
      __mmask16 lanes_b;        // lanes taken from row B
    };
    // Per vector (independent of the tap): its first output pixel and how many of its lanes
    // lie in that pixel's row.
    int64_t oy[kVectors], ox[kVectors], in_a[kVectors], lanes[kVectors];
    for (int q = 0; q < kVectors; ++q) {
      const int64_t j0 = 16 * q;
      lanes[q] = cols - j0 < 0 ? 0 : cols - j0 < 16 ? cols - j0 : 16;
      oy[q] = (n0 + j0) / s.ow, ox[q] = (n0 + j0) % s.ow;
      in_a[q] = s.ow - ox[q] < lanes[q] ? s.ow - ox[q] : lanes[q];
    }
    Seg seg[f32::kMaxGatherTaps][kVectors];
    const int64_t taps = s.kh * s.kw;
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t u = t / s.kw, v = t % s.kw;
      const int64_t off_w = v * d.dilation_w - d.pad_left;
      for (int q = 0; q < kVectors; ++q) {
        Seg& g = seg[t][q];
        g = Seg{0, 0, 0, 0, 0};
        const int64_t iy_a = oy[q] * d.stride_h + u * d.dilation_h - d.pad_top;
        const int64_t iy_b = iy_a + d.stride_h;
        // Row A: lane i < in_a reads column kStride * (ox + i) + off_w. Row B: lane
        // i in [in_a, lanes) reads column kStride * (i - in_a) + off_w.
        const int64_t col_a = kStride * ox[q] + off_w, col_b = off_w - kStride * in_a[q];
        g.off_a = iy_a * s.w + col_a;
        g.off_b = iy_b * s.w + col_b;
        g.lanes_b = static_cast<__mmask16>(RangeMask(-in_a[q], lanes[q] - in_a[q], 16));
        if (iy_a >= 0 && iy_a < s.h) {
          const ref::Range r = ref::ValidRange(col_a, kStride, s.w, in_a[q]);
          g.mask_a = SpreadLanes<kStride>(r.begin, r.end);
        }
        if (iy_b >= 0 && iy_b < s.h && in_a[q] < lanes[q]) {
          ref::Range r = ref::ValidRange(col_b, kStride, s.w, lanes[q]);
          if (r.begin < in_a[q]) r.begin = in_a[q];
          g.mask_b = SpreadLanes<kStride>(r.begin, r.end);
        }
      }
    }
    int64_t t = k0 % taps, ci = k0 / taps;
    const int64_t plane_size = s.h * s.w;
    const float* plane = s.x + ci * plane_size;
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t r = 0; r < kc; ++r) {
#pragma GCC unroll 3
      for (int q = 0; q < kVectors; ++q) {
        const Seg& g = seg[t][q];
        __m512 x;
        if constexpr (kStride == 1) {
          x = LoadLanes(static_cast<__mmask16>(g.mask_a), MaskedAddress(plane, g.off_a), zero);
          if (g.mask_b != 0)
            x = _mm512_mask_loadu_ps(x, static_cast<__mmask16>(g.mask_b),
                                     MaskedAddress(plane, g.off_b));
        } else {
          x = LoadEven(g.mask_a, MaskedAddress(plane, g.off_a), zero);
          if (g.mask_b != 0)
            x = _mm512_mask_blend_ps(g.lanes_b, x,
                                     LoadEven(g.mask_b, MaskedAddress(plane, g.off_b), zero));
        }
        _mm512_storeu_ps(dst + r * kNR + 16 * q, x);
      }
      if (++t == taps) t = 0, plane = MaskedAddress(plane, plane_size);
    }
  }

  static void GatherTile(const GatherSource& s, int64_t n0, int64_t cols, int64_t k0,
                         int64_t kc, float* dst) {
    if (s.d->stride_w == 1) return GatherTileS<1>(s, n0, cols, k0, kc, dst);
    GatherTileS<2>(s, n0, cols, k0, kc, dst);
  }

  // One output row of an im2col row (driver_inl.h, Im2colRows): dst[ox] =
  // plane[at + ox * kStride] for ox in [lo, hi), 0 for the other ox < ow; `at` may lie outside
  // the plane (padding), which is then never read. 16 columns a step with masked loads and
  // stores: no call and no scalar edge loop per row (on 14x14 and 7x7 maps a row of the
  // matrix is 14 or 7 floats, and that overhead was most of the im2col time).
  template <int kStride>
  static void Im2colRowS(const float* plane, int64_t at, int64_t lo, int64_t hi, int64_t ow,
                         float* dst) {
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t j = 0; j < ow; j += 16) {
      const int64_t b = lo - j < 0 ? 0 : lo - j, e = hi - j > 16 ? 16 : hi - j;
      __m512 x = zero;
      if (b < e) {
        const float* p = MaskedAddress(plane, at + kStride * j);
        if constexpr (kStride == 1) {
          x = LoadLanes(static_cast<__mmask16>(RangeMask(-b, e - b, 16)), p, zero);
        } else {
          x = LoadEven(SpreadLanes<2>(b, e), p, zero);
        }
      }
      StoreLanes(static_cast<__mmask16>(RangeMask(j, ow, 16)), dst + j, x);
    }
  }

  // The output transform: the outputs of the `n` tiles (ty, tx0 ..) of one output channel from
  // m[xi * ld_xi + q], plus the bias, then the activation; each 16 tiles' two output rows are
  // interleaved (tile q: columns 2q, 2q + 1) and stored with masks at the right and bottom
  // edges.
  static void WinogradOutput2Row(const float* m, int64_t ld_xi, int64_t n, float bias,
                                 const FusedActivation& fa, float* yp, int64_t oh, int64_t ow,
                                 int64_t ty, int64_t tx0) {
    const VecAct act(fa);
    const __m512 bv = _mm512_set1_ps(bias);
    const __m512i lo_idx =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    for (int64_t q0 = 0; q0 < n; q0 += 16) {
      const __mmask16 in = static_cast<__mmask16>(RangeMask(0, n - q0, 16));
      __m512 s[2][4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const float* mj = m + j * ld_xi + q0;
        const __m512 a0 = _mm512_maskz_loadu_ps(in, mj);
        const __m512 a1 = _mm512_maskz_loadu_ps(in, mj + 4 * ld_xi);
        const __m512 a2 = _mm512_maskz_loadu_ps(in, mj + 8 * ld_xi);
        const __m512 a3 = _mm512_maskz_loadu_ps(in, mj + 12 * ld_xi);
        s[0][j] = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
        s[1][j] = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
      }
      const int64_t x0 = 2 * (tx0 + q0);
      const int64_t width = ow - x0 < 2 * (n - q0) ? ow - x0 : 2 * (n - q0);
      const __mmask16 lo_mask = static_cast<__mmask16>(RangeMask(0, width, 16));
      const __mmask16 hi_mask = static_cast<__mmask16>(RangeMask(16, width, 16));
      for (int a = 0; a < 2; ++a) {
        const int64_t oy = 2 * ty + a;
        if (oy >= oh) break;
        const __m512 y0 =
            act(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]), bv));
        const __m512 y1 =
            act(_mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]), bv));
        float* dst = yp + oy * ow + x0;
        StoreLanes(lo_mask, dst, _mm512_permutex2var_ps(y0, lo_idx, y1));
        if (hi_mask != 0) StoreLanes(hi_mask, dst + 16, _mm512_permutex2var_ps(y0, hi_idx, y1));
      }
    }
  }

  // Where an input row's loads for 16 tiles start, from the first tile's first column. F(2x2)
  // (tile q: columns 2q .. 2q + 3): 0 and 16 hold the even and odd columns 0 and 1, 2 and 18
  // the ones two columns on. F(4x4) (columns 4q .. 4q + 5): 0, 16, 32, 48 hold columns 0..3 of
  // the 16 tiles, 64 the last tile's columns 4 and 5.
  template <int kTile>
  static constexpr int64_t WinogradLoadOffset(int l) {
    return kTile == 2 ? (l & 1) * 16 + (l >> 1) * 2 : 16 * l;
  }

  // The loads of one input row split into the patch's columns, d[j][q] = column j of tile q.
  // F(2x2): a permute each. F(4x4): columns 0..3 by two permutes and two 128-bit shuffles per
  // pair; columns 4 and 5 are the next tile's 0 and 1, one lane on, the last lane from the
  // fifth load.
  template <int kTile>
  static void WinogradColumns(const __m512* l, __m512* d) {
    if constexpr (kTile == 2) {
      const __m512i even = EvenLanes();
      const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
      d[0] = _mm512_permutex2var_ps(l[0], even, l[1]);
      d[1] = _mm512_permutex2var_ps(l[0], odd, l[1]);
      d[2] = _mm512_permutex2var_ps(l[2], even, l[3]);
      d[3] = _mm512_permutex2var_ps(l[2], odd, l[3]);
    } else {
      const __m512i idx01 =
          _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
      const __m512i idx23 = _mm512_add_epi32(idx01, _mm512_set1_epi32(2));
      __m512 lo = _mm512_permutex2var_ps(l[0], idx01, l[1]);
      __m512 hi = _mm512_permutex2var_ps(l[2], idx01, l[3]);
      d[0] = _mm512_shuffle_f32x4(lo, hi, 0x44);
      d[1] = _mm512_shuffle_f32x4(lo, hi, 0xEE);
      lo = _mm512_permutex2var_ps(l[0], idx23, l[1]);
      hi = _mm512_permutex2var_ps(l[2], idx23, l[3]);
      d[2] = _mm512_shuffle_f32x4(lo, hi, 0x44);
      d[3] = _mm512_shuffle_f32x4(lo, hi, 0xEE);
      const __m512i next = _mm512_castps_si512(l[4]);              // lane 0: column 64
      const __m512i next1 = _mm512_alignr_epi32(next, next, 1);  // lane 0: column 65
      d[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(next, _mm512_castps_si512(d[0]), 1));
      d[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(next1, _mm512_castps_si512(d[1]), 1));
    }
  }

  // F(2x2, 3x3): the 1-D transform of winograd_inl.h's B^T.
  static void Winograd2B(const __m512 d[4], __m512 t[4]) {
    t[0] = _mm512_sub_ps(d[0], d[2]);
    t[1] = _mm512_add_ps(d[1], d[2]);
    t[2] = _mm512_sub_ps(d[2], d[1]);
    t[3] = _mm512_sub_ps(d[1], d[3]);
  }

  // F(4x4, 3x3): the 1-D transforms of winograd_inl.h's B^T (input) and A^T (output).
  static void Winograd4B(const __m512 d[6], __m512 t[6]) {
    const __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(-4.0f), d[2], d[4]);  // d4 - 4 d2
    const __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(-4.0f), d[1], d[3]);  // d3 - 4 d1
    const __m512 r = _mm512_sub_ps(d[4], d[2]);
    const __m512 s = _mm512_sub_ps(d[3], d[1]);
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 minus5 = _mm512_set1_ps(-5.0f);
    t[0] = _mm512_fmadd_ps(four, d[0], _mm512_fmadd_ps(minus5, d[2], d[4]));
    t[1] = _mm512_add_ps(p, q);
    t[2] = _mm512_sub_ps(p, q);
    t[3] = _mm512_fmadd_ps(two, s, r);
    t[4] = _mm512_fnmadd_ps(two, s, r);
    t[5] = _mm512_fmadd_ps(four, d[1], _mm512_fmadd_ps(minus5, d[3], d[5]));
  }
  static void Winograd4A(const __m512 m[6], __m512 o[4]) {
    const __m512 a = _mm512_add_ps(m[1], m[2]), b = _mm512_sub_ps(m[1], m[2]);
    const __m512 c = _mm512_add_ps(m[3], m[4]), e = _mm512_sub_ps(m[3], m[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], a), c);
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), e, b);
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), c, a);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), e, b), m[5]);
  }

  template <int kTile>
  static void WinogradB(const __m512* d, __m512* t) {
    if constexpr (kTile == 2) {
      Winograd2B(d, t);
    } else {
      Winograd4B(d, t);
    }
  }

  // F(4x4, 3x3) output transform, as WinogradOutput2Row: 16 tiles' four output rows of four
  // columns; each row's four vectors (column 0..3 of 16 tiles) are interleaved into 64
  // consecutive outputs with unpacks and shuffles (a 4x4 transpose within each 128-bit lane,
  // then of the lanes).
  static void WinogradOutput4Row(const float* m, int64_t ld_xi, int64_t n, float bias,
                                 const FusedActivation& fa, float* yp, int64_t oh, int64_t ow,
                                 int64_t ty, int64_t tx0) {
    const VecAct act(fa);
    const __m512 bv = _mm512_set1_ps(bias);
    for (int64_t q0 = 0; q0 < n; q0 += 16) {
      const __mmask16 in = static_cast<__mmask16>(RangeMask(0, n - q0, 16));
      __m512 s[6][4];  // A^T M: s[b][row]
#pragma GCC unroll 6
      for (int b = 0; b < 6; ++b) {
        __m512 col[6];
        for (int a = 0; a < 6; ++a)
          col[a] = _mm512_maskz_loadu_ps(in, m + (6 * a + b) * ld_xi + q0);
        Winograd4A(col, s[b]);
      }
      const int64_t x0 = 4 * (tx0 + q0);
      const int64_t width = ow - x0 < 4 * (n - q0) ? ow - x0 : 4 * (n - q0);
      for (int r = 0; r < 4; ++r) {
        const int64_t oy = 4 * ty + r;
        if (oy >= oh) break;
        const __m512 row[6] = {s[0][r], s[1][r], s[2][r], s[3][r], s[4][r], s[5][r]};
        __m512 y[4];
        Winograd4A(row, y);
        for (int k = 0; k < 4; ++k) y[k] = act(_mm512_add_ps(y[k], bv));
        const __m512 t01lo = _mm512_unpacklo_ps(y[0], y[1]);  // per lane: a0 b0 a1 b1
        const __m512 t01hi = _mm512_unpackhi_ps(y[0], y[1]);  // a2 b2 a3 b3
        const __m512 t23lo = _mm512_unpacklo_ps(y[2], y[3]);
        const __m512 t23hi = _mm512_unpackhi_ps(y[2], y[3]);
        const __m512 u0 = _mm512_shuffle_ps(t01lo, t23lo, 0x44);  // tiles 0, 4, 8, 12
        const __m512 u1 = _mm512_shuffle_ps(t01lo, t23lo, 0xEE);  // tiles 1, 5, 9, 13
        const __m512 u2 = _mm512_shuffle_ps(t01hi, t23hi, 0x44);
        const __m512 u3 = _mm512_shuffle_ps(t01hi, t23hi, 0xEE);
        const __m512 v0 = _mm512_shuffle_f32x4(u0, u1, 0x44);
        const __m512 v1 = _mm512_shuffle_f32x4(u2, u3, 0x44);
        const __m512 v2 = _mm512_shuffle_f32x4(u0, u1, 0xEE);
        const __m512 v3 = _mm512_shuffle_f32x4(u2, u3, 0xEE);
        const __m512 o[4] = {_mm512_shuffle_f32x4(v0, v1, 0x88),   // tiles 0-3
                             _mm512_shuffle_f32x4(v0, v1, 0xDD),   // tiles 4-7
                             _mm512_shuffle_f32x4(v2, v3, 0x88),   // tiles 8-11
                             _mm512_shuffle_f32x4(v2, v3, 0xDD)};  // tiles 12-15
        float* dst = yp + oy * ow + x0;
        for (int k = 0; k < 4; ++k) {
          const __mmask16 mk = static_cast<__mmask16>(RangeMask(16 * k, width, 16));
          if (mk != 0) StoreLanes(mk, dst + 16 * k, o[k]);
        }
      }
    }
  }

  // Winograd input transform (f32/winograd_inl.h), F(2x2, 3x3) or F(4x4, 3x3), of the `n`
  // tiles (ty, tx0 .. tx0 + n - 1) of `c` input channel planes from x: element xi of channel
  // ic's tile tx0 + q to v[ic * ld_c + xi * ld_xi + q]. 16 tiles a vector: per input row of the
  // patch, a few loads hold the columns of 16 tiles (WinogradLoadOffset) and permutes split
  // them into the patch's columns (WinogradColumns, lanes = tiles); masked-off lanes (padding)
  // read as 0. The load masks and offsets are the same for every channel, so the channel loop
  // inside is loads, permutes, additions and stores.
  template <int kTile>
  static void WinogradInputRow(const float* x, int64_t c, int64_t h, int64_t w, int64_t pad_t,
                               int64_t pad_l, int64_t ty, int64_t tx0, int64_t n, float* v,
                               int64_t ld_c, int64_t ld_xi) {
    constexpr int kRows = kTile + 2;
    constexpr int kLoads = kTile == 2 ? 4 : 5;
    const __m512 zero = _mm512_setzero_ps();
    const int64_t plane = h * w;
    for (int64_t q0 = 0; q0 < n; q0 += 16) {
      const __mmask16 out = static_cast<__mmask16>(RangeMask(0, n - q0, 16));
      const int64_t c0 = kTile * (tx0 + q0) - pad_l;  // input column under lane 0's first tap
      int64_t at[kLoads];
      __mmask16 mask[kLoads];
      for (int l = 0; l < kLoads; ++l) {
        at[l] = c0 + WinogradLoadOffset<kTile>(l);
        mask[l] = static_cast<__mmask16>(RangeMask(at[l], w, 16));
      }
      bool inside[kRows];
      int64_t row_at[kRows];  // offset of each input row of the patch in a plane
      for (int i = 0; i < kRows; ++i) {
        const int64_t iy = kTile * ty - pad_t + i;
        inside[i] = iy >= 0 && iy < h;
        row_at[i] = inside[i] ? iy * w : 0;
      }
      const float* xc = x;
      float* vc = v + q0;
      for (int64_t ic = 0; ic < c; ++ic, xc += plane, vc += ld_c) {
        __m512 t[kRows][kRows];  // the patch transformed along its rows
#pragma GCC unroll 6
        for (int i = 0; i < kRows; ++i) {
          if (!inside[i]) {
            for (int j = 0; j < kRows; ++j) t[i][j] = zero;
            continue;
          }
          const float* row = xc + row_at[i];
          __m512 l[kLoads];
          for (int k = 0; k < kLoads; ++k)
            l[k] = LoadLanes(mask[k], MaskedAddress(row, at[k]), zero);
          __m512 d[kRows];
          WinogradColumns<kTile>(l, d);
          WinogradB<kTile>(d, t[i]);
        }
#pragma GCC unroll 6
        for (int j = 0; j < kRows; ++j) {
          __m512 col[kRows], o[kRows];
          for (int i = 0; i < kRows; ++i) col[i] = t[i][j];
          WinogradB<kTile>(col, o);
          for (int a = 0; a < kRows; ++a) StoreLanes(out, vc + (kRows * a + j) * ld_xi, o[a]);
        }
      }
    }
  }

  template <int kTile>
  static void WinogradOutputRow(const float* m, int64_t ld_xi, int64_t n, float bias,
                                const FusedActivation& fa, float* yp, int64_t oh, int64_t ow,
                                int64_t ty, int64_t tx0) {
    if constexpr (kTile == 2) {
      WinogradOutput2Row(m, ld_xi, n, bias, fa, yp, oh, ow, ty, tx0);
    } else {
      WinogradOutput4Row(m, ld_xi, n, bias, fa, yp, oh, ow, ty, tx0);
    }
  }

  static constexpr bool kHasIm2colRow = true;
  static void Im2colRow(const float* plane, int64_t at, int64_t stride, int64_t lo, int64_t hi,
                        int64_t ow, float* dst) {
    if (stride == 1) return Im2colRowS<1>(plane, at, lo, hi, ow, dst);
    Im2colRowS<2>(plane, at, lo, hi, ow, dst);
  }

  // 16 outputs per step from 32 loaded inputs; the last step's masks stop at src[2 * (n - 1)].
  static void CopyStride2(const float* src, int64_t n, float* dst) {
    for (int64_t i = 0; i < n; i += 16) {
      const int64_t left = n - i < 16 ? n - i : 16;
      const __m512 v = LoadEven(RangeMask(0, 2 * left - 1, 32), src + 2 * i, _mm512_setzero_ps());
      StoreLanes(static_cast<__mmask16>(RangeMask(0, left, 16)), dst + i, v);
    }
  }

  // A tile of at most kNarrow columns (the remainder of n after the 48-column tiles, e.g. 1 of
  // the 49 pixels of a 7x7 map) with the vectors along the rows instead: one 8-row FMA per
  // column per k, where TileN<1> would spend 8 16-column FMAs on a mostly empty vector. Each
  // column keeps 4 partial sums (k mod 4) so that the FMA latency does not serialize the
  // loop; they are added in a fixed order at the end, so results stay the same for any split.
  static constexpr int kNarrow = 4;
  template <int kCols>
  static void TileNarrow(const float* a, const float* b, int64_t ldb, int64_t k, float* c,
                         int64_t ldc, int rows, const Epilogue& e) {
    const __mmask8 row_mask = static_cast<__mmask8>(RangeMask(0, rows, 8));
    const __m512i row_offsets = _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7),
                                                   _mm512_set1_epi64(ldc));
    __m256 acc[kCols][4];
#pragma GCC unroll 4
    for (int j = 0; j < kCols; ++j) {
      if (!e.first) {
        acc[j][0] = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), row_mask, row_offsets,
                                             c + j, 4);
      } else if (e.bias_col != nullptr) {
        acc[j][0] = _mm256_set1_ps(e.bias_col[j]);
      } else if (e.bias_row != nullptr) {
        acc[j][0] = _mm256_maskz_loadu_ps(row_mask, e.bias_row);
      } else {
        acc[j][0] = _mm256_setzero_ps();
      }
      acc[j][1] = acc[j][2] = acc[j][3] = _mm256_setzero_ps();
    }
    int64_t kk = 0;
    for (; kk + 4 <= k; kk += 4) {
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) {
        const __m256 av = _mm256_loadu_ps(a + (kk + u) * kMR);
#pragma GCC unroll 4
        for (int j = 0; j < kCols; ++j)
          acc[j][u] = _mm256_fmadd_ps(av, _mm256_set1_ps(b[(kk + u) * ldb + j]), acc[j][u]);
      }
    }
    for (; kk < k; ++kk) {
      const __m256 av = _mm256_loadu_ps(a + kk * kMR);
#pragma GCC unroll 4
      for (int j = 0; j < kCols; ++j)
        acc[j][0] = _mm256_fmadd_ps(av, _mm256_set1_ps(b[kk * ldb + j]), acc[j][0]);
    }
    const VecAct act(e.act);
#pragma GCC unroll 4
    for (int j = 0; j < kCols; ++j) {
      __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[j][0], acc[j][1]),
                                 _mm256_add_ps(acc[j][2], acc[j][3]));
      if (e.last) sum = _mm512_castps512_ps256(act(_mm512_castps256_ps512(sum)));
      _mm512_mask_i64scatter_ps(c + j, row_mask, row_offsets, sum, 4);
    }
  }

  static void Tile(const float* a, const float* b, int64_t ldb, int64_t k, float* c, int64_t ldc,
                   int rows, int cols, const Epilogue& e) {
    if (cols <= kNarrow) {
      switch (cols) {
        case 1: return TileNarrow<1>(a, b, ldb, k, c, ldc, rows, e);
        case 2: return TileNarrow<2>(a, b, ldb, k, c, ldc, rows, e);
        case 3: return TileNarrow<3>(a, b, ldb, k, c, ldc, rows, e);
        default: return TileNarrow<4>(a, b, ldb, k, c, ldc, rows, e);
      }
    }
    const bool tail = cols % 16 != 0;
    if (cols > 32) {
      if (!tail) return TileN<3, false>(a, b, ldb, k, c, ldc, rows, cols, e);
      TileN<3, true>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else if (cols > 16) {
      if (!tail) return TileN<2, false>(a, b, ldb, k, c, ldc, rows, cols, e);
      TileN<2, true>(a, b, ldb, k, c, ldc, rows, cols, e);
    } else {
      if (!tail) return TileN<1, false>(a, b, ldb, k, c, ldc, rows, cols, e);
      TileN<1, true>(a, b, ldb, k, c, ldc, rows, cols, e);
    }
  }

  // kPhaseRows (plan.h): a micro-tile of at most kNR columns whose B row kk is at b + off[kk].
  static void TileRows(const float* a, const float* b, const int64_t* off, int64_t k, float* c,
                       int64_t ldc, int rows, int cols, const Epilogue& e) {
    const bool tail = cols % 16 != 0;
    if (cols > 32) {
      if (!tail) return TileN<3, false, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
      TileN<3, true, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
    } else if (cols > 16) {
      if (!tail) return TileN<2, false, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
      TileN<2, true, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
    } else {
      if (!tail) return TileN<1, false, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
      TileN<1, true, true>(a, b, 0, k, c, ldc, rows, cols, e, off);
    }
  }

  // Padded row r of one input plane (h x w, padding pad_t above and pad_l before) as its even
  // and odd columns, `row` floats each (a multiple of 16), at out and out + row: padded column
  // 2j + p at out[p * row + j], zero in the padding and past the plane. 32 padded columns a
  // step: two masked loads, a permute each way.
  static void SplitPhaseRow(const float* plane, int64_t h, int64_t w, int64_t pad_t, int64_t pad_l,
                            int64_t r, int64_t row, float* out) {
    const __m512 zero = _mm512_setzero_ps();
    const int64_t iy = r - pad_t;
    if (iy < 0 || iy >= h) {
      for (int64_t j = 0; j < 2 * row; j += 16) _mm512_storeu_ps(out + j, zero);
      return;
    }
    const float* src = plane + iy * w;
    const __m512i even = EvenLanes();
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t j = 0; j < row; j += 16) {
      const int64_t ix = 2 * j - pad_l;  // input column of padded column 2j
      const uint64_t in = RangeMask(ix, w, 32);
      const __m512 lo = LoadLanes(static_cast<__mmask16>(in), MaskedAddress(src, ix), zero);
      const __m512 hi =
          LoadLanes(static_cast<__mmask16>(in >> 16), MaskedAddress(src, ix + 16), zero);
      _mm512_storeu_ps(out + j, _mm512_permutex2var_ps(lo, even, hi));
      _mm512_storeu_ps(out + row + j, _mm512_permutex2var_ps(lo, odd, hi));
    }
  }

  // Kernel column v of the kNB 16-wide output blocks from column ox0: the first input column
  // each block reads and which of its lanes (32 for stride 2: LoadEven) lie inside the row.
  template <int kNB>
  static void DepthwiseColumnTap(const ref::ConvF32Data& d, int64_t wd, int64_t ox0, int64_t v,
                                 int64_t ix0[kNB], uint64_t mask[kNB]) {
#pragma GCC unroll 4
    for (int b = 0; b < kNB; ++b) {
      ix0[b] = (ox0 + 16 * b) * d.stride_w - d.pad_left + v * d.dilation_w;
      mask[b] = RangeMask(ix0[b], wd, d.stride_w == 1 ? 16 : 32);
    }
  }

  // 16 input values of one tap, stride 1 or 2, zero outside the row.
  static __m512 DepthwiseLoad(const float* row, int64_t ix0, uint64_t mask, int64_t sw) {
    const float* p = MaskedAddress(row, ix0);
    if (sw == 1) return LoadLanes(static_cast<__mmask16>(mask), p, _mm512_setzero_ps());
    return LoadEven(mask, p, _mm512_setzero_ps());
  }

  // The kR x kNB accumulators, activated, into output rows oy.. from column ox0.
  template <int kR, int kNB>
  static void DepthwiseStore(const __m512 (&acc)[kR][kNB], int64_t ow, float* yp, int64_t oy,
                             int64_t ox0, const VecAct& act) {
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const __mmask16 out = static_cast<__mmask16>(RangeMask(ox0 + 16 * b, ow, 16));
        StoreLanes(out, yp + (oy + r) * ow + ox0 + 16 * b, act(acc[r][b]));
      }
  }

  // kNB blocks of 16 output columns of kR rows starting at (oy, ox0), kR * kNB <= 8:
  // independent accumulators, so the FMA latency of one block's tap chain hides behind the
  // others. Several rows at once share the column masks and offsets.
  template <int kR, int kNB>
  static void DepthwiseBlocks(const DepthwiseArgs& j, const float* xp, const float* wp,
                              float* yp, int64_t oy, int64_t ox0, __m512 b0,
                              const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t sw = d.stride_w, h = j.h, wd = j.wd, kh = j.kh, kw = j.kw;
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
      DepthwiseColumnTap<kNB>(d, wd, ox0, v, ix0, mask);
      for (int64_t u = 0; u < kh; ++u) {
        const __m512 wv = _mm512_set1_ps(wp[u * kw + v]);
#pragma GCC unroll 4
        for (int r = 0; r < kR; ++r) {
          const int64_t iy = (oy + r) * d.stride_h - d.pad_top + u * d.dilation_h;
          if (iy < 0 || iy >= h) continue;
          const float* row = xp + iy * wd;
#pragma GCC unroll 4
          for (int b = 0; b < kNB; ++b) {
            acc[r][b] = _mm512_fmadd_ps(wv, DepthwiseLoad(row, ix0[b], mask[b], sw), acc[r][b]);
          }
        }
      }
    }
    DepthwiseStore<kR, kNB>(acc, j.ow, yp, oy, ox0, act);
  }

  // As DepthwiseBlocks, for a 3-row kernel (dilation 1) with row stride kSH: the loop runs
  // over the input rows the kR output rows need, loading each once per column tap and feeding
  // every output row whose window covers it ((kR - 1) * kSH + 3 loads instead of 3 * kR). On
  // the large early MobileNet planes the loads, not the FMAs, limit the plain version. Each
  // accumulator still sees its taps column by column, kernel row by kernel row: the same sum
  // order as DepthwiseBlocks.
  template <int kR, int kNB, int kSH>
  static void DepthwiseBlocks3(const DepthwiseArgs& j, const float* xp, const float* wp,
                               float* yp, int64_t oy, int64_t ox0, __m512 b0,
                               const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t sw = d.stride_w, h = j.h, wd = j.wd, kw = j.kw;
    constexpr int kRows = (kR - 1) * kSH + 3;
    const int64_t iy0 = oy * kSH - d.pad_top;
    __m512 acc[kR][kNB];
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) acc[r][b] = b0;
    for (int64_t v = 0; v < kw; ++v) {
      int64_t ix0[kNB];
      uint64_t mask[kNB];
      DepthwiseColumnTap<kNB>(d, wd, ox0, v, ix0, mask);
      const __m512 wv[3] = {_mm512_set1_ps(wp[v]), _mm512_set1_ps(wp[kw + v]),
                            _mm512_set1_ps(wp[2 * kw + v])};
#pragma GCC unroll 16
      for (int t = 0; t < kRows; ++t) {
        const int64_t iy = iy0 + t;
        if (iy < 0 || iy >= h) continue;
        const float* row = xp + iy * wd;
#pragma GCC unroll 4
        for (int b = 0; b < kNB; ++b) {
          const __m512 xv = DepthwiseLoad(row, ix0[b], mask[b], sw);
#pragma GCC unroll 3
          for (int u = 0; u < 3; ++u) {
            if (t < u || (t - u) % kSH != 0 || (t - u) / kSH >= kR) continue;
            const int r = (t - u) / kSH;
            acc[r][b] = _mm512_fmadd_ps(wv[u], xv, acc[r][b]);
          }
        }
      }
    }
    DepthwiseStore<kR, kNB>(acc, j.ow, yp, oy, ox0, act);
  }

  // A 3x3 kernel (dilation 1) with stride 1 or 2 both ways: the three column taps of a block
  // come from one load of the input row, not three (DepthwiseBlocks3 loads the row once per
  // tap; on Zen the loads, most of them unaligned or masked, were the limit). Each
  // accumulator sums its taps kernel row by kernel row, column by column: the reference's
  // order. The two strides stay two functions: written as one with the row's loads behind an
  // interface, GCC's code for the narrow planes ran 10% slower.
  static bool Taps3x3(const DepthwiseArgs& j, int64_t stride) {
    const ref::ConvF32Data& d = *j.d;
    return j.kh == 3 && j.kw == 3 && d.stride_h == stride && d.stride_w == stride &&
           d.dilation_h == 1 && d.dilation_w == 1;
  }

  // Stride 1: output lane i reads input columns c + i - 1, c + i and c + i + 1 (c = ox0 -
  // pad_left + 1). Each input row is loaded once per block (the middle tap); the outer taps are
  // that vector shifted by a lane, the neighbouring block's end or start shifted in (one more
  // column at each end of the run of blocks).
  template <int kR, int kNB>
  static void DepthwiseBlocks3S1(const DepthwiseArgs& j, const float* xp, const float* wp,
                                 float* yp, int64_t oy, int64_t ox0, __m512 b0,
                                 const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t h = j.h, wd = j.wd;
    constexpr int kRows = kR + 2;
    const int64_t iy0 = oy - d.pad_top;
    __m512 acc[kR][kNB];
    __m512 wv[3][3];
    Taps3x3Setup<kR, kNB>(wp, b0, acc, wv);
    const int64_t ix_mid = ox0 - d.pad_left + 1;  // the middle tap of lane 0
    __mmask16 mask[kNB];
#pragma GCC unroll 4
    for (int b = 0; b < kNB; ++b)
      mask[b] = static_cast<__mmask16>(RangeMask(ix_mid + 16 * b, wd, 16));
    // The column before the run (lane 15 of a vector that ends there) and the one after it.
    const __mmask16 mask_before =
        static_cast<__mmask16>(RangeMask(ix_mid - 16, wd, 16) & 0x8000u);
    const __mmask16 mask_after = static_cast<__mmask16>(RangeMask(ix_mid + 16 * kNB, wd, 1));
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int t = 0; t < kRows; ++t) {
      const int64_t iy = iy0 + t;
      if (iy < 0 || iy >= h) continue;
      const float* row = xp + iy * wd;
      __m512 x[kNB + 2];  // x[b + 1]: block b's middle tap; x[0], x[kNB + 1]: the two columns
      x[0] = _mm512_maskz_loadu_ps(mask_before, MaskedAddress(row, ix_mid - 16));
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b)
        x[b + 1] = LoadLanes(mask[b], MaskedAddress(row, ix_mid + 16 * b), zero);
      x[kNB + 1] = _mm512_maskz_loadu_ps(mask_after, MaskedAddress(row, ix_mid + 16 * kNB));
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const __m512i prev = _mm512_castps_si512(x[b]), mid = _mm512_castps_si512(x[b + 1]),
                      next = _mm512_castps_si512(x[b + 2]);
        const __m512 left = _mm512_castsi512_ps(_mm512_alignr_epi32(mid, prev, 15));
        const __m512 right = _mm512_castsi512_ps(_mm512_alignr_epi32(next, mid, 1));
#pragma GCC unroll 3
        for (int u = 0; u < 3; ++u) {
          if (t < u || t - u >= kR) continue;
          Taps3x3Fma(wv[u], left, x[b + 1], right, acc[t - u][b]);
        }
      }
    }
    DepthwiseStore<kR, kNB>(acc, j.ow, yp, oy, ox0, act);
  }

  // Stride 2: output lane i reads input columns 2i - p, 2i - p + 1 and 2i - p + 2 (p =
  // pad_left): the even lanes, the odd lanes, and the even lanes shifted by one of the same 32
  // columns (one more column after the run of blocks).
  template <int kR, int kNB>
  static void DepthwiseBlocks3S2(const DepthwiseArgs& j, const float* xp, const float* wp,
                                 float* yp, int64_t oy, int64_t ox0, __m512 b0,
                                 const VecAct& act) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t h = j.h, wd = j.wd;
    constexpr int kRows = (kR - 1) * 2 + 3;
    const int64_t iy0 = oy * 2 - d.pad_top;
    __m512 acc[kR][kNB];
    __m512 wv[3][3];
    Taps3x3Setup<kR, kNB>(wp, b0, acc, wv);
    int64_t ix0[kNB];
    uint64_t mask[kNB];
#pragma GCC unroll 4
    for (int b = 0; b < kNB; ++b) {
      ix0[b] = (ox0 + 16 * b) * 2 - d.pad_left;
      mask[b] = RangeMask(ix0[b], wd, 32);
    }
    const int64_t ix_end = (ox0 + 16 * kNB) * 2 - d.pad_left;
    const __mmask16 mask_end = static_cast<__mmask16>(RangeMask(ix_end, wd, 1));
    const __m512i even_lanes = EvenLanes();
    const __m512i odd_lanes = _mm512_add_epi32(even_lanes, _mm512_set1_epi32(1));
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int t = 0; t < kRows; ++t) {
      const int64_t iy = iy0 + t;
      if (iy < 0 || iy >= h) continue;
      const float* row = xp + iy * wd;
      __m512 even[kNB + 1], odd[kNB];  // even[kNB]: the column after the run, in lane 0
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const __m512 lo =
            LoadLanes(static_cast<__mmask16>(mask[b]), MaskedAddress(row, ix0[b]), zero);
        const __m512 hi = LoadLanes(static_cast<__mmask16>(mask[b] >> 16),
                                    MaskedAddress(row, ix0[b] + 16), zero);
        even[b] = _mm512_permutex2var_ps(lo, even_lanes, hi);
        odd[b] = _mm512_permutex2var_ps(lo, odd_lanes, hi);
      }
      even[kNB] = _mm512_maskz_loadu_ps(mask_end, MaskedAddress(row, ix_end));
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) {
        const __m512 shifted = _mm512_castsi512_ps(_mm512_alignr_epi32(
            _mm512_castps_si512(even[b + 1]), _mm512_castps_si512(even[b]), 1));
#pragma GCC unroll 3
        for (int u = 0; u < 3; ++u) {
          if (t < u || (t - u) % 2 != 0 || (t - u) / 2 >= kR) continue;
          Taps3x3Fma(wv[u], even[b], odd[b], shifted, acc[(t - u) / 2][b]);
        }
      }
    }
    DepthwiseStore<kR, kNB>(acc, j.ow, yp, oy, ox0, act);
  }

  // The accumulators at the bias and the 9 weights broadcast.
  template <int kR, int kNB>
  static void Taps3x3Setup(const float* wp, __m512 b0, __m512 (&acc)[kR][kNB],
                           __m512 (&wv)[3][3]) {
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
      for (int b = 0; b < kNB; ++b) acc[r][b] = b0;
#pragma GCC unroll 3
    for (int u = 0; u < 3; ++u)
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) wv[u][v] = _mm512_set1_ps(wp[u * 3 + v]);
  }

  // One kernel row's three column taps into an accumulator, left to right.
  static void Taps3x3Fma(const __m512 (&w)[3], __m512 x0, __m512 x1, __m512 x2, __m512& acc) {
    acc = _mm512_fmadd_ps(w[0], x0, acc);
    acc = _mm512_fmadd_ps(w[1], x1, acc);
    acc = _mm512_fmadd_ps(w[2], x2, acc);
  }

  // kR rows x kNB blocks of a 3-row kernel with row stride kSH: DepthwiseBlocks3S1 or S2 where
  // the kernel is 3x3 with that stride both ways (`taps3x3`), DepthwiseBlocks3 otherwise.
  template <int kR, int kNB, int kSH>
  static void Blocks3(bool taps3x3, const DepthwiseArgs& j, const float* xp, const float* wp,
                      float* yp, int64_t oy, int64_t ox0, __m512 b0, const VecAct& act) {
    if (taps3x3 && kSH == 1) return DepthwiseBlocks3S1<kR, kNB>(j, xp, wp, yp, oy, ox0, b0, act);
    if (taps3x3 && kSH == 2) return DepthwiseBlocks3S2<kR, kNB>(j, xp, wp, yp, oy, ox0, b0, act);
    DepthwiseBlocks3<kR, kNB, kSH>(j, xp, wp, yp, oy, ox0, b0, act);
  }

  template <int kR, int kSH>
  static void DepthwiseRows3(const DepthwiseArgs& j, const float* xp, const float* wp,
                             float* yp, int64_t oy, __m512 b0, const VecAct& act) {
    const bool taps3x3 = Taps3x3(j, kSH);
    int64_t ox0 = 0;
    for (; ox0 + 48 < j.ow; ox0 += 64)
      Blocks3<kR, 4, kSH>(taps3x3, j, xp, wp, yp, oy, ox0, b0, act);
    const int64_t left = (j.ow - ox0 + 15) / 16;  // 0..3 blocks
    if (left == 3) Blocks3<kR, 3, kSH>(taps3x3, j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 2) Blocks3<kR, 2, kSH>(taps3x3, j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 1) Blocks3<kR, 1, kSH>(taps3x3, j, xp, wp, yp, oy, ox0, b0, act);
  }

  // kR output rows from column 0 on, in blocks of up to 4 vectors.
  template <int kR>
  static void DepthwiseRows(const DepthwiseArgs& j, const float* xp, const float* wp, float* yp,
                            int64_t oy, __m512 b0, const VecAct& act) {
    int64_t ox0 = 0;
    for (; ox0 + 48 < j.ow; ox0 += 64) DepthwiseBlocks<kR, 4>(j, xp, wp, yp, oy, ox0, b0, act);
    const int64_t left = (j.ow - ox0 + 15) / 16;  // 0..3 blocks
    if (left == 3) DepthwiseBlocks<kR, 3>(j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 2) DepthwiseBlocks<kR, 2>(j, xp, wp, yp, oy, ox0, b0, act);
    if (left == 1) DepthwiseBlocks<kR, 1>(j, xp, wp, yp, oy, ox0, b0, act);
  }

  // Small planes of a stride-1 depthwise conv that keeps the row width (w == ow): the plane is
  // one flat row of pixels, and tap (u, v) reads the input plane shifted by a constant. The
  // masks (padding, row edges, plane end) depend only on the tap and the vector, so they are
  // built once per task and serve every channel; per-row setup would otherwise dominate the
  // late MobileNet layers (14x14, 7x7: a few vectors per plane).
  static constexpr int kFlatVectors = 16, kFlatTaps = 25;

  // kP planes (consecutive in x and y, `src_stride` floats apart in src) as one flat row of
  // `pixels` outputs in kNV vectors each: tap t reads src at pixel + shift[t], the lanes of
  // masks[t] (the others are padding, zero). Every vector of every plane keeps its sum in a
  // register through all taps, so a tap is one broadcast per plane and, per vector, a mask, a
  // load and an FMA: 14x14 planes (13 vectors) have 13 independent chains, 7x7 planes (4
  // vectors) run two planes at once for 8. (4 vectors at a time, with the tap loop around
  // them, MobileNetV2's 14x14 layers took 41 and 63 us instead of 33 and 51, its 7x7 ones 27
  // instead of 23.)
  template <int kNV, int kP>
  static void FlatPlaneN(const float* src, int64_t src_stride,
                         const __mmask16 (&masks)[kFlatTaps][kFlatVectors],
                         const int64_t (&shift)[kFlatTaps], int64_t taps, int64_t pixels,
                         const float* const (&wp)[kP], const float (&bias)[kP], const VecAct& act,
                         float* yp) {
    __m512 acc[kP][kNV];
#pragma GCC unroll 2
    for (int p = 0; p < kP; ++p) {
      const __m512 b0 = _mm512_set1_ps(bias[p]);
#pragma GCC unroll 16
      for (int v = 0; v < kNV; ++v) acc[p][v] = b0;
    }
    for (int64_t tap = 0; tap < taps; ++tap) {
      const float* s = MaskedAddress(src, shift[tap]);
      __m512 wv[kP];
#pragma GCC unroll 2
      for (int p = 0; p < kP; ++p) wv[p] = _mm512_set1_ps(wp[p][tap]);
#pragma GCC unroll 16
      for (int v = 0; v < kNV; ++v) {
        const __mmask16 m = masks[tap][v];
#pragma GCC unroll 2
        for (int p = 0; p < kP; ++p) {
          const __m512 xv =
              LoadLanes(m, MaskedAddress(s, p * src_stride + 16 * v), _mm512_setzero_ps());
          acc[p][v] = _mm512_fmadd_ps(wv[p], xv, acc[p][v]);
        }
      }
    }
    const __mmask16 last = static_cast<__mmask16>(RangeMask(16 * (kNV - 1), pixels, 16));
#pragma GCC unroll 2
    for (int p = 0; p < kP; ++p) {
      float* y = yp + p * pixels;
#pragma GCC unroll 16
      for (int v = 0; v < kNV - 1; ++v) _mm512_storeu_ps(y + 16 * v, act(acc[p][v]));
      _mm512_mask_storeu_ps(y + 16 * (kNV - 1), last, act(acc[p][kNV - 1]));
    }
  }

  // The flat planes begin..end of DepthwiseArgs j (t = image * c + channel), read from
  // src_of(t) (the input plane, or its phases), `src_stride` floats from one plane's source to
  // the next's: two planes at a time up to 8 vectors, else one.
  template <int kNV, typename SrcOf>
  static void FlatPlanesN(const DepthwiseArgs& j, int64_t begin, int64_t end, int64_t src_stride,
                          const __mmask16 (&masks)[kFlatTaps][kFlatVectors],
                          const int64_t (&shift)[kFlatTaps], int64_t taps, int64_t pixels,
                          const VecAct& act, SrcOf src_of) {
    const auto weights = [&](int64_t t) { return j.w + t % j.c * taps; };
    const auto bias = [&](int64_t t) { return j.bias != nullptr ? j.bias[t % j.c] : 0.0f; };
    int64_t t = begin;
    if constexpr (kNV <= 8) {
      for (; t + 2 <= end; t += 2) {
        const float* const wp[2] = {weights(t), weights(t + 1)};
        const float b[2] = {bias(t), bias(t + 1)};
        FlatPlaneN<kNV, 2>(src_of(t, 2), src_stride, masks, shift, taps, pixels, wp, b, act,
                           j.y + t * pixels);
      }
    }
    for (; t < end; ++t) {
      const float* const wp[1] = {weights(t)};
      const float b[1] = {bias(t)};
      FlatPlaneN<kNV, 1>(src_of(t, 1), src_stride, masks, shift, taps, pixels, wp, b, act,
                         j.y + t * pixels);
    }
  }

  // FlatPlanesN for the plane's vector count (1 .. kFlatVectors).
  template <typename SrcOf>
  static void RunFlatPlanes(const DepthwiseArgs& j, int64_t begin, int64_t end, int64_t src_stride,
                            const __mmask16 (&masks)[kFlatTaps][kFlatVectors],
                            const int64_t (&shift)[kFlatTaps], int64_t taps, int64_t pixels,
                            const VecAct& act, SrcOf src_of) {
    switch ((pixels + 15) / 16) {
#define OUTPOST_FLAT_CASE(nv) \
  case nv:                    \
    return FlatPlanesN<nv>(j, begin, end, src_stride, masks, shift, taps, pixels, act, src_of);
      OUTPOST_FLAT_CASE(1)
      OUTPOST_FLAT_CASE(2)
      OUTPOST_FLAT_CASE(3) OUTPOST_FLAT_CASE(4) OUTPOST_FLAT_CASE(5) OUTPOST_FLAT_CASE(6)
          OUTPOST_FLAT_CASE(7) OUTPOST_FLAT_CASE(8) OUTPOST_FLAT_CASE(9) OUTPOST_FLAT_CASE(10)
              OUTPOST_FLAT_CASE(11) OUTPOST_FLAT_CASE(12) OUTPOST_FLAT_CASE(13)
                  OUTPOST_FLAT_CASE(14) OUTPOST_FLAT_CASE(15) default
          : return FlatPlanesN<16>(j, begin, end, src_stride, masks, shift, taps, pixels, act,
                                   src_of);
#undef OUTPOST_FLAT_CASE
    }
  }

  static bool FlatPlanes(const DepthwiseArgs& j) {
    return j.d->stride_h == 1 && j.d->stride_w == 1 && j.ow == j.wd &&
           j.oh * j.ow <= kFlatVectors * 16 && j.kh * j.kw <= kFlatTaps;
  }

  // The flat planes' masks: lane i of masks[u * kw + v][q] is set when output pixel
  // p = 16 q + i < pixels, at (oy, ox) = (p / ow, p % ow), reads source row oy + ry[u] within
  // [0, rows) and column ox + rx[v] within [0, cols). Vectors past the plane stay as they are
  // (zero). Every task builds them, so they are vector compares: built pixel by pixel and tap by
  // tap, they were about 3 us a task, which at 2 threads (8 tasks) cost MobileNetV2's 14x14
  // layers most of the second thread's gain (384 x 14x14: 35 us at 1 thread, 25-31 at 2).
  static void FlatMasks(int64_t pixels, int64_t ow, int64_t kh, int64_t kw, const int64_t* ry,
                        const int64_t* rx, int64_t rows, int64_t cols,
                        __mmask16 (&masks)[kFlatTaps][kFlatVectors]) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // p / ow as (p + 0.5) / ow truncated: the exact quotient lies at least 0.5 / ow from an
    // integer, far beyond the float rounding for p < 2^8 (kFlatVectors * 16).
    const __m512 inv = _mm512_set1_ps(1.0f / static_cast<float>(ow));
    const __m512i width = _mm512_set1_epi32(static_cast<int32_t>(ow));
    for (int64_t q = 0; q < (pixels + 15) / 16; ++q) {
      const __m512i p = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(16 * q)));
      const __mmask16 in =
          _mm512_cmplt_epi32_mask(p, _mm512_set1_epi32(static_cast<int32_t>(pixels)));
      const __m512i oy = _mm512_cvttps_epi32(
          _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(p), _mm512_set1_ps(0.5f)), inv));
      const __m512i ox = _mm512_sub_epi32(p, _mm512_mullo_epi32(oy, width));
      // Unsigned compares: a negative row or column is a large unsigned value.
      __mmask16 col_ok[kFlatTaps];
      for (int64_t v = 0; v < kw; ++v)
        col_ok[v] = _mm512_cmplt_epu32_mask(
            _mm512_add_epi32(ox, _mm512_set1_epi32(static_cast<int32_t>(rx[v]))),
            _mm512_set1_epi32(static_cast<int32_t>(cols)));
      for (int64_t u = 0; u < kh; ++u) {
        const __mmask16 row_ok =
            in & _mm512_cmplt_epu32_mask(
                     _mm512_add_epi32(oy, _mm512_set1_epi32(static_cast<int32_t>(ry[u]))),
                     _mm512_set1_epi32(static_cast<int32_t>(rows)));
        for (int64_t v = 0; v < kw; ++v) masks[u * kw + v][q] = row_ok & col_ok[v];
      }
    }
  }

  static void DepthwiseFlatPlanes(const DepthwiseArgs& j, int64_t begin, int64_t end) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t pixels = j.oh * j.ow, taps = j.kh * j.kw;
    __mmask16 masks[kFlatTaps][kFlatVectors] = {};  // vectors past the plane stay 0: no access
    int64_t shift[kFlatTaps], ry[kFlatTaps], rx[kFlatTaps];
    for (int64_t u = 0; u < j.kh; ++u) ry[u] = u * d.dilation_h - d.pad_top;
    for (int64_t v = 0; v < j.kw; ++v) rx[v] = v * d.dilation_w - d.pad_left;
    for (int64_t u = 0; u < j.kh; ++u)
      for (int64_t v = 0; v < j.kw; ++v) shift[u * j.kw + v] = ry[u] * j.wd + rx[v];
    FlatMasks(pixels, j.ow, j.kh, j.kw, ry, rx, j.h, j.wd, masks);
    const VecAct act(d.act);
    const int64_t plane = j.h * j.wd;
    RunFlatPlanes(j, begin, end, plane, masks, shift, taps, pixels, act,
                  [&](int64_t t, int) { return j.x + t * plane; });
  }

  // Small, narrow planes of a stride-2 depthwise conv whose output rows are the input's halved
  // and rounded up (a 3x3 kernel with padding 1: MobileNetV2's 14x14 -> 7x7 layer). Row by row,
  // such a plane uses at most half the lanes of each vector (7 of 16 there). Instead, each
  // input plane is split into its four phases (even or odd rows, even or odd columns), planes
  // of ow columns; tap (u, v) then reads one phase shifted by a constant, and the planes run as
  // in DepthwiseFlatPlanes: one flat row of pixels (49 in 4 vectors), masks built once per
  // task. MobileNetV2's 14x14 -> 7x7 layer: 72 -> 21 us at 1 thread. On wider rows the split
  // costs what the fuller vectors save (28x28 -> 14x14: 26 us row-wise, 26-29 split), so they
  // stay row-wise.
  static constexpr int64_t kPhaseFloats = 320;  // one phase plane, at most
  static constexpr int64_t kMaxPhaseColumns = 8;

  static bool FlatPlanesStride2(const DepthwiseArgs& j) {
    const ref::ConvF32Data& d = *j.d;
    const int64_t h2 = (j.h + 1) / 2, w2 = (j.wd + 1) / 2;
    return d.stride_h == 2 && d.stride_w == 2 && d.dilation_h == 1 && d.dilation_w == 1 &&
           j.ow == w2 && j.ow <= kMaxPhaseColumns && j.oh * j.ow <= kFlatVectors * 16 &&
           h2 * w2 + 16 <= kPhaseFloats && j.kh * j.kw <= kFlatTaps;
  }

  // Phase (a, b) of an h x w plane, w <= 16: x[2r + a][2c + b] at
  // phases[(2a + b) * stride + r * w2 + c], zero where 2r + a or 2c + b lies outside the plane
  // (the convolution's zero padding). One masked load per input row, its even and odd lanes
  // stored whole: each store runs past its phase row into the next one, which is written
  // after it, and the last row's into the 16 floats of padding after each phase plane. (Two
  // masked loads and two masked stores of w2 lanes per row made the 14x14 -> 7x7 layer 38 us
  // instead of 21.)
  static void SplitPhases(const float* xp, int64_t h, int64_t w, int64_t h2, int64_t w2,
                          int64_t stride, float* phases) {
    const __mmask16 in = static_cast<__mmask16>(RangeMask(0, w, 16));
    const __m512i even = EvenLanes();  // lanes 8..15: unused
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t iy = 0; iy < 2 * h2; ++iy) {
      const __m512 row = iy < h ? _mm512_maskz_loadu_ps(in, xp + iy * w) : _mm512_setzero_ps();
      float* dst = phases + 2 * (iy & 1) * stride + (iy >> 1) * w2;
      _mm512_storeu_ps(dst, _mm512_permutexvar_ps(even, row));
      _mm512_storeu_ps(dst + stride, _mm512_permutexvar_ps(odd, row));
    }
  }

  static void DepthwiseFlatPlanesStride2(const DepthwiseArgs& j, int64_t begin, int64_t end) {
    const ref::ConvF32Data& d = *j.d;
    // Phase planes h2 x w2, 16 floats of padding after each (SplitPhases).
    const int64_t h2 = (j.h + 1) / 2, w2 = j.ow, plane = h2 * w2 + 16;
    const int64_t pixels = j.oh * j.ow, taps = j.kh * j.kw;
    // Input row 2 * oy - pad_top + u is phase row oy + dy of row phase a, where
    // u - pad_top = 2 * dy + a (a in {0, 1}); columns alike.
    __mmask16 masks[kFlatTaps][kFlatVectors] = {};  // vectors past the plane stay 0: no access
    int64_t shift[kFlatTaps], dy[kFlatTaps], dx[kFlatTaps];
    for (int64_t u = 0; u < j.kh; ++u) {
      const int64_t ry = u - d.pad_top, a = ry & 1;
      dy[u] = (ry - a) / 2;
      for (int64_t v = 0; v < j.kw; ++v) {
        const int64_t rx = v - d.pad_left, b = rx & 1;
        dx[v] = (rx - b) / 2;
        shift[u * j.kw + v] = (2 * a + b) * plane + dy[u] * w2 + dx[v];
      }
    }
    FlatMasks(pixels, j.ow, j.kh, j.kw, dy, dx, h2, w2, masks);
    // Two planes' phases at a time: FlatPlanesN runs two small planes at once.
    alignas(64) float phases[2][4 * kPhaseFloats];
    const VecAct act(d.act);
    RunFlatPlanes(j, begin, end, 4 * kPhaseFloats, masks, shift, taps, pixels, act,
                  [&](int64_t t, int count) {
                    for (int i = 0; i < count; ++i)
                      SplitPhases(j.x + (t + i) * j.h * j.wd, j.h, j.wd, h2, w2, plane, phases[i]);
                    return &phases[0][0];
                  });
  }

  static void DepthwisePlanes(void* arg, int64_t begin, int64_t end) {
    const DepthwiseArgs& j = *static_cast<const DepthwiseArgs*>(arg);
    if (FlatPlanes(j)) return DepthwiseFlatPlanes(j, begin, end);
    if (FlatPlanesStride2(j)) return DepthwiseFlatPlanesStride2(j, begin, end);
    const VecAct act(j.d->act);
    const bool rows3 = j.kh == 3 && j.d->dilation_h == 1;
    for (int64_t t = begin; t < end; ++t) {
      const int64_t ch = t % j.c;
      const float* xp = j.x + t * j.h * j.wd;
      const float* wp = j.w + ch * j.kh * j.kw;
      float* yp = j.y + t * j.oh * j.ow;
      const __m512 b0 = _mm512_set1_ps(j.bias != nullptr ? j.bias[ch] : 0.0f);
      int64_t oy = 0;
      if (rows3 && j.ow <= 32 && j.d->stride_h <= 2) {
        // Narrow planes, 3-row kernel: 4 rows of 1 or 2 vectors, each input row loaded once.
        const bool one = j.ow <= 16, s1 = j.d->stride_h == 1;
        const bool t1 = Taps3x3(j, 1), t2 = Taps3x3(j, 2);
        for (; oy + 4 <= j.oh; oy += 4) {
          if (one && t1) DepthwiseBlocks3S1<4, 1>(j, xp, wp, yp, oy, 0, b0, act);
          if (!one && t1) DepthwiseBlocks3S1<4, 2>(j, xp, wp, yp, oy, 0, b0, act);
          if (one && t2) DepthwiseBlocks3S2<4, 1>(j, xp, wp, yp, oy, 0, b0, act);
          if (!one && t2) DepthwiseBlocks3S2<4, 2>(j, xp, wp, yp, oy, 0, b0, act);
          if (t1 || t2) continue;
          if (one && s1) DepthwiseBlocks3<4, 1, 1>(j, xp, wp, yp, oy, 0, b0, act);
          if (one && !s1) DepthwiseBlocks3<4, 1, 2>(j, xp, wp, yp, oy, 0, b0, act);
          if (!one && s1) DepthwiseBlocks3<4, 2, 1>(j, xp, wp, yp, oy, 0, b0, act);
          if (!one && !s1) DepthwiseBlocks3<4, 2, 2>(j, xp, wp, yp, oy, 0, b0, act);
        }
      } else if (j.ow <= 16) {
        for (; oy + 4 <= j.oh; oy += 4) DepthwiseBlocks<4, 1>(j, xp, wp, yp, oy, 0, b0, act);
      } else if (j.ow <= 32) {
        for (; oy + 2 <= j.oh; oy += 2) DepthwiseBlocks<2, 2>(j, xp, wp, yp, oy, 0, b0, act);
      } else if (rows3 && j.d->stride_h == 1) {
        // Wide planes, 3-row kernel: 4 output rows load each of their 6 input rows once.
        for (; oy + 4 <= j.oh; oy += 4) DepthwiseRows3<4, 1>(j, xp, wp, yp, oy, b0, act);
      } else if (rows3 && j.d->stride_h == 2) {
        for (; oy + 4 <= j.oh; oy += 4) DepthwiseRows3<4, 2>(j, xp, wp, yp, oy, b0, act);
      } else {
        // Wide planes: two rows share each column's masks and offsets.
        for (; oy + 2 <= j.oh; oy += 2) DepthwiseRows<2>(j, xp, wp, yp, oy, b0, act);
      }
      for (; oy < j.oh; ++oy) DepthwiseRows<1>(j, xp, wp, yp, oy, b0, act);
    }
  }
};

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/f32/driver_inl.h"

namespace outpost {
namespace kernels {

const KernelRegistration kConv2DF32Avx512 = {
    OpCode::CONV_2D,
    DType::FLOAT32,
    KernelFamily::kX86,
    "conv2d_f32_avx512",
    sizeof(f32::ConvOpData),
    f32::ConvScratchBytes<x86::Avx512>,
    f32::PrepareConv<x86::Avx512>,
    f32::EvalConv<x86::Avx512>,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    f32::ConvPackedBytes<x86::Avx512>,
    "f32-conv-panels/avx512/mr8/kc256/v2",
};

const KernelRegistration kFullyConnectedF32Avx512 = {
    OpCode::FULLY_CONNECTED,
    DType::FLOAT32,
    KernelFamily::kX86,
    "fully_connected_f32_avx512",
    sizeof(f32::FullyConnectedOpData),
    f32::FullyConnectedScratchBytes<x86::Avx512>,
    f32::PrepareFullyConnected<x86::Avx512>,
    f32::EvalFullyConnected<x86::Avx512>,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    f32::FullyConnectedPackedBytes<x86::Avx512>,
    "f32-fc-columns/avx512/nr48/v1",
    f32::FcReadsSparseWeights,
};

}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/avx512_target_end.h"
