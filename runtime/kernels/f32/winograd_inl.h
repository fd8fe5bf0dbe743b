// Winograd convolution (ConvPath::kWinograd): 3x3 kernels, stride 1, dilation 1, one group,
// as F(2x2, 3x3) or F(4x4, 3x3). Each 2x2 (4x4) block of outputs ("tile") of one output
// channel is
//
//   Y = A^T [ sum over input channels of  U (.) V ] A,   U = G g G^T,  V = B^T d B
//
// with g the 3x3 kernel, d the 4x4 (6x6) input patch under the tile (zero in the padding),
// (.) the elementwise product and, for F(2x2, 3x3),
//
//   B^T = | 1  0 -1  0 |    G = | 1    0    0  |    A^T = | 1  1  1  0 |
//         | 0  1  1  0 |        | 1/2  1/2  1/2|          | 0  1 -1 -1 |
//         | 0 -1  1  0 |        | 1/2 -1/2  1/2|
//         | 0  1  0 -1 |        | 0    0    1  |
//
// and for F(4x4, 3x3) (interpolation points 0, +-1, +-2 and infinity)
//
//   B^T = | 4  0 -5  0  1  0 |   G = | 1/4   0     0   |   A^T = | 1  1  1  1  1  0 |
//         | 0 -4 -4  1  1  0 |       |-1/6  -1/6  -1/6 |         | 0  1 -1  2 -2  0 |
//         | 0  4 -4 -1  1  0 |       |-1/6   1/6  -1/6 |         | 0  1  1  4  4  0 |
//         | 0 -2 -1  2  1  0 |       | 1/24  1/12  1/6 |         | 0  1 -1  8 -8  1 |
//         | 0  2 -1 -2  1  0 |       | 1/24 -1/12  1/6 |
//         | 0  4  0 -5  0  1 |       | 0     0     1   |
//
// The sum over input channels of each of the 16 (36) elements xi of U (.) V is a matrix
// product: M_xi[oc, tile] = sum_ic U_xi[oc, ic] V_xi[ic, tile], GEMMs run by the instruction
// set's GEMM micro-tile. Per output and channel pair that is 4 (F(2x2)) or 2.25 (F(4x4))
// multiplications where the direct convolution needs 9; the transforms add work per channel,
// not per pair, and F(4x4)'s transformed weights are 4x the kernel's size (F(2x2): 16/9).
//
// Rounding: F(2x2)'s coefficients are 0, +-1 and halves, and ResNet18's output differs from
// PyTorch's by 7.9e-7 of its largest value with it and by 8.2e-7 without (zoo_model_tests).
// F(4x4)'s larger coefficients cost a few bits more; x86_f32_kernels_test states the
// tolerance against the reference kernel.
//
// Order of work (one task): the tiles of an image are split into blocks (plan.h,
// PlanWinograd). For a block the task writes V for every input channel (xis x c x block
// floats, kept within L2 by kWinogradVBytes); then, for each panel of kMR output channels, it
// runs the GEMM micro-tiles into M (xis x kMR x block floats) and transforms M into the
// outputs at once, adding the bias and the activation. The weights, U, are transformed and
// packed once, in prepare.
//
// Determinism: every output is written by one task; the GEMM sums over input channels in order
// (and in fp32 across reduction blocks), and the transforms do not depend on the split. So the
// results are the same for any thread count.
//
// Included by driver_inl.h, inside its anonymous namespace and `f32`.
#pragma once

// ------------------------------------------------------------------------------ weights

// U = G g G^T for one 3x3 kernel g (row-major): u[4 * i + j].
inline void WinogradWeights(const float* g, float* u) {
  float gt[3][4];  // g G^T
  for (int a = 0; a < 3; ++a) {
    const float g0 = g[3 * a], g1 = g[3 * a + 1], g2 = g[3 * a + 2];
    gt[a][0] = g0;
    gt[a][1] = 0.5f * (g0 + g1 + g2);
    gt[a][2] = 0.5f * (g0 - g1 + g2);
    gt[a][3] = g2;
  }
  for (int j = 0; j < 4; ++j) {
    u[j] = gt[0][j];
    u[4 + j] = 0.5f * (gt[0][j] + gt[1][j] + gt[2][j]);
    u[8 + j] = 0.5f * (gt[0][j] - gt[1][j] + gt[2][j]);
    u[12 + j] = gt[2][j];
  }
}

