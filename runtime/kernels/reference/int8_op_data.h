// What the prepare of each int8 reference kernel leaves for its eval, and the eval entry
// points. Prepare (the *_int8.cc files) may use floating point; eval (the *_int8_eval.cc
// files) is integer-only and is compiled a second time with -mgeneral-regs-only to prove it
// (docs/portability.md). This header is the only thing the two halves share.
#pragma once

#include <stdint.h>

#include "runtime/kernels/quant_util.h"
#include "runtime/kernels/reference/broadcast.h"
#include "runtime/kernels/reference/conv_window.h"
#include "runtime/kernels/reference/matmul_shape.h"
#include "runtime/kernels/reference/pool_window.h"

namespace outpost {
namespace kernels {
namespace int8 {

// How CONV_2D, FULLY_CONNECTED and MATMUL turn int32 accumulators
//   acc[c] = bias[c] + sum (x - input_zp) * (w - weight_zp[c])
// into outputs: INT8 = clamp(output_zp + acc * M[c], act_min, act_max), or, for an INT32
// output (ONNX ConvInteger / MatMulInteger), the accumulator itself (no bias).
struct LinearOutput {
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min, act_max;
  // Per-tensor weights: their zero point and M = s_in * s_w / s_out.
  int32_t weight_zp;
  QuantizedMultiplier multiplier;
  // Per-channel weights: zero point and M derived per channel in eval from these scales and
  // the weights' own (MultiplierFromScales), so that no per-channel table is stored.
  bool per_channel;
  uint32_t input_scale_bits, output_scale_bits;
  bool raw_output;
};

// The multiplier and weight zero point of output channel `c`.
inline void ChannelParams(const LinearOutput& o, const TensorView& w, int64_t c,
                          QuantizedMultiplier* m, int32_t* weight_zp) {
  if (!o.per_channel) {
    *m = o.multiplier;
    *weight_zp = o.weight_zp;
    return;
  }
  *weight_zp = static_cast<int32_t>(w.quant.zp(c));
  *m = QuantizedMultiplier();
  // Prepare checked every scale, so this cannot fail.
  if (!o.raw_output)
    MultiplierFromScales(o.input_scale_bits, ScaleBits(w.quant.scale + c), o.output_scale_bits,
                         m);
}

// The int8 output value (or raw accumulator) of one accumulator.
inline int32_t FinishAccumulator(const LinearOutput& o, int32_t acc, QuantizedMultiplier m) {
  return o.raw_output ? acc : Requantize(acc, m, o.output_zp, o.act_min, o.act_max);
}

struct ConvData : ref::ConvWindow {
  LinearOutput out;
};

struct FullyConnectedData {
  LinearOutput out;
};

struct MatMulData : ref::MatMulShape {
  LinearOutput out;
};

// ADD and SUB follow TFLite: both inputs are scaled to a common fixed-point scale
// (2 * max(s_a, s_b) / 2^left_shift) before they are combined, then rescaled to the output.
// MUL multiplies the zero-point-corrected inputs (|product| < 2^16), shifts the product left
// by kMulHeadroomBits and rescales it once by s_a * s_b / s_out / 2^kMulHeadroomBits.
constexpr int kMulHeadroomBits = 15;

struct BinaryData : ref::BinaryBroadcast {
  int32_t a_zp, b_zp, output_zp, act_min, act_max;
  int32_t left_shift;
  QuantizedMultiplier a_multiplier, b_multiplier, output_multiplier;
};

// Requantizing one 8-bit value to other parameters (CONCAT, QUANTIZE between integer types):
// zp_out + ((q - zp_in) << kRequantizeHeadroomBits) * WithHeadroom(s_in / s_out).
constexpr int kRequantizeHeadroomBits = 22;

inline int32_t RequantizeValue(int32_t q, int32_t zp_in, QuantizedMultiplier m, int32_t zp_out,
                               int32_t lo, int32_t hi) {
  return Requantize((q - zp_in) * (1 << kRequantizeHeadroomBits), m, zp_out, lo, hi);
}

// CONCAT: inputs whose quantization equals the output's are copied; the others requantized
// (RequantizeValue) with s_in / s_out derived in eval (any of up to 64 inputs may need it, and
// the kernel's state has a fixed size). INT8 tensors without quantization (plain integers) are
// copied.
struct ConcatData {
  bool quantized;
  int32_t axis;
  int64_t outer;  // product of the dims before the axis
  int64_t inner;  // product of the dims after the axis
};

// Pooling windows, as the float kernel's. Average pooling divides the window's sum of
// (x - input_zp) by its cell count keeping kAverageFractionBits fractional bits (rounded half
// away from zero), then rescales by multiplier = s_in / s_out / 2^kAverageFractionBits.
constexpr int kAverageFractionBits = 16;

struct PoolData : ref::PoolWindow {
  int32_t input_zp, output_zp;
  QuantizedMultiplier multiplier;
};

// Element-wise functions: one table lookup per element.
struct LutData {
  int8_t table[256];
};

// SOFTMAX: exp_table[d] = round(2^kSoftmaxExpBits * exp(-s_in * d)) for d = max - x in
// [0, 255]; each output is output_zp + (exp_table[d] / sum) / s_out, the quotient taken with
// 30 fractional bits and rescaled by `multiplier` = 1 / (s_out * 2^30).
constexpr int kSoftmaxExpBits = 24;

struct SoftmaxData {
  int64_t outer, axis_size, inner;
  int32_t output_zp;
  QuantizedMultiplier multiplier;
  int32_t exp_table[256];
};

// QUANTIZE between INT8 and UINT8 (either way, or the same type with new parameters).
struct RequantizeData {
  int32_t input_zp, output_zp, out_min, out_max;
  QuantizedMultiplier multiplier;  // WithHeadroom(s_in / s_out, kRequantizeHeadroomBits)
  bool shift_only;                 // same scale: only the zero point moves
};

Status EvalConv(KernelContext& ctx);
Status EvalFullyConnected(KernelContext& ctx);
Status EvalMatMul(KernelContext& ctx);
Status EvalAdd(KernelContext& ctx);
Status EvalSub(KernelContext& ctx);
Status EvalMul(KernelContext& ctx);
Status EvalConcat(KernelContext& ctx);
Status EvalMaxPool2D(KernelContext& ctx);
Status EvalAveragePool2D(KernelContext& ctx);
Status EvalGlobalMaxPool(KernelContext& ctx);
Status EvalGlobalAveragePool(KernelContext& ctx);
// The requantized average of `count` pooled cells whose (x - input_zp) sum to `sum`.
int8_t PoolAverage(const PoolData& d, int64_t sum, int64_t count);
Status EvalLut(KernelContext& ctx);
Status EvalSoftmax(KernelContext& ctx);
Status EvalRequantize(KernelContext& ctx);

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
