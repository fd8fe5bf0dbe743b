// The instruction-set-independent part of the optimized float32 kernels (x86 AVX2 and AVX-512,
// AArch64 NEON): weight packing, im2col, GEMM tiling and the CONV_2D / FULLY_CONNECTED prepare
// and eval built on them.
//
// Included by one source file per instruction set, after that file has switched the compiler's
// target (so everything here is compiled for it) and defined `Isa`, which supplies:
//   kMR, kNR        GEMM micro-tile: rows of A per panel, most columns of B per tile
//   kHasDepthwise   whether DepthwisePlanes exists
//   kHasGather      whether GatherTile exists: gathers one column tile's B block from the
//                   convolution input into a task's buffer (ConvPath::kGatherTiles, tile.h)
//   Tile(...)       one micro-tile over one block of the reduction: starts from the bias or
//                   from C, applies the activation after the last block (Epilogue)
//   DepthwisePlanes a ParallelFor body over (image, channel) planes of a depthwise conv
//   CopyStride2     dst[i] = src[2 * i] for i < n (im2col of stride-2 convolutions)
//   kHasIm2colRow   whether Im2colRow exists: one output row of an im2col row with stride 1
//                   or 2, zeros in the padding included (Im2colRows)
//   kHasWinograd    whether 3x3 stride-1 convolutions run as Winograd F(2x2, 3x3)
//                   (winograd_inl.h): then WinogradInputRow and WinogradOutputRow exist, the
//                   transforms of a row of tiles; the 16 GEMMs run on Tile
// Everything is in an anonymous namespace: each including file gets its own copy, compiled for
// its own instruction set, and no copy can be linked in place of another.
//
// Determinism: every output element is written by exactly one task and summed over k in
// order 0..K-1 whatever the split (in fp32 throughout, also across reduction blocks), so
// results do not depend on the thread count. A gathered B, and a B written block by block,
// hold the same values as the im2col matrix, so the path does not change any result either.
#pragma once

#include <string.h>

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/conv_f32.h"
#include "runtime/kernels/reference/fully_connected_f32.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/f32/fc_gemv_inl.h"
#include "runtime/kernels/f32/fc_sparse_gemv_inl.h"
#include "runtime/kernels/f32/plan.h"
#include "runtime/kernels/f32/scratch_slots.h"
#include "runtime/kernels/f32/tile.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace f32 {
namespace {

// Gathers the receptive fields of one group of one image as B[k, oh*ow], row kk = (ci, u, v);
// cells in the padding are zero. Rows are independent, so they are the parallel tasks.
// Only output rows [oy0, oy1) when set (a band: kIm2colBands), column (oy - oy0) * ow + ox.
struct Im2colArgs {
  const ref::ConvF32Data* d;
  const float* x;  // first channel of the group
  float* out;      // row kk at out + (kk - row0) * ld
  int64_t h, w, kh, kw, oh, ow;
  int64_t ld;  // row stride of out (Im2colRowStride)
  int64_t row0 = 0;
  int64_t oy0 = 0, oy1 = -1;  // oy1 < 0: all rows
};

template <class Isa>
void Im2colRows(void* arg, int64_t begin, int64_t end) {
  const Im2colArgs& a = *static_cast<const Im2colArgs*>(arg);
  const ref::ConvF32Data& d = *a.d;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t v = row % a.kw, u = row / a.kw % a.kh, ci = row / (a.kw * a.kh);
    const float* xp = a.x + ci * a.h * a.w;
    float* dst = a.out + (row - a.row0) * a.ld;
    const int64_t off_h = u * d.dilation_h - d.pad_top, off_w = v * d.dilation_w - d.pad_left;
    const ref::Range rh = ref::ValidRange(off_h, d.stride_h, a.h, a.oh);
    const ref::Range rw = ref::ValidRange(off_w, d.stride_w, a.w, a.ow);
    const int64_t oy0 = a.oy0, oy1 = a.oy1 < 0 ? a.oh : a.oy1;
    if constexpr (Isa::kHasIm2colRow) {
      if (d.stride_w <= 2) {
        // Masked vector copies; column 0 of output row oy reads the plane at `at` (which may
        // lie outside it: only the columns in rw are read).
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const bool inside = oy >= rh.begin && oy < rh.end;
          const int64_t at = (oy * d.stride_h + off_h) * a.w + off_w;
          Isa::Im2colRow(xp, at, d.stride_w, inside ? rw.begin : 0, inside ? rw.end : 0, a.ow,
                         dst + (oy - oy0) * a.ow);
        }
        continue;
      }
    }
    for (int64_t oy = oy0; oy < oy1; ++oy) {
      float* o = dst + (oy - oy0) * a.ow;
      if (oy < rh.begin || oy >= rh.end || rw.size() == 0) {
        memset(o, 0, static_cast<size_t>(a.ow) * sizeof(float));
        continue;
      }
      const float* src = xp + (oy * d.stride_h + off_h) * a.w + rw.begin * d.stride_w + off_w;
      for (int64_t ox = 0; ox < rw.begin; ++ox) o[ox] = 0.0f;
      if (d.stride_w == 1) {
        memcpy(o + rw.begin, src, static_cast<size_t>(rw.size()) * sizeof(float));
      } else if (d.stride_w == 2) {
        Isa::CopyStride2(src, rw.size(), o + rw.begin);
      } else {
        for (int64_t i = 0; i < rw.size(); ++i) o[rw.begin + i] = src[i * d.stride_w];
      }
      for (int64_t ox = rw.end; ox < a.ow; ++ox) o[ox] = 0.0f;
    }
  }
}

