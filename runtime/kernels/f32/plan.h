// How the optimized float32 kernels (x86 and AArch64) execute an operator, decided from shapes
// and options alone so that packed_bytes and scratch_bytes (called with the Model before
// prepare) and prepare (called with the tensors) always agree. Portable code: no intrinsics.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace outpost {
namespace kernels {
namespace f32 {

enum class ConvPath : int32_t {
  kReference = 0,  // not optimized: the reference eval runs
  kDepthwise,      // groups == channels: per-plane vector kernel, weights used in place
  kPointwise,      // 1x1, stride 1, no padding: on NCHW the input plane already is the GEMM B
  kIm2col,         // otherwise: all columns gathered into scratch, then GEMM
  kGatherTiles,    // large maps, row stride 1 or 2: each GEMM task gathers the B block of
                   // its column tile from the input into a buffer of its own (implicit
                   // im2col, GatherSource in tile.h)
  kIm2colBands,    // large maps that kGatherTiles does not take (few input channels, row
                   // strides above 2, narrow rows, many taps) where it is available: each GEMM
                   // task writes the im2col of a band of output rows (Im2colBandRows), one
                   // reduction block at a time, into a buffer of its own and applies every
                   // panel to it
  kWinograd,       // 3x3, stride 1, dilation 1, one group: Winograd F(4x4, 3x3) or
                   // F(2x2, 3x3) (winograd_inl.h), 2.25 or 4 multiplications per output and
                   // channel pair instead of 9
  kPhaseRows,      // stride 2 both ways, dilation 1, one group, few input channels and one
                   // reduction block (the 3-channel stems of MobileNetV2 and ResNet18): the
                   // padded input is split once into its even and odd columns
                   // (PhaseRowsGeometry); every tap of an output row then reads a contiguous
                   // stretch of one of them, and the micro-kernel takes the GEMM's B rows
                   // there in place, with no im2col written and read back
};

// GEMM blocking shared by the planner and the driver (driver_inl.h says why each value).
// Reduction block length.
constexpr int64_t kKc = 256;
// A B block (kKc rows x all columns) up to this size is applied panel-major.
constexpr int64_t kPanelMajorBBytes = 320 * 1024;
// GEMM tasks per thread.
constexpr int64_t kTasksPerThread = 4;
// At most this many GEMM tasks on the kGatherTiles path: each has its own B block buffer in
// scratch (the scratch is planned before the thread count is known), so the split is capped
// instead. 16 tasks keep 4 threads balanced as well as kTasksPerThread does.
constexpr int64_t kMaxGatherTasks = 16;
// kIm2colBands: a band's B block (min(k, kKc) rows, the band's columns) takes at most this
// many bytes (it stays in L2 while every panel reads it), and at most this many GEMM tasks
// (a band buffer each in scratch: 8 keep the scratch of MobileNetV2's stem at 2 MB, where its
// whole im2col took 1.3 MB).
constexpr int64_t kBandBytes = 256 * 1024;
constexpr int64_t kMaxBandTasks = 8;
// GatherTile precomputes its loads per kernel tap: at most this many taps.
constexpr int64_t kMaxGatherTaps = 64;
// and needs at least this many input channels per group to pay for that.
constexpr int64_t kMinGatherChannels = 8;

// kWinograd: a task's input transform V (36 or 16 x c x tiles of its block, winograd_inl.h)
// takes at most this many bytes, so that it stays in L2 while every panel of weights reads it,
// and a block holds at most kWinogradMaxBlock tiles (plus a rest of fewer than 16,
// PlanWinograd): fewer blocks read the weights fewer times (ResNet18's 56x56 and 28x28 F(2x2)
// layers ran as fast with 96 as with 64 at 1 thread, up to 21% faster at 2).
constexpr int64_t kWinogradVBytes = 768 * 1024;
constexpr int64_t kWinogradMaxBlock = 96;
// Every task has a V and an M buffer of its own in scratch: at most this many buffers, and as
// many as fit in kWinogradScratchBytes (at least 2, so that two threads never wait).
constexpr int64_t kMaxWinogradTasks = 8;
constexpr int64_t kWinogradScratchBytes = 4 * 1024 * 1024;
// and at least this many input and output channels (the transforms cost per channel what the
// GEMM saves per channel pair, so shallow layers gain nothing) and 2x2 tiles: on small maps
// the GEMM is too narrow to hide the stream of the transformed weights, 16/9 the size of the
// direct convolution's for F(2x2) (ResNet18's 7x7 layers, 16 tiles: 1.64 -> 2.4 ms).
constexpr int64_t kMinWinogradChannels = 8;
constexpr int64_t kMinWinogradTiles = 32;
// F(4x4, 3x3) where the map has at least this many 4x4 tiles (else F(2x2, 3x3)): its weights
// are 36/16 the size of F(2x2)'s, read once per block.
constexpr int64_t kMinWinograd4Tiles = 32;

// kPhaseRows: rows = pad_t + h + pad_b padded input rows per channel; padded row r of channel
// ci, phase p (even or odd columns) starts at ((ci * rows + r) * 2 + p) * row and holds
// padded columns p, p + 2, ... (zero outside the input), `row` floats: at least the columns
// the output reads, ow + (kw - 1) / 2, rounded up to whole vectors. Tap (ci, u, v) of output
// row oy then reads phase v % 2 of padded row 2 * oy + u from column ox + v / 2.
struct PhaseRowsGeometry {
  int64_t rows, row;
};

struct ConvShape {
  int64_t n, c, h, w;        // input
  int64_t m, kh, kw;         // weights [m, c / groups, kh, kw]
  int64_t oh, ow;            // output
  int64_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r, groups;
  bool weights_constant;
};

struct ConvPlan {
  ConvPath path = ConvPath::kReference;
  int64_t gemm_k = 0;          // reduction length per group: (c / groups) * kh * kw
  size_t packed_bytes = 0;     // GEMM A panels of every group
  size_t scratch_bytes = 0;    // im2col columns of one group of one image, or the
                               // kGatherTiles / kIm2colBands B block buffers
  int winograd_tile = 0;       // kWinograd: F(2x2, 3x3) or F(4x4, 3x3)
};

// How kWinograd splits one image: tile x tile output tiles in row-major order (tiles_w a row),
// in `blocks` blocks of `block` tiles but the last, which holds the rest (at most ld tiles);
// `buffers` task buffers of `buffer_floats` each (V: xis planes [c, ld], v_xi floats apart,
// then M: xis x mr x ld).
struct WinogradGeometry {
  int tile, xis;  // F(tile x tile, 3x3): 2 or 4; (tile + 2)^2 transformed elements
  int64_t tiles_w, tiles, block, blocks, ld, v_xi, buffers;
  int64_t buffer_floats;
};
WinogradGeometry PlanWinograd(int64_t c, int64_t oh, int64_t ow, int64_t mr, int tile);

// Row stride in floats of the im2col matrix (kIm2col): oh*ow rounded up to 16 floats, so that
// every row starts on a 64-byte boundary and the micro-kernel's vector loads of B do not
// straddle cache lines (7x7 maps: 49 columns, 14x14: 196).
int64_t Im2colRowStride(int64_t spatial);

// Whether a GEMM with reduction k and n columns runs panel-major (driver_inl.h, Gemm).
bool GemmPanelMajor(int64_t k, int64_t n);

// Output rows per band of the kIm2colBands path: as many as keep the band's B block within
// kBandBytes, at least 1 and at most oh.
int64_t Im2colBandRows(int64_t k, int64_t oh, int64_t ow);

PhaseRowsGeometry PlanPhaseRows(const ConvShape& s);

// `mr` and `nr` are the GEMM micro-tile's rows (A panels are padded to them) and columns;
// `has_depthwise`, `has_gather`, `has_winograd` and `has_phase_rows` whether the instruction
// set has a depthwise kernel, an implicit im2col gather (kGatherTiles), the Winograd
// transforms (kWinograd) and the column split with its micro-kernel (kPhaseRows).
// Any inconsistent shape (which prepare will refuse) plans kReference so that no size
// computation can overflow.
ConvPlan PlanConv(const ConvShape& s, int64_t mr, int64_t nr, bool has_depthwise, bool has_gather,
                  bool has_winograd, bool has_phase_rows = false);

struct FullyConnectedPlan {
  bool optimized = false;
  bool gemv = false;         // batch 1: a matrix-vector product on W as stored, nothing packed
  size_t packed_bytes = 0;   // otherwise W transposed to [k, o] in column panels of nr
  size_t scratch_bytes = 0;  // and X packed into A panels
};

FullyConnectedPlan PlanFullyConnected(int64_t n, int64_t k, int64_t o, bool weights_constant,
                                      int64_t mr, int64_t nr);

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