// U = G g G^T of F(4x4, 3x3) for one 3x3 kernel g (row-major): u[6 * i + j].
inline void Winograd4Weights(const float* g, float* u) {
  const auto gcol = [](float g0, float g1, float g2, float* out, int stride) {  // G x
    out[0] = 0.25f * g0;
    out[stride] = -(g0 + g1 + g2) * (1.0f / 6.0f);
    out[2 * stride] = -(g0 - g1 + g2) * (1.0f / 6.0f);
    out[3 * stride] = g0 * (1.0f / 24.0f) + g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
    out[4 * stride] = g0 * (1.0f / 24.0f) - g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
    out[5 * stride] = g2;
  };
  float gt[3][6];  // g G^T
  for (int a = 0; a < 3; ++a) gcol(g[3 * a], g[3 * a + 1], g[3 * a + 2], gt[a], 1);
  for (int j = 0; j < 6; ++j) gcol(gt[0][j], gt[1][j], gt[2][j], u + j, 6);
}

// Packs the (tile + 2)^2 matrices U_xi[m, c] (16 for tile 2, 36 for tile 4) as PackPanels
// lays out a GEMM A (reduction block by block, panels of kMR rows, rows past m
// zero), one after the other, PanelFloats(m, c) floats each. `w` is [m, c, 3, 3].
template <class Isa>
void PackWinogradWeights(const float* w, int64_t m, int64_t c, int tile, float* dst) {
  const int xis = (tile + 2) * (tile + 2);
  const int64_t padded_m = (m + Isa::kMR - 1) / Isa::kMR * Isa::kMR;
  const int64_t xi_floats = static_cast<int64_t>(PanelFloats<Isa>(m, c));  // one U_xi
  // A panel's kMR values of one input channel are contiguous in each U_xi: transform them
  // together and store them as one run (one value at a time, into 36 streams 4 bytes at a
  // time, loading ResNet18 without cached packed weights took about 15% longer).
  for (int64_t m0 = 0; m0 < padded_m; m0 += Isa::kMR) {
    for (int64_t ic = 0; ic < c; ++ic) {
      const int64_t k0 = ic / kKc * kKc, kc = c - k0 < kKc ? c - k0 : kKc;
      float u[Isa::kMR][36] = {};
      for (int r = 0; r < Isa::kMR && m0 + r < m; ++r) {
        const float* g = w + ((m0 + r) * c + ic) * 9;
        if (tile == 2) WinogradWeights(g, u[r]);
        if (tile == 4) Winograd4Weights(g, u[r]);
      }
      float* at = dst + k0 * padded_m + m0 * kc + (ic - k0) * Isa::kMR;
      for (int xi = 0; xi < xis; ++xi)
        for (int r = 0; r < Isa::kMR; ++r) at[xi * xi_floats + r] = u[r][xi];
    }
  }
}

// Isa::WinogradInputRow<kTile> writes V for the `n` tiles (ty, tx0 .. tx0 + n - 1) of every
// input channel (zeros outside the planes): element xi of channel ic's tile tx0 + q to
// v[ic * ld_c + xi * ld_xi + q].
// Isa::WinogradOutputRow<kTile> writes the outputs of those tiles for one output channel from
// m[xi * ld_xi + q]: Y = A^T M A, plus the bias, then the activation; rows and columns past
// the output are not written.

// ------------------------------------------------------------------------------ tasks

struct WinogradWork {
  const ref::ConvF32Data* d;
  const float* x;     // one image, [c, h, w]
  const float* u;     // PackWinogradWeights
  const float* bias;  // [m] or null
  float* y;           // one image, [m, oh, ow]
  float* buffers;     // g.buffers buffers of g.buffer_floats
  int64_t c, m, h, w, oh, ow;
  WinogradGeometry g;
  int64_t parts;  // output channel ranges per block (WinogradConv)
  int64_t tasks;
  ScratchSlots* slots;  // of the buffers; a slot's tag is the block whose V it holds
};

// The row segments of tile block [t0, t1): tile row ty, columns [tx0, tx0 + n), at column
// `col` of the block.
template <class Fn>
void ForEachTileRow(const WinogradGeometry& g, int64_t t0, int64_t t1, Fn fn) {
  for (int64_t t = t0; t < t1;) {
    const int64_t ty = t / g.tiles_w, tx0 = t % g.tiles_w;
    const int64_t n = g.tiles_w - tx0 < t1 - t ? g.tiles_w - tx0 : t1 - t;
    fn(ty, tx0, n, t - t0);
    t += n;
  }
}