// C[m, n] = act(bias + A[m, k] * B[k, n]); A is packed by PackPanels (below).
struct GemmArgs {
  const float* a;
  const float* b;
  int64_t ldb;
  // 0: B is row-major with row stride ldb. Otherwise B is packed in column panels of kNR
  // (panel t holds B[kk, t*kNR + c] at [t * b_panel_stride + kk * kNR + c], zero padded).
  int64_t b_panel_stride = 0;
  // Non-null: B is not in memory but gathered from a convolution's input, one column tile's
  // reduction block at a time, into b_tiles (min(k, kKc) * kNR floats per task;
  // kGatherTiles path).
  const GatherSource* gather = nullptr;
  float* b_tiles = nullptr;
  float* c;
  int64_t ldc;
  int64_t m, n, k;
  const float* bias_row;  // [m] or null
  const float* bias_col;  // [n] or null
  FusedActivation act;
};

// kKc (plan.h): the reduction is split into blocks of kKc so that the B block a tile works on
// (kKc x kNR) stays in L1/L2 while A panels stream past it; without this, a long reduction
// (3x3 convs on 256+ channels) re-reads a B tile too big for L2 once per panel.
// kPanelMajorBBytes (plan.h): when the whole B block (kKc rows x n columns) fits in this much
// of L2, each A panel block is applied to every column tile while it is in L1 (panel-major
// order), so A, the weights, is read once; otherwise each column tile is applied to every
// panel (tile-major order) and A is re-read per tile. Small maps (7x7, 14x14) with large
// weights gain most from the former.

// The GEMM as units of work, one micro-tile (panel, column tile) each over the whole
// reduction, split into `tasks` contiguous ranges of equal cost (a tile's cost is its width),
// kTasksPerThread per thread: a pool that hands each thread an equal share of the task indices
// then keeps every core busy to the end, and one that lets threads claim tasks can still
// rebalance when a core is taken by another process (kTasksPerThread, plan.h). Each output
// element still belongs to one unit and is summed in order 0..K-1, so the split does not
// change any result.

struct GemmWork {
  const GemmArgs* g;
  int64_t panels, tiles, tasks;
  bool panel_major;
  int64_t nr;          // cost of a full column tile: its width
  int64_t last_width;  // cost of the last column tile

