// CONV_2D on INT8 for AVX-512 VNNI: the plan shared by the size functions, prepare and the two
// eval paths (GEMM over im2col or the input itself, and depthwise).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/int8_plan/conv_geometry.h"
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace x86 {

constexpr int64_t kConvMr = 8;          // output channels per GEMM tile
constexpr int64_t kDepthwiseSlots = 4;  // depthwise scratch slices (parallel chunks)

// Everything about the convolution's geometry the kernel needs, derived from the shapes and
// options alone, so that packed_bytes and scratch_bytes (from the model) and prepare (from
// the tensors) agree.
struct ConvPlan : int8_plan::ConvGeometry {
  bool depthwise;  // one input and one output channel per group
  int64_t kq;      // GEMM depth in groups of 4
  int64_t npad;    // output pixels per plane rounded up to 16
  int64_t mg_pad;  // output channels per group rounded up to kConvMr
  // Depthwise (see conv_int8_dw_avx512.cc): the padded input as u8 rows of dw_row_bytes,
  // split by row stride phase into sh planes of dw_rows rows (dw_plane bytes each), and the
  // number of 4-tap groups the kernel window is cut into.
  int64_t dw_rows, dw_row_bytes, dw_plane, dw_groups;
  // Depthwise on a small plane (conv_int8_dw_flat_avx512.cc): the number of flat output
  // vectors, 0 when the row path runs.
  int64_t dw_flat;
};

// False when the shapes or options make no sense (prepare reports the details).
bool MakeConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                  const opm::Conv2DOptions* o, ConvPlan* p);

// Per-channel constants at the start of packed memory, each array of channel_pad int32, and
// the re-laid-out weights after them.
struct ConvPacked {
  int32_t* corr;  // subtracted from the raw vpdpbusd sum
  int32_t* m0;
  int32_t* left;
  int32_t* right;
  int32_t* weights;
  uint8_t* dw_flat;  // the flat path's tables (plan.dw_flat > 0), else null
};
size_t ConvPackedBytes(const ConvPlan& p);
ConvPacked ConvPackedView(const ConvPlan& p, void* packed);
size_t ConvScratchBytes(const ConvPlan& p);

struct ConvData {
  int8::ConvData ref;  // first: the reference prepare fills it through op_data<ConvData>()
  ConvPlan plan;
  bool use_reference;  // weights with a zero point or not constant
  // The requantization: kGeneral (RequantVec), or FastRequantI8 for every channel, with the
  // correction for negative products (kFast, the GEMM path only) or without (kFastClamped).
  enum class Requant : uint8_t { kGeneral, kFast, kFastClamped } requant;
};

// Depthwise: one vpdpbusd applies up to 4 taps of one kernel row (a tap group). Each group
// reads the phase planes at `offset` bytes past an output vector's base, the taps at byte
// `col[t]` past each output's first byte; `tap[t]` is the tap (kh * kw_count + kw), or -1.
struct DwTapGroup {
  int64_t offset;
  int32_t tap[4];
  int32_t col[4];
};
constexpr int64_t kDwMaxStride = 4;  // larger column strides take the GEMM path
// Fills `out` (room for kh * kw groups; may be null) and returns the number of groups.
int64_t DepthwiseTapGroups(const ConvPlan& p, DwTapGroup* out);
int64_t DepthwiseSlotBytes(const ConvPlan& p);  // scratch of one parallel chunk

// The flat path's tables in packed memory, after the weights, 64-byte aligned: per vector and
// tap group a 64-byte vpermi2b index (an output's tap: the byte of the group's load, or 64 for
// the padding) and a DwFlatLoad, then per vector a DwFlatVec.
constexpr int64_t kDwFlatMaxVectors = 16;  // planes needing more take the row path
struct DwFlatLoad {
  int32_t base;  // the load's first byte in the channel's input plane
  uint32_t unused;
  uint64_t mask;  // the bytes inside the plane
};
struct DwFlatVec {
  int32_t out;    // first output, in the channel's output plane
  uint32_t mask;  // the outputs it stores
};
// The flat vectors a plan needs, or 0 when the flat path does not apply.
int64_t DepthwiseFlatVectors(const ConvPlan& p);
size_t DepthwiseFlatBytes(const ConvPlan& p);
// Writes the tables (prepare) or, with `verify`, checks a model's cached copy against them
// (their offsets and masks decide what eval reads, so a hostile model must not choose them).
bool DepthwiseFlatTables(const ConvPlan& p, uint8_t* tables, bool verify);
void EvalDepthwiseFlat(const ConvData& d, const ConvPacked& pk, const int8_t* x, void* y,
                       const Executor& ex);

// Fill the depthwise weights (prepare) and run the depthwise path (eval).
void PackDepthwiseWeights(const ConvPlan& p, const int8_t* w, int32_t* out);
// vbmi: the CPU has AVX-512 VBMI (kCpuX86Avx512Vbmi).
void EvalDepthwise(const ConvData& d, const ConvPacked& pk, const int8_t* x, void* y, void* scratch,
                   const Executor& ex, bool vbmi);

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
