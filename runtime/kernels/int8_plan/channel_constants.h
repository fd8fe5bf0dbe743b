// The per-output-channel constants of the optimized int8 CONV_2D and FULLY_CONNECTED
// kernels, and the packing of their weights into GEMM tiles. Portable code, prepare only.
//
// Arithmetic: the GEMMs multiply the input values as they are, offset by a constant `o` that
// suits the instruction (0 for signed x signed products, 128 for vpdpbusd's unsigned first
// operand), and subtract once per channel
//     corr = (o + zx) * sum(w) - bias,
// since sum((x - zx) * w) = sum((x + o) * w) - (o + zx) * sum(w). The int32 sums wrap like
// the vector lanes; the true result fits in int32 (the reference prepare proved it), so the
// wrapped intermediate gives the same final value. Weights with a zero point, and weights
// known only at run time, take the reference path.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8_plan {

// How a kernel family stores the rounding right shift max(-shift, 0): as it is (x86's
// variable shifts) or negated (NEON's rounding shift by a negative count).
enum class RightShift { kPositive, kNegated };

// Arrays of `stride` int32 each (channels rounded up to the kernel's vector width) at the
// start of packed memory, then the re-laid-out weights.
struct ChannelConstants {
  int32_t* corr;   // subtracted from the raw sum
  int32_t* m0;     // requantization multiplier
  int32_t* left;   // max(shift, 0)
  int32_t* right;  // max(-shift, 0), or its negation (RightShift)
  void* weights;
};

int64_t RoundUp(int64_t v, int64_t a);
size_t ConstantsBytes(int64_t channels, int64_t vector);
ChannelConstants ConstantsAt(int64_t channels, int64_t vector, void* packed);

// True when some channel's weights have a zero point (the GEMMs fold none), or the weights
// are not constant.
bool NeedsReference(const int8::LinearOutput& o, const TensorView& w, int64_t channels);

// Channel c's requantization constants and correction. `wc` holds its k weights, or is null
// when the kernel subtracts the input zero point itself (then corr = -bias); `offset` is the
// constant the GEMM adds to every input value (see above).
void FillChannel(const int8::LinearOutput& o, const TensorView& w, int64_t c, const int8_t* wc,
                 int64_t k, const int32_t* bias, int32_t offset, RightShift right,
                 const ChannelConstants& cc);

// FillChannel for every output channel of a CONV_2D or FULLY_CONNECTED, from the context's
// weights (input 1, [channels][k]) and optional bias (input 2). `row_sums` false: corr = -bias
// (kernels that subtract the input zero point themselves).
void FillChannels(KernelContext& ctx, const int8::LinearOutput& o, int64_t channels, int64_t k,
                  bool row_sums, int32_t offset, RightShift right, const ChannelConstants& cc);

// Whether a model's cached packed constants (KernelContext::packed_in_model) are exactly what
// FillChannels would write: they hold shift counts and multipliers that eval trusts, so a
// hostile model must not choose them. Recomputed one channel at a time, nothing written.
bool CachedChannelsMatch(KernelContext& ctx, const int8::LinearOutput& o, int64_t channels,
                         int64_t k, bool row_sums, int32_t offset, RightShift right,
                         const ChannelConstants& cached);

// GEMM weight tiles: per group, tiles of `mr` output channels (mg of them, padded to a
// multiple of mr), each [k / kpw][mr][kpw], zero past k and for the padding channels, so that
// one vector load (or broadcast word) holds kpw consecutive k of one or several channels.
// `w` is [groups * mg][k]; the depth is padded to `kpad` (a multiple of kpw, at least k);
// `out` has room for groups * RoundUp(mg, mr) * kpad elements.
void PackWeightTiles(const int8_t* w, int64_t groups, int64_t mg, int64_t k, int64_t kpad,
                     int64_t mr, int64_t kpw, int8_t* out);
// The same with each weight widened to int16 (instruction sets that multiply int16 pairs).
void PackWeightTiles16(const int8_t* w, int64_t groups, int64_t mg, int64_t k, int64_t kpad,
                       int64_t mr, int64_t kpw, int16_t* out);

}  // namespace int8_plan
}  // namespace kernels
}  // namespace outpost