  int64_t units() const { return panels * tiles; }
  int64_t total() const { return (tiles - 1) * panels * nr + panels * last_width; }
  // Cost of units [0, u).
  int64_t CostBefore(int64_t u) const {
    if (panel_major) {
      const int64_t row = (tiles - 1) * nr + last_width;
      return u / tiles * row + u % tiles * nr;
    }
    const int64_t tile = u / panels, panel = u % panels;
    return tile * panels * nr + panel * (tile == tiles - 1 ? last_width : nr);
  }
  // First unit whose preceding cost reaches `cost`.
  int64_t UnitAt(int64_t cost) const {
    int64_t lo = 0, hi = units();
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (CostBefore(mid) < cost) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
};

// The B block (rows k0.., the columns of `tile`) as a pointer and row stride, when B is in
// memory; null when it is not (gathered or written per block: no offset may be applied to the
// null g.b, which is undefined behaviour even if the result is never read).
struct BBlock {
  const float* b;
  int64_t ldb;
};

template <class Isa>
BBlock StoredBBlock(const GemmArgs& g, int64_t tile, int64_t k0) {
  if (g.b == nullptr) return {nullptr, 0};
  if (g.b_panel_stride) return {g.b + tile * g.b_panel_stride + k0 * Isa::kNR, Isa::kNR};
  return {g.b + k0 * g.ldb + tile * Isa::kNR, g.ldb};
}

// One micro-tile over the reduction block at k0, B block given.
template <class Isa>
void GemmUnit(const GemmArgs& g, int64_t panel, int64_t tile, int64_t k0, BBlock bb,
              bool stream = false) {
  const int64_t n0 = tile * Isa::kNR, m0 = panel * Isa::kMR;
  const int64_t cols = g.n - n0 < Isa::kNR ? g.n - n0 : Isa::kNR;
  const int64_t rows = g.m - m0 < Isa::kMR ? g.m - m0 : Isa::kMR;
  const int64_t kc = g.k - k0 < kKc ? g.k - k0 : kKc;
  Epilogue e{g.bias_row ? g.bias_row + m0 : nullptr,
             g.bias_col ? g.bias_col + n0 : nullptr,
             g.act,
             k0 == 0,
             k0 + kc >= g.k,
             stream};
  const int64_t padded_m = (g.m + Isa::kMR - 1) / Isa::kMR * Isa::kMR;
  Isa::Tile(g.a + k0 * padded_m + panel * Isa::kMR * kc, bb.b, bb.ldb, kc,
            g.c + m0 * g.ldc + n0, g.ldc, static_cast<int>(rows), static_cast<int>(cols), e);
}

template <class Isa>
void GemmTasks(void* arg, int64_t begin, int64_t end) {
  const GemmWork& w = *static_cast<const GemmWork*>(arg);
  const GemmArgs& g = *w.g;
  const int64_t total = w.total();
  for (int64_t t = begin; t < end; ++t) {
    const int64_t ub = w.UnitAt(total / w.tasks * t + total % w.tasks * t / w.tasks);
    const int64_t ue = t + 1 == w.tasks
                           ? w.units()
                           : w.UnitAt(total / w.tasks * (t + 1) + total % w.tasks * (t + 1) /
                                                                     w.tasks);
    if (w.panel_major) {
      for (int64_t k0 = 0; k0 < g.k; k0 += kKc) {
        for (int64_t u = ub; u < ue; ++u)
          GemmUnit<Isa>(g, u / w.tiles, u % w.tiles, k0, StoredBBlock<Isa>(g, u % w.tiles, k0));
      }
      continue;
    }
    // Tile-major over a B in memory: both B and C are streams (Epilogue::stream).
    const bool stream = g.gather == nullptr && g.b != nullptr && g.b_panel_stride == 0;
    for (int64_t u = ub; u < ue;) {
      const int64_t tile = u / w.panels;
      const int64_t stop = (tile + 1) * w.panels < ue ? (tile + 1) * w.panels : ue;
      for (int64_t k0 = 0; k0 < g.k; k0 += kKc) {
        BBlock bb = StoredBBlock<Isa>(g, tile, k0);
        if constexpr (Isa::kHasGather) {
          if (g.gather != nullptr) {
          // Task t owns buffer t (tasks <= kMaxGatherTasks): no two running tasks share one.
          // Each holds min(k, kKc) rows of kNR (PlanConv).
            float* buf = g.b_tiles + t * (g.k < kKc ? g.k : kKc) * Isa::kNR;
            const int64_t n0 = tile * Isa::kNR;
            const int64_t cols = g.n - n0 < Isa::kNR ? g.n - n0 : Isa::kNR;
            Isa::GatherTile(*g.gather, n0, cols, k0, g.k - k0 < kKc ? g.k - k0 : kKc, buf);
            bb = {buf, Isa::kNR};
          }
        }
        for (int64_t v = u; v < stop; ++v) GemmUnit<Isa>(g, v % w.panels, tile, k0, bb, stream);
      }
      u = stop;
    }
  }
}

// kIm2colBands: the convolution's GEMM (B not in memory) band by band, `rows` output rows a
// band; task t takes bands [t * bands / tasks, (t + 1) * bands / tasks) and writes each one's
// im2col, reduction block by block, into buffer t (min(k, kKc) rows of ld), then applies every
// panel to it, column tile by column tile. Each output element still belongs to one unit and
// is summed in order 0..K-1.
struct BandWork {
  const GemmArgs* g;     // the whole GEMM: c, ldc = oh * ow, n = oh * ow
  const Im2colArgs* im;  // the convolution; out = the first buffer, ld = a buffer's row stride
  int64_t rows, bands, tasks;
};

template <class Isa>
void BandTasks(void* arg, int64_t begin, int64_t end) {
  const BandWork& w = *static_cast<const BandWork*>(arg);
  const int64_t k = w.g->k, kc_max = k < kKc ? k : kKc;
  const int64_t panels = (w.g->m + Isa::kMR - 1) / Isa::kMR;
  for (int64_t t = begin; t < end; ++t) {
    Im2colArgs ia = *w.im;
    ia.out = w.im->out + t * kc_max * ia.ld;
    for (int64_t band = t * w.bands / w.tasks; band < (t + 1) * w.bands / w.tasks; ++band) {
      ia.oy0 = band * w.rows;
      ia.oy1 = ia.oy0 + w.rows < ia.oh ? ia.oy0 + w.rows : ia.oh;
      GemmArgs g = *w.g;  // the band's columns
      g.c += ia.oy0 * ia.ow;
      g.n = (ia.oy1 - ia.oy0) * ia.ow;
      const int64_t tiles = (g.n + Isa::kNR - 1) / Isa::kNR;
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        ia.row0 = k0;
        Im2colRows<Isa>(&ia, k0, k - k0 < kKc ? k : k0 + kKc);
        for (int64_t tile = 0; tile < tiles; ++tile)
          for (int64_t panel = 0; panel < panels; ++panel)
            GemmUnit<Isa>(g, panel, tile, k0, BBlock{ia.out + tile * Isa::kNR, ia.ld});
      }
    }
  }
}

