#include "runtime/kernels/f32/plan.h"

namespace outpost {
namespace kernels {
namespace f32 {
namespace {

// Sizes above this are not planned (the reference runs): keeps every product below in range.
constexpr int64_t kMaxElements = int64_t{1} << 40;

int64_t RoundUp(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

bool Positive(int64_t v) { return v >= 1 && v < (int64_t{1} << 31); }

}  // namespace

int64_t Im2colRowStride(int64_t spatial) { return RoundUp(spatial, 16); }

bool GemmPanelMajor(int64_t k, int64_t n) {
  const int64_t kc = k < kKc ? k : kKc;
  return kc * n * static_cast<int64_t>(sizeof(float)) <= kPanelMajorBBytes;
}

int64_t Im2colBandRows(int64_t k, int64_t oh, int64_t ow) {
  const int64_t kc = k < kKc ? k : kKc;
  const int64_t rows = kBandBytes / (kc * ow * static_cast<int64_t>(sizeof(float)));
  return rows < 1 ? 1 : rows > oh ? oh : rows;
}

WinogradGeometry PlanWinograd(int64_t c, int64_t oh, int64_t ow, int64_t mr, int tile) {
  WinogradGeometry g;
  g.tile = tile;
  g.xis = (tile + 2) * (tile + 2);
  g.tiles_w = (ow + tile - 1) / tile;
  g.tiles = (oh + tile - 1) / tile * g.tiles_w;
  int64_t most = kWinogradVBytes / (g.xis * c * static_cast<int64_t>(sizeof(float))) / 16 * 16;
  if (most > kWinogradMaxBlock) most = kWinogradMaxBlock;
  if (most < 16) most = 16;
  // Blocks of `most` tiles; a rest of fewer than 16 tiles (one vector) joins the last block
  // rather than making one of its own: every block reads all the transformed weights (ResNet18's
  // 14x14 layers: 49 tiles, one block rather than 48 + 1).
  if (g.tiles <= most) {
    g.block = g.ld = g.tiles;
    g.blocks = 1;
  } else {
    g.block = most;
    g.blocks = g.tiles / most;
    const int64_t rest = g.tiles - g.blocks * most;
    g.ld = most;
    if (rest >= 16) {
      ++g.blocks;
    } else {
      g.ld += rest;
    }
  }
  // V_xi planes one cache line apart beyond their size: with c * ld a multiple of 1024 floats
  // (4 KiB; c = 64, ld = 96: 6 of them) the 16 (36) stores of one tile's values would map to
  // the same L1 set, more lines than its ways, and evict one another (the input transform of
  // ResNet18's 56x56 layers took a quarter of their time).
  g.v_xi = c * g.ld + 16;
  g.buffer_floats = g.xis * (g.v_xi + mr * g.ld);
  const int64_t fit =
      kWinogradScratchBytes / (g.buffer_floats * static_cast<int64_t>(sizeof(float)));
  g.buffers = fit < 2 ? 2 : fit > kMaxWinogradTasks ? kMaxWinogradTasks : fit;
  return g;
}

PhaseRowsGeometry PlanPhaseRows(const ConvShape& s) {
  PhaseRowsGeometry g;
  g.rows = s.pad_t + s.h + s.pad_b;
  const int64_t columns = (s.pad_l + s.w + s.pad_r + 1) / 2;
  const int64_t read = s.ow + (s.kw - 1) / 2;
  g.row = RoundUp(columns > read ? columns : read, 16);
  return g;
}

ConvPlan PlanConv(const ConvShape& s, int64_t mr, int64_t nr, bool has_depthwise, bool has_gather,
                  bool has_winograd, bool has_phase_rows) {
  ConvPlan p;
  const int64_t dims[] = {s.n, s.c, s.h, s.w, s.m, s.kh, s.kw, s.oh, s.ow,
                          s.stride_h, s.stride_w, s.dil_h, s.dil_w, s.groups};
  for (int64_t d : dims)
    if (!Positive(d)) return p;
  if (s.pad_t < 0 || s.pad_l < 0 || s.pad_b < 0 || s.pad_r < 0) return p;
  if (!s.weights_constant || s.c % s.groups != 0 || s.m % s.groups != 0) return p;
  const int64_t cg = s.c / s.groups, mg = s.m / s.groups;
  const int64_t k = cg * s.kh * s.kw;
  const int64_t spatial = s.oh * s.ow;
  if (k > kMaxElements / spatial || RoundUp(mg, mr) * k > kMaxElements / s.groups) return p;
  p.gemm_k = k;
  if (has_depthwise && cg == 1 && mg == 1 && (s.stride_w == 1 || s.stride_w == 2)) {
    p.path = ConvPath::kDepthwise;
    return p;
  }
  if (has_winograd && s.groups == 1 && s.kh == 3 && s.kw == 3 && s.stride_h == 1 &&
      s.stride_w == 1 && s.dil_h == 1 && s.dil_w == 1 && s.c >= kMinWinogradChannels &&
      s.m >= kMinWinogradChannels && (s.oh + 1) / 2 * ((s.ow + 1) / 2) >= kMinWinogradTiles) {
    // 16 (36) transformed kernels per channel pair instead of 9 taps: packed as GEMM A
    // matrices [m, c].
    p.path = ConvPath::kWinograd;
    p.winograd_tile = (s.oh + 3) / 4 * ((s.ow + 3) / 4) >= kMinWinograd4Tiles ? 4 : 2;
    const WinogradGeometry g = PlanWinograd(s.c, s.oh, s.ow, mr, p.winograd_tile);
    p.packed_bytes = static_cast<size_t>(g.xis * RoundUp(s.m, mr) * s.c) * sizeof(float);
    p.scratch_bytes = static_cast<size_t>(g.buffers * g.buffer_floats) * sizeof(float);
    return p;
  }
  p.packed_bytes = static_cast<size_t>(s.groups * RoundUp(mg, mr) * k) * sizeof(float);
  if (has_phase_rows && s.groups == 1 && s.stride_h == 2 && s.stride_w == 2 && s.dil_h == 1 &&
      s.dil_w == 1 && s.c < kMinGatherChannels && k <= kKc && s.ow >= 16 &&
      !GemmPanelMajor(k, spatial)) {
    // Large maps only (small ones keep their whole im2col in L2 anyway). At 1 thread, against
    // kIm2colBands: MobileNetV2's stem 195 -> 157 us, ResNet18's 1.67 -> 1.43 ms (medians of
    // 8 alternating runs of each stem alone, on a busy machine).
    p.path = ConvPath::kPhaseRows;
    const PhaseRowsGeometry g = PlanPhaseRows(s);
    p.scratch_bytes = static_cast<size_t>(s.c * g.rows * 2 * g.row) * sizeof(float);
    return p;
  }
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                         s.pad_t == 0 && s.pad_l == 0 && s.pad_b == 0 && s.pad_r == 0 &&
                         s.oh == s.h && s.ow == s.w;
  const int64_t kc = k < kKc ? k : kKc;
  if (pointwise) {
    p.path = ConvPath::kPointwise;
  } else if (GemmPanelMajor(k, spatial) || !has_gather || s.stride_w > 2 || s.ow < 16 ||
             s.kh * s.kw > kMaxGatherTaps || cg < kMinGatherChannels) {
    // Small maps: the B block of one reduction block (all columns) stays in L2 and every
    // panel reuses it, so the whole im2col is written once, by all threads, and the GEMM's
    // tasks are then free to move between threads (ResNet18's 7x7 layers: written per task
    // and block instead, it had to be one task per thread, 1-4% faster on a quiet machine
    // and up to a third slower when another process took part of a core). Row strides above
    // 2 and rows narrower than a vector (a vector of the tile would span more than 2 output
    // rows) keep the plain im2col too, and so do few input channels
    // (the per-tap setup of each gathered tile then costs more than the copies it saves:
    // MobileNetV2's 3-channel stem ran 10% slower gathered).
    p.path = ConvPath::kIm2col;
    p.scratch_bytes = static_cast<size_t>(k * Im2colRowStride(spatial)) * sizeof(float);
    if (has_gather && !GemmPanelMajor(k, spatial)) {
      // Large maps (ResNet's 7x7 stem: 7.4 MB of im2col): band by band, each written right
      // before the panels use it, instead of the whole matrix written to memory and read back.
      p.path = ConvPath::kIm2colBands;
      const int64_t band = Im2colBandRows(k, s.oh, s.ow) * s.ow;
      p.scratch_bytes =
          static_cast<size_t>(kMaxBandTasks * kc * Im2colRowStride(band)) * sizeof(float);
    }
  } else {
    // Column tile by column tile (tile-major): a tile's B block is gathered next to where it
    // is used, into L1/L2, instead of a k x oh*ow matrix written to and read back from memory.
    p.path = ConvPath::kGatherTiles;
    p.scratch_bytes = static_cast<size_t>(kMaxGatherTasks * kc * nr) * sizeof(float);
  }
  return p;
}

FullyConnectedPlan PlanFullyConnected(int64_t n, int64_t k, int64_t o, bool weights_constant,
                                      int64_t mr, int64_t nr) {
  FullyConnectedPlan p;
  if (!weights_constant || !Positive(n) || !Positive(k) || !Positive(o)) return p;
  if (k > kMaxElements / RoundUp(o, nr) || RoundUp(n, mr) > kMaxElements / k) return p;
  p.optimized = true;
  if (n == 1) {
    p.gemv = true;
    return p;
  }
  p.packed_bytes = static_cast<size_t>(k * RoundUp(o, nr)) * sizeof(float);
  p.scratch_bytes = static_cast<size_t>(RoundUp(n, mr) * k) * sizeof(float);
  return p;
}

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
