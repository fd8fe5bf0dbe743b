// Element-wise activations, float32. Output may alias the input (the planner runs these in
// place), so every kernel reads element k before writing element k and nothing else.
#include <math.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

Status PrepareUnary(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  OUTPOST_KERNEL_CHECK(ctx, ctx.input(0).SameShape(ctx.output(0)), Status::kShapeMismatch,
                       "output shape differs from input shape");
  return Status::kOk;
}

template <typename F>
Status Map(KernelContext& ctx, F f) {
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t n = ctx.input(0).num_elements();
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  return Status::kOk;
}

Status EvalRelu(KernelContext& ctx) {
  return Map(ctx, [](float v) { return v > 0.0f ? v : 0.0f; });
}

Status EvalLeakyRelu(KernelContext& ctx) {
  const float alpha = ctx.options<opm::LeakyReluOptions>()->alpha();
  return Map(ctx, [alpha](float v) { return v >= 0.0f ? v : alpha * v; });
}

Status PrepareClip(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(PrepareUnary(ctx));
  return Status::kOk;
}

Status EvalClip(KernelContext& ctx) {
  const auto* o = ctx.options<opm::ClipOptions>();
  const float lo = o->min(), hi = o->max();
  // ONNX Clip: min applied first, then max (so min > max yields max everywhere).
  return Map(ctx, [lo, hi](float v) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
  });
}

Status EvalSigmoid(KernelContext& ctx) {
  return Map(ctx, [](float v) { return 1.0f / (1.0f + expf(-v)); });
}

Status EvalTanh(KernelContext& ctx) {
  return Map(ctx, [](float v) { return tanhf(v); });
}

Status EvalHardSigmoid(KernelContext& ctx) {
  const auto* o = ctx.options<opm::HardSigmoidOptions>();
  const float a = o->alpha(), b = o->beta();
  return Map(ctx, [a, b](float v) {
    const float t = a * v + b;
    return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
  });
}

Status EvalHardSwish(KernelContext& ctx) {
  FusedActivation act;
  act.hard_swish = true;
  return Map(ctx, [act](float v) { return act.Apply(v); });
}

}  // namespace

#define OUTPOST_UNARY_F32(OPC, NAME, LOWER, PREP, EVAL) \
  const KernelRegistration k##NAME##F32Ref =            \
      ref::Reference(OpCode::OPC, DType::FLOAT32, LOWER "_f32_ref", 0, PREP, EVAL);

OUTPOST_UNARY_F32(RELU, Relu, "relu", PrepareUnary, EvalRelu)
OUTPOST_UNARY_F32(LEAKY_RELU, LeakyRelu, "leaky_relu", PrepareUnary, EvalLeakyRelu)
OUTPOST_UNARY_F32(CLIP, Clip, "clip", PrepareClip, EvalClip)
OUTPOST_UNARY_F32(SIGMOID, Sigmoid, "sigmoid", PrepareUnary, EvalSigmoid)
OUTPOST_UNARY_F32(TANH, Tanh, "tanh", PrepareUnary, EvalTanh)
OUTPOST_UNARY_F32(HARD_SIGMOID, HardSigmoid, "hard_sigmoid", PrepareUnary, EvalHardSigmoid)
OUTPOST_UNARY_F32(HARD_SWISH, HardSwish, "hard_swish", PrepareUnary, EvalHardSwish)

#undef OUTPOST_UNARY_F32

}  // namespace kernels
}  // namespace outpost