template <class Isa>
void Gemm(const Executor& ex, const GemmArgs& g) {
  GemmWork w;
  w.g = &g;
  w.nr = Isa::kNR;
  w.panels = (g.m + Isa::kMR - 1) / Isa::kMR;
  w.tiles = (g.n + Isa::kNR - 1) / Isa::kNR;
  const int64_t last_cols = g.n - (w.tiles - 1) * Isa::kNR;
  w.last_width = (last_cols + 7) / 8 * 8;
  // A gathered B is tile-major by plan, B written per block panel-major (PlanConv decides
  // with the same GemmPanelMajor).
  w.panel_major = g.gather == nullptr && GemmPanelMajor(g.k, g.n);
  int64_t tasks = ex.threads > 1 ? ex.threads * kTasksPerThread : 1;
  if (g.gather != nullptr && tasks > kMaxGatherTasks) tasks = kMaxGatherTasks;
  w.tasks = tasks < w.units() ? tasks : w.units();
  ex.ParallelFor(w.tasks, 1, GemmTasks<Isa>, &w);
}

// Packs rows [0, m) of a row-major matrix (row stride `ld`, k columns) into kMR-row panels,
// reduction block by block: block k0 (kKc columns, fewer in the last) of every panel, then the
// next block. Panel p's block at k0 starts at k0 * (padded m) + p * kMR * kc and holds
// A[p*kMR + r, k0 + kk] at [kk * kMR + r] (rows past m zero), so a pass over the panels for one
// block reads one contiguous stream (the hardware prefetcher follows it) rather than one short
// stretch per panel.
template <class Isa>
void PackPanels(const float* src, int64_t m, int64_t k, int64_t ld, float* dst) {
  for (int64_t k0 = 0; k0 < k; k0 += kKc) {
    const int64_t kc = k - k0 < kKc ? k - k0 : kKc;
    for (int64_t m0 = 0; m0 < m; m0 += Isa::kMR)
      for (int64_t kk = k0; kk < k0 + kc; ++kk)
        for (int r = 0; r < Isa::kMR; ++r)
          *dst++ = m0 + r < m ? src[(m0 + r) * ld + kk] : 0.0f;
  }
}

template <class Isa>
size_t PanelFloats(int64_t m, int64_t k) {
  return static_cast<size_t>((m + Isa::kMR - 1) / Isa::kMR * Isa::kMR * k);
}

#include "runtime/kernels/f32/winograd_inl.h"

// ---------------------------------------------------------------------------------- CONV_2D

struct ConvOpData {
  ref::ConvF32Data ref;  // first: the reference prepare and eval use it in place
  ConvPath path;
  int64_t gemm_k;
  int winograd_tile;
  PhaseRowsGeometry phase;  // kPhaseRows
};

// kPhaseRows (plan.h), one image: the input's padded rows split into their even and odd
// columns (PhaseSplitRows, all threads), then output rows in tasks (PhaseRowsTasks): per
// output row, column tile and panel, one micro-tile over the whole reduction whose B row for
// tap (ci, u, v) is the stretch of phase v % 2 of padded row 2 * oy + u from column
// ox0 + v / 2. Each output element is summed in order 0..K-1 by one micro-tile, as on the
// other paths.
struct PhaseRowsWork {
  const ConvOpData* d;
  const float* x;     // the image
  const float* a;     // packed panels (one reduction block)
  const float* bias;  // [m] or null
  float* y;           // the image's output
  float* phases;      // scratch: c * rows * 2 * row floats
  int64_t c, h, w, m, k, kh, kw, oh, ow, tasks;
};

template <class Isa>
void PhaseSplitRows(void* arg, int64_t begin, int64_t end) {
  const PhaseRowsWork& p = *static_cast<const PhaseRowsWork*>(arg);
  const PhaseRowsGeometry& g = p.d->phase;
  for (int64_t u = begin; u < end; ++u) {
    const int64_t ci = u / g.rows, r = u % g.rows;
    Isa::SplitPhaseRow(p.x + ci * p.h * p.w, p.h, p.w, p.d->ref.pad_top, p.d->ref.pad_left, r,
                       g.row, p.phases + u * 2 * g.row);
  }
}

