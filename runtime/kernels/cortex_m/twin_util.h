// What the Cortex-M int8 twins (DSP extension, MVE) share: the checks that send an operator
// back to the reference eval, a convolution's operands and sizes, and the gathering of one
// output pixel's receptive field into an int8 column.
#pragma once

#include <stdint.h>

#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace cortex_m {

// Whether every weight zero point is 0: the twins assume it (w is used as stored).
inline bool WeightZeroPointsAreZero(const TensorView& w, bool per_channel, int32_t weight_zp) {
  if (!per_channel) return weight_zp == 0;
  for (int64_t c = 0; c < w.dims[0]; ++c)
    if (w.quant.zp(c) != 0) return false;
  return true;
}

// Whether the twins' arithmetic applies to these outputs: INT8 (not raw INT32 accumulators)
// from weights whose zero points are all 0. Otherwise the reference eval runs.
inline bool TwinApplies(const int8::LinearOutput& o, const TensorView& w) {
  return !o.raw_output && WeightZeroPointsAreZero(w, o.per_channel, o.weight_zp);
}

// A FULLY_CONNECTED's operands and sizes: Y[n, out] = X[n, k] * W[out, k]^T (+ B[out]).
struct FcOperands {
  const int8::LinearOutput* o;
  const TensorView* w_view;
  const int8_t* x;
  const int8_t* w;
  const int32_t* bias;  // null when absent
  int8_t* y;
  int32_t n, k, out;
};

// Fills `f` from the operator; false when TwinApplies does not hold.
inline bool ReadFcOperands(KernelContext& ctx, FcOperands* f) {
  f->o = &ctx.op_data<int8::FullyConnectedData>()->out;
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  if (!TwinApplies(*f->o, w)) return false;
  f->w_view = &w;
  f->x = x.as<int8_t>();
  f->w = w.as<int8_t>();
  f->bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  f->y = ctx.output(0).as<int8_t>();
  f->n = static_cast<int32_t>(x.dims[0]);
  f->k = static_cast<int32_t>(x.dims[1]);
  f->out = static_cast<int32_t>(w.dims[0]);
  return true;
}

// A CONV_2D's operands and sizes (NCHW, weights [M, C/groups, kH, kW]).
struct ConvGeometry : ref::ConvSizes {
  int64_t n;
  const int8::ConvData* d;
  const int8_t* x;
  const int8_t* w;
  const int32_t* bias;  // null when absent
  int8_t* y;
};

// Fills `g` from the operator; false when TwinApplies does not hold. Inline: the kernels'
// loops read the sizes from registers rather than from memory when they see them set.
inline bool ReadConvGeometry(KernelContext& ctx, ConvGeometry* g) {
  g->d = ctx.op_data<int8::ConvData>();
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  if (!TwinApplies(g->d->out, w)) return false;
  g->Set(x, w, y);
  g->n = x.dims[0];
  g->x = x.as<int8_t>();
  g->w = w.as<int8_t>();
  g->bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  g->y = y.as<int8_t>();
  return true;
}

// Output pixel (oh, ow)'s receptive field in image `xn`, as C * kH * kW int8 values in the
// weights' order, the input zero point in the padding (where it contributes (x - zx) = 0,
// exactly what the reference's skipping does).
void GatherColumn(const ConvGeometry& g, const int8_t* xn, int32_t oh, int32_t ow, int8_t* col);

// A twin's registration: the int8 reference kernel's op, operator state and prepare (so that
// exactly the same models are accepted, with the same arena), its own eval.
constexpr KernelRegistration TwinRegistration(OpCode op, const char* name, size_t op_data_bytes,
                                              Status (*prepare)(KernelContext&),
                                              Status (*eval)(KernelContext&)) {
  return {op, DType::INT8, KernelFamily::kArm, name, op_data_bytes, nullptr, prepare, eval,
          0,  nullptr};
}

// The DSP-extension twin's eval (conv_int8_dsp.cc): the MVE twin hands it the shapes its own
// paths do not cover.
Status EvalConvDsp(KernelContext& ctx);

}  // namespace cortex_m
}  // namespace kernels
}  // namespace outpost
