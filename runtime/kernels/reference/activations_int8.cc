// Element-wise activations on INT8 (RELU, CLIP, LEAKY_RELU, SIGMOID, TANH, HARD_SIGMOID,
// HARD_SWISH), prepare and registration. Prepare tabulates the float function (as the float
// kernels define it, evaluated in double) on all 256 inputs, requantized to the output's
// parameters, which may be any; eval (lut_int8_eval.cc) is one table lookup per element.
#include <math.h>

#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

double Relu(double x, const void*) { return x > 0.0 ? x : 0.0; }

double Clip(double x, const void* arg) {
  const auto* o = static_cast<const opm::ClipOptions*>(arg);
  // ONNX Clip: min applied first, then max (so min > max yields max everywhere).
  x = x < o->min() ? o->min() : x;
  return x > o->max() ? o->max() : x;
}

double LeakyRelu(double x, const void* arg) {
  const double alpha = static_cast<const opm::LeakyReluOptions*>(arg)->alpha();
  return x >= 0.0 ? x : alpha * x;
}

double Sigmoid(double x, const void*) { return 1.0 / (1.0 + exp(-x)); }

double Tanh(double x, const void*) { return tanh(x); }

double HardSigmoid(double x, const void* arg) {
  const auto* o = static_cast<const opm::HardSigmoidOptions*>(arg);
  const double t = o->alpha() * x + o->beta();
  return t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
}

double HardSwish(double x, const void*) {
  double t = x + 3.0;
  t = t < 0.0 ? 0.0 : (t > 6.0 ? 6.0 : t);
  return x * t / 6.0;
}

Status PrepareTable(KernelContext& ctx, RealFunction f, const void* arg) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::INT8));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.SameShape(y), Status::kShapeMismatch,
                       "output shape differs from input shape");
  OUTPOST_RETURN_IF_ERROR(CheckInputQuantization(ctx, 0));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  BuildInt8Lut(x.quant.scale[0], static_cast<int32_t>(x.quant.zero_point[0]), y.quant.scale[0],
               static_cast<int32_t>(y.quant.zero_point[0]), f, arg,
               ctx.op_data<int8::LutData>()->table);
  return Status::kOk;
}

Status PrepareRelu(KernelContext& ctx) { return PrepareTable(ctx, Relu, nullptr); }
Status PrepareClip(KernelContext& ctx) {
  return PrepareTable(ctx, Clip, ctx.options<opm::ClipOptions>());
}
Status PrepareLeakyRelu(KernelContext& ctx) {
  return PrepareTable(ctx, LeakyRelu, ctx.options<opm::LeakyReluOptions>());
}
Status PrepareSigmoid(KernelContext& ctx) { return PrepareTable(ctx, Sigmoid, nullptr); }
Status PrepareTanh(KernelContext& ctx) { return PrepareTable(ctx, Tanh, nullptr); }
Status PrepareHardSigmoid(KernelContext& ctx) {
  return PrepareTable(ctx, HardSigmoid, ctx.options<opm::HardSigmoidOptions>());
}
Status PrepareHardSwish(KernelContext& ctx) { return PrepareTable(ctx, HardSwish, nullptr); }

}  // namespace

#define OUTPOST_LUT_I8(OPC, NAME, LOWER, PREP)                                        \
  const KernelRegistration k##NAME##I8Ref =                                           \
      ref::Reference(OpCode::OPC, DType::INT8, LOWER "_i8_ref", sizeof(int8::LutData), \
                     PREP, int8::EvalLut);

OUTPOST_LUT_I8(RELU, Relu, "relu", PrepareRelu)
OUTPOST_LUT_I8(CLIP, Clip, "clip", PrepareClip)
OUTPOST_LUT_I8(LEAKY_RELU, LeakyRelu, "leaky_relu", PrepareLeakyRelu)
OUTPOST_LUT_I8(SIGMOID, Sigmoid, "sigmoid", PrepareSigmoid)
OUTPOST_LUT_I8(TANH, Tanh, "tanh", PrepareTanh)
OUTPOST_LUT_I8(HARD_SIGMOID, HardSigmoid, "hard_sigmoid", PrepareHardSigmoid)
OUTPOST_LUT_I8(HARD_SWISH, HardSwish, "hard_swish", PrepareHardSwish)

#undef OUTPOST_LUT_I8

}  // namespace kernels
}  // namespace outpost