template <class Isa>
void PhaseRowsTasks(void* arg, int64_t begin, int64_t end) {
  const PhaseRowsWork& p = *static_cast<const PhaseRowsWork*>(arg);
  const PhaseRowsGeometry& g = p.d->phase;
  int64_t off[kKc];  // k <= kKc (PlanConv)
  for (int64_t kk = 0; kk < p.k; ++kk) {
    const int64_t ci = kk / (p.kh * p.kw), u = kk / p.kw % p.kh, v = kk % p.kw;
    off[kk] = ((ci * g.rows + u) * 2 + v % 2) * g.row + v / 2;
  }
  const int64_t spatial = p.oh * p.ow, panels = (p.m + Isa::kMR - 1) / Isa::kMR;
  for (int64_t t = begin; t < end; ++t) {
    for (int64_t oy = t * p.oh / p.tasks; oy < (t + 1) * p.oh / p.tasks; ++oy) {
      // Padded row 2 * oy of channel 0, even columns: 2 * oy rows of 2 phases before it.
      const float* b = p.phases + oy * 4 * g.row;
      for (int64_t n0 = 0; n0 < p.ow; n0 += Isa::kNR) {
        const int cols = static_cast<int>(p.ow - n0 < Isa::kNR ? p.ow - n0 : Isa::kNR);
        for (int64_t panel = 0; panel < panels; ++panel) {
          const int64_t m0 = panel * Isa::kMR;
          const int rows = static_cast<int>(p.m - m0 < Isa::kMR ? p.m - m0 : Isa::kMR);
          const Epilogue e{p.bias ? p.bias + m0 : nullptr, nullptr, p.d->ref.act, true, true};
          Isa::TileRows(p.a + panel * Isa::kMR * p.k, b + n0, off, p.k,
                        p.y + m0 * spatial + oy * p.ow + n0, spatial, rows, cols, e);
        }
      }
    }
  }
}

// The plan from the model, before prepare: anything malformed plans the reference path (whose
// prepare then reports it).
template <class Isa>
ConvPlan PlanConvFromModel(const Model& model, const opm::Operator& op) {
  const auto* o = op.options_as<opm::Conv2DOptions>();
  const auto* tensors = model.fb()->tensors();
  if (o == nullptr || op.inputs() == nullptr || op.outputs() == nullptr ||
      op.inputs()->size() < 2 || op.outputs()->size() != 1)
    return ConvPlan();
  const int32_t ids[3] = {op.inputs()->Get(0), op.inputs()->Get(1), op.outputs()->Get(0)};
  const opm::Tensor* t[3];
  for (int i = 0; i < 3; ++i) {
    if (ids[i] < 0 || static_cast<uint32_t>(ids[i]) >= tensors->size()) return ConvPlan();
    t[i] = tensors->Get(ids[i]);
    if (t[i]->shape() == nullptr || t[i]->shape()->size() != 4 ||
        t[i]->dtype() != DType::FLOAT32)
      return ConvPlan();
  }
  ConvShape s;
  s.n = t[0]->shape()->Get(0), s.c = t[0]->shape()->Get(1);
  s.h = t[0]->shape()->Get(2), s.w = t[0]->shape()->Get(3);
  s.m = t[1]->shape()->Get(0), s.kh = t[1]->shape()->Get(2), s.kw = t[1]->shape()->Get(3);
  s.oh = t[2]->shape()->Get(2), s.ow = t[2]->shape()->Get(3);
  s.stride_h = o->stride_h(), s.stride_w = o->stride_w();
  s.dil_h = o->dilation_h(), s.dil_w = o->dilation_w();
  s.pad_t = o->pad_top(), s.pad_l = o->pad_left(), s.pad_b = o->pad_bottom();
  s.pad_r = o->pad_right(), s.groups = o->groups();
  s.weights_constant = t[1]->buffer() >= 0;
  return PlanConv(s, Isa::kMR, Isa::kNR, Isa::kHasDepthwise, Isa::kHasGather, Isa::kHasWinograd,
                  Isa::kHasPhaseRows);
}

template <class Isa>
size_t ConvPackedBytes(const Model& model, const opm::Operator& op) {
  return PlanConvFromModel<Isa>(model, op).packed_bytes;
}

template <class Isa>
size_t ConvScratchBytes(const Model& model, const opm::Operator& op) {
  return PlanConvFromModel<Isa>(model, op).scratch_bytes;
}