template <class Isa, int kTile>
void WinogradTasks(void* arg, int64_t begin, int64_t end) {
  constexpr int kXis = (kTile + 2) * (kTile + 2);
  const WinogradWork& k = *static_cast<const WinogradWork*>(arg);
  const WinogradGeometry& g = k.g;
  const int64_t panels = (k.m + Isa::kMR - 1) / Isa::kMR;
  const int64_t padded_m = panels * Isa::kMR;
  const int64_t u_floats = static_cast<int64_t>(PanelFloats<Isa>(k.m, k.c));  // one U_xi
  const int64_t units = g.blocks * k.parts;
  const ref::ConvF32Data& d = *k.d;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t first = t * units / k.tasks / k.parts;  // the first unit's block
    const int slot = k.slots->Claim(first);
    float* v = k.buffers + slot * g.buffer_floats;  // V[xi][ic][ld]
    float* mb = v + kXis * g.v_xi;                  // M[xi][r][ld]
    int64_t have_block = k.slots->holds(slot);
    for (int64_t unit = t * units / k.tasks; unit < (t + 1) * units / k.tasks; ++unit) {
      const int64_t block = unit / k.parts, part = unit % k.parts;
      const int64_t t0 = block * g.block;
      const int64_t t1 = block + 1 == g.blocks ? g.tiles : t0 + g.block;
      const int64_t cols = t1 - t0;
      if (block != have_block) {
        ForEachTileRow(g, t0, t1, [&](int64_t ty, int64_t tx0, int64_t n, int64_t col) {
          Isa::template WinogradInputRow<kTile>(k.x, k.c, k.h, k.w, d.pad_top, d.pad_left, ty,
                                                tx0, n, v + col, g.ld, g.v_xi);
        });
        have_block = block;
      }
      for (int64_t panel = part * panels / k.parts; panel < (part + 1) * panels / k.parts;
           ++panel) {
        const int64_t m0 = panel * Isa::kMR;
        const int rows = static_cast<int>(k.m - m0 < Isa::kMR ? k.m - m0 : Isa::kMR);
        for (int xi = 0; xi < kXis; ++xi) {
          for (int64_t k0 = 0; k0 < k.c; k0 += kKc) {
            const int64_t kc = k.c - k0 < kKc ? k.c - k0 : kKc;
            const Epilogue e{nullptr, nullptr, FusedActivation(), k0 == 0, k0 + kc >= k.c};
            const float* a = k.u + xi * u_floats + k0 * padded_m + panel * Isa::kMR * kc;
            for (int64_t n0 = 0; n0 < cols; n0 += Isa::kNR)
              Isa::Tile(a, v + xi * g.v_xi + k0 * g.ld + n0, g.ld, kc,
                        mb + xi * Isa::kMR * g.ld + n0, g.ld, rows,
                        static_cast<int>(cols - n0 < Isa::kNR ? cols - n0 : Isa::kNR), e);
          }
        }
        for (int r = 0; r < rows; ++r) {
          const int64_t oc = m0 + r;
          const float b = k.bias != nullptr ? k.bias[oc] : 0.0f;
          ForEachTileRow(g, t0, t1, [&](int64_t ty, int64_t tx0, int64_t n, int64_t col) {
            Isa::template WinogradOutputRow<kTile>(mb + r * g.ld + col, Isa::kMR * g.ld, n, b,
                                                   d.act, k.y + oc * k.oh * k.ow, k.oh, k.ow,
                                                   ty, tx0);
          });
        }
      }
    }
    k.slots->Release(slot, have_block);
  }
}

// One image. Units of work are (block, part of the output channels), kTasksPerThread tasks per
// thread of consecutive units (one per buffer when there are more threads than buffers), so
// that a thread slowed by another process leaves its tasks to the others. The V and M buffers are not per task but per running task (ScratchSlots): at
// most one per thread, so they stay in the cores' L2 from one task to the next (with a buffer
// per task, 8 of them, ResNet18's 56x56 layers ran no faster on 2 threads than on 1), and a
// task whose buffer already holds its first block's V skips that input transform. There are
// as many parts as make at least kTasksPerThread units per thread (or one per panel). The
// geometry does not depend on the thread count, and no unit's result on the task or buffer
// it ran in, so neither do the results.
template <class Isa>
void WinogradConv(const Executor& ex, WinogradWork& k) {
  const WinogradGeometry& g = k.g;
  const int64_t panels = (k.m + Isa::kMR - 1) / Isa::kMR;
  const int64_t threads = ex.threads > 1 ? ex.threads : 1;
  // With fewer buffers than threads (large layers on many cores), one task per buffer: more
  // would have threads spin for a free buffer instead of waiting in the pool.
  const int64_t tasks = threads == 1         ? 1
                        : threads > g.buffers ? g.buffers
                                              : threads * kTasksPerThread;
  k.parts = 1;
  while (k.parts < panels && g.blocks * k.parts < tasks) ++k.parts;
  const int64_t units = g.blocks * k.parts;
  k.tasks = tasks < units ? tasks : units;
  ScratchSlots slots(static_cast<int>(threads < g.buffers ? threads : g.buffers));
  k.slots = &slots;
  ex.ParallelFor(k.tasks, 1, g.tile == 4 ? WinogradTasks<Isa, 4> : WinogradTasks<Isa, 2>, &k);
}