template <class Isa>
Status PrepareConv(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::PrepareConvF32(ctx));
  const auto* o = ctx.options<opm::Conv2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  ConvShape s;
  s.n = x.dims[0], s.c = x.dims[1], s.h = x.dims[2], s.w = x.dims[3];
  s.m = w.dims[0], s.kh = w.dims[2], s.kw = w.dims[3];
  s.oh = y.dims[2], s.ow = y.dims[3];
  s.stride_h = o->stride_h(), s.stride_w = o->stride_w();
  s.dil_h = o->dilation_h(), s.dil_w = o->dilation_w();
  s.pad_t = o->pad_top(), s.pad_l = o->pad_left(), s.pad_b = o->pad_bottom();
  s.pad_r = o->pad_right(), s.groups = o->groups();
  s.weights_constant = w.is_constant;
  const ConvPlan plan = PlanConv(s, Isa::kMR, Isa::kNR, Isa::kHasDepthwise, Isa::kHasGather,
                                 Isa::kHasWinograd, Isa::kHasPhaseRows);
  ConvOpData* d = ctx.op_data<ConvOpData>();
  d->path = plan.path;
  d->gemm_k = plan.gemm_k;
  d->winograd_tile = plan.winograd_tile;
  d->phase = PlanPhaseRows(s);
  OUTPOST_KERNEL_CHECK(ctx, ctx.packed_bytes() >= plan.packed_bytes &&
                                ctx.scratch_bytes() >= plan.scratch_bytes,
                       Status::kInternal, "conv: %zu packed / %zu scratch bytes given, %zu / %zu "
                       "planned", ctx.packed_bytes(), ctx.scratch_bytes(), plan.packed_bytes,
                       plan.scratch_bytes);
  // A model's cached copy of these panels (ctx.packed_in_model()) was written by this same
  // routine at compile time; it is used as it is.
  if (plan.path == ConvPath::kWinograd && !ctx.packed_in_model()) {
    PackWinogradWeights<Isa>(w.as<float>(), s.m, s.c, plan.winograd_tile,
                             static_cast<float*>(ctx.packed()));
  } else if (plan.packed_bytes != 0 && !ctx.packed_in_model()) {
    // Weights [m, c/g, kh, kw] are, per group, a row-major [m/g, k] matrix: pack each group.
    const int64_t mg = s.m / s.groups, k = plan.gemm_k;
    float* dst = static_cast<float*>(ctx.packed());
    for (int64_t g = 0; g < s.groups; ++g) {
      PackPanels<Isa>(w.as<float>() + g * mg * k, mg, k, k, dst);
      dst += PanelFloats<Isa>(mg, k);
    }
  }
  return Status::kOk;
}

template <class Isa>
Status EvalConv(KernelContext& ctx) {
  const ConvOpData& d = *ctx.op_data<ConvOpData>();
  if (d.path == ConvPath::kReference) return ref::EvalConvF32(ctx);
  const TensorView& xv = ctx.input(0);
  const TensorView& wv = ctx.input(1);
  const TensorView& yv = ctx.output(0);
  const float* x = xv.as<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
  float* y = yv.as<float>();
  const int64_t n = xv.dims[0], c = xv.dims[1], h = xv.dims[2], w = xv.dims[3];
  const int64_t m = wv.dims[0], kh = wv.dims[2], kw = wv.dims[3];
  const int64_t oh = yv.dims[2], ow = yv.dims[3];
  const Executor& ex = ctx.executor();
  if constexpr (Isa::kHasDepthwise) {
    if (d.path == ConvPath::kDepthwise) {
      DepthwiseArgs a{&d.ref, x, wv.as<float>(), bias, y, c, h, w, oh, ow, kh, kw};
      ex.ParallelFor(n * c, 1, Isa::DepthwisePlanes, &a);
      return Status::kOk;
    }
  }
  const float* packed = static_cast<const float*>(ctx.packed());
  float* cols = static_cast<float*>(ctx.scratch());
  if constexpr (Isa::kHasWinograd) {
    if (d.path == ConvPath::kWinograd) {
      WinogradWork k;
      k.d = &d.ref;
      k.u = packed;
      k.bias = bias;
      k.buffers = cols;
      k.c = c, k.m = m, k.h = h, k.w = w, k.oh = oh, k.ow = ow;
      k.g = PlanWinograd(c, oh, ow, Isa::kMR, d.winograd_tile);
      for (int64_t i = 0; i < n; ++i) {
        k.x = x + i * c * h * w;
        k.y = y + i * m * oh * ow;
        WinogradConv<Isa>(ex, k);
      }
      return Status::kOk;
    }
  }
  if constexpr (Isa::kHasPhaseRows) {
    if (d.path == ConvPath::kPhaseRows) {
      PhaseRowsWork p{&d, nullptr, packed,   bias, nullptr, cols, c,  h,
                      w,  m,       d.gemm_k, kh,   kw,      oh,   ow, 0};
      const int64_t tasks = ex.threads > 1 ? ex.threads * kTasksPerThread : 1;
      p.tasks = tasks < oh ? tasks : oh;
      for (int64_t i = 0; i < n; ++i) {
        p.x = x + i * c * h * w;
        p.y = y + i * m * oh * ow;
        ex.ParallelFor(c * d.phase.rows, 16, PhaseSplitRows<Isa>, &p);
        ex.ParallelFor(p.tasks, 1, PhaseRowsTasks<Isa>, &p);
      }
      return Status::kOk;
    }
  }
  const int64_t groups = d.ref.groups, cg = c / groups, mg = m / groups, k = d.gemm_k;
  const int64_t spatial = oh * ow;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* xg = x + (i * c + g * cg) * h * w;
      GemmArgs a;
      const GatherSource src{&d.ref, xg, h, w, kh, kw, oh, ow};
      Im2colArgs ia{&d.ref, xg, cols, h, w, kh, kw, oh, ow, Im2colRowStride(spatial)};
      if (d.path == ConvPath::kPointwise) {
        a.b = xg;
      } else if (d.path == ConvPath::kGatherTiles) {
        a.b = nullptr;
        a.gather = &src;
        a.b_tiles = cols;
      } else if (d.path == ConvPath::kIm2colBands) {
        a.b = nullptr;
      } else {
        ex.ParallelFor(k, 1, Im2colRows<Isa>, &ia);
        a.b = cols;
        a.ldb = ia.ld;
      }
      a.a = packed + g * PanelFloats<Isa>(mg, k);
      if (d.path != ConvPath::kIm2col) a.ldb = spatial;
      a.c = y + (i * m + g * mg) * spatial;
      a.ldc = spatial;
      a.m = mg;
      a.n = spatial;
      a.k = k;
      a.bias_row = bias ? bias + g * mg : nullptr;
      a.bias_col = nullptr;
      a.act = d.ref.act;
      if (d.path == ConvPath::kIm2colBands) {
        BandWork bw;
        bw.g = &a;
        bw.im = &ia;
        bw.rows = Im2colBandRows(k, oh, ow);
        ia.ld = Im2colRowStride(bw.rows * ow);
        bw.bands = (oh + bw.rows - 1) / bw.rows;
        const int64_t tasks = ex.threads > 1 ? ex.threads * kTasksPerThread : 1;
        bw.tasks = tasks < kMaxBandTasks ? tasks : kMaxBandTasks;
        if (bw.tasks > bw.bands) bw.tasks = bw.bands;
        ex.ParallelFor(bw.tasks, 1, BandTasks<Isa>, &bw);
        continue;
      }
      Gemm<Isa>(ex, a);
    }
  }
  return Status::kOk;
}

// -------------------------------------------------------------------------- FULLY_CONNECTED
//
// Y[n, o] = X[n, k] * W[o, k]^T. A batch of one is a GEMV on W as stored (fc_gemv_inl.h).
// Larger batches: W is transposed once into packed memory so that it is the GEMM's B, in
// column panels of kNR so that each tile streams contiguous memory. The batch rows of X are A,
// packed per Invoke into scratch (a few rows: cheap). The bias is then per column.

struct FullyConnectedOpData {
  ref::FullyConnectedF32Data ref;  // first: the reference prepare and eval use it in place
  bool optimized;
  bool gemv;
  bool sparse;  // batch 1 on weights read in their stored sparse encoding (fc_sparse_gemv_inl.h)
  int64_t sparse_values;  // how many nonzero weights the bitmap marks
};

// A batch of one on float32 weights the model stores sparse, with rows a whole number of bitmap
// bytes: such weights are read in place (KernelRegistration::reads_sparse_weights).
inline bool FcReadsSparseWeights(const Model& model, const opm::Operator& op) {
  const auto* tensors = model.fb()->tensors();
  if (op.inputs() == nullptr || op.inputs()->size() < 2) return false;
  const int32_t xi = op.inputs()->Get(0), wi = op.inputs()->Get(1);
  if (xi < 0 || wi < 0 || static_cast<uint32_t>(xi) >= tensors->size() ||
      static_cast<uint32_t>(wi) >= tensors->size())
    return false;
  const opm::Tensor* x = tensors->Get(xi);
  const opm::Tensor* w = tensors->Get(wi);
  if (x->shape() == nullptr || x->shape()->size() != 2 || w->shape() == nullptr ||
      w->shape()->size() != 2 || w->buffer() < 0 || w->dtype() != DType::FLOAT32)
    return false;
  return model.BufferIsSparse(w->buffer()) && x->shape()->Get(0) == 1 &&
         w->shape()->Get(1) % 8 == 0;
}

template <class Isa>
FullyConnectedPlan PlanFullyConnectedFromModel(const Model& model, const opm::Operator& op) {
  const auto* tensors = model.fb()->tensors();
  if (op.inputs() == nullptr || op.outputs() == nullptr || op.inputs()->size() < 2)
    return FullyConnectedPlan();
  const int32_t ids[2] = {op.inputs()->Get(0), op.inputs()->Get(1)};
  const opm::Tensor* t[2];
  for (int i = 0; i < 2; ++i) {
    if (ids[i] < 0 || static_cast<uint32_t>(ids[i]) >= tensors->size())
      return FullyConnectedPlan();
    t[i] = tensors->Get(ids[i]);
    if (t[i]->shape() == nullptr || t[i]->shape()->size() != 2) return FullyConnectedPlan();
  }
  if (t[0]->shape()->Get(1) != t[1]->shape()->Get(1)) return FullyConnectedPlan();
  return PlanFullyConnected(t[0]->shape()->Get(0), t[0]->shape()->Get(1), t[1]->shape()->Get(0),
                            t[1]->buffer() >= 0, Isa::kMR, Isa::kNR);
}

template <class Isa>
size_t FullyConnectedPackedBytes(const Model& model, const opm::Operator& op) {
  return PlanFullyConnectedFromModel<Isa>(model, op).packed_bytes;
}

template <class Isa>
size_t FullyConnectedScratchBytes(const Model& model, const opm::Operator& op) {
  return PlanFullyConnectedFromModel<Isa>(model, op).scratch_bytes;
}

template <class Isa>
Status PrepareFullyConnected(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::PrepareFullyConnectedF32(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const FullyConnectedPlan plan =
      PlanFullyConnected(x.dims[0], x.dims[1], w.dims[0], w.is_constant, Isa::kMR, Isa::kNR);
  FullyConnectedOpData* d = ctx.op_data<FullyConnectedOpData>();
  d->optimized = plan.optimized;
  d->gemv = plan.gemv;
  d->sparse = w.data == nullptr && w.sparse != nullptr;
  if (d->sparse) {
    // Only FcReadsSparseWeights' case is left encoded; anything else is a runtime bug.
    OUTPOST_KERNEL_CHECK(ctx, x.dims[0] == 1 && w.dims[1] % 8 == 0, Status::kInternal,
                         "fully connected: sparse weights for a batch of %d, %d inputs",
                         x.dims[0], w.dims[1]);
    d->optimized = true;
    d->gemv = false;
    d->sparse_values = BitmapPopulation(w.sparse, static_cast<int64_t>(w.dims[0]) * w.dims[1] / 8);
    return Status::kOk;
  }
  if (!plan.optimized || plan.gemv) return Status::kOk;
  OUTPOST_KERNEL_CHECK(ctx, ctx.packed_bytes() >= plan.packed_bytes &&
                                ctx.scratch_bytes() >= plan.scratch_bytes,
                       Status::kInternal, "fully connected: %zu packed / %zu scratch bytes "
                       "given, %zu / %zu planned", ctx.packed_bytes(), ctx.scratch_bytes(),
                       plan.packed_bytes, plan.scratch_bytes);
  if (ctx.packed_in_model()) return Status::kOk;  // packed at compile time by the loop below
  const int64_t k = w.dims[1], o = w.dims[0];
  const float* src = w.as<float>();
  float* dst = static_cast<float*>(ctx.packed());
  for (int64_t j0 = 0; j0 < o; j0 += Isa::kNR)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int c = 0; c < Isa::kNR; ++c) *dst++ = j0 + c < o ? src[(j0 + c) * k + kk] : 0.0f;
  return Status::kOk;
}

template <class Isa>
Status EvalFullyConnected(KernelContext& ctx) {
  const FullyConnectedOpData& d = *ctx.op_data<FullyConnectedOpData>();
  if (!d.optimized) return ref::EvalFullyConnectedF32(ctx);
  const TensorView& x = ctx.input(0);
  const int64_t n = x.dims[0], k = x.dims[1], o = ctx.input(1).dims[0];
  if (d.sparse) {
    // The model's reader checked the encoding: o * k / 8 bitmap bytes, then as many values as
    // the bitmap marks.
    const uint8_t* bitmap = ctx.input(1).sparse;
    const float* values = reinterpret_cast<const float*>(
        bitmap + SparseBitmapBytes(static_cast<uint64_t>(o * k), sizeof(float)));
    FcSparseArgs a{x.as<float>(), bitmap, values,
                   values + d.sparse_values,
                   ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr,
                   ctx.output(0).as<float>(), k, o, d.ref.act};
    FcSparseGemv(ctx.executor(), a);
    return Status::kOk;
  }
  if (d.gemv) {
    FcGemvArgs a{x.as<float>(), ctx.input(1).as<float>(),
                 ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr, ctx.output(0).as<float>(),
                 k, o, d.ref.act};
    FcGemv(ctx.executor(), a);
    return Status::kOk;
  }
  float* a = static_cast<float*>(ctx.scratch());
  PackPanels<Isa>(x.as<float>(), n, k, k, a);
  GemmArgs g;
  g.a = a;
  g.b = static_cast<const float*>(ctx.packed());
  g.ldb = Isa::kNR;
  g.b_panel_stride = k * Isa::kNR;
  g.c = ctx.output(0).as<float>();
  g.ldc = o;
  g.m = n;
  g.n = o;
  g.k = k;
  g.bias_row = nullptr;
  g.bias_col = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
  g.act = d.ref.act;
  Gemm<Isa>(ctx.executor(), g);
  return Status::kOk;
}

}  // namespace
}  // namespace f32
}  // namespace kernels
}  // namespace outpost
