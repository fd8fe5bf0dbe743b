// FULLY_CONNECTED, float32: Y[N,O] = X[N,K] * W[O,K]^T (+ B[O]), fused activation. This is
// ONNX Gemm with transB = 1, alpha = beta = 1 and a per-output bias, as the importer lowers it.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/fully_connected_f32.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {

using FullyConnectedData = ref::FullyConnectedF32Data;

Status ref::PrepareFullyConnectedF32(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 3, 1, DType::FLOAT32));
  const auto* o = ctx.options<opm::FullyConnectedOptions>();
  OUTPOST_RETURN_IF_ERROR(ref::CheckFullyConnectedShapes(ctx));
  const TensorView& w = ctx.input(1);
  if (ctx.has_input(2)) {
    const TensorView& b = ctx.input(2);
    OUTPOST_KERNEL_CHECK(ctx, b.rank == 1 && b.dims[0] == w.dims[0], Status::kShapeMismatch,
                         "bias must have shape [%d]", w.dims[0]);
  }
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  ctx.op_data<FullyConnectedData>()->act =
      MakeActivation(o->activation(), o->act_min(), o->act_max());
  return Status::kOk;
}

namespace {

// Eight independent partial sums: a fixed summation order (so results do not depend on the
// compiler) that the vectorizer can still map onto SIMD lanes.
float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[k + l] * b[k + l];
  for (int l = 0; k < n; ++k, ++l) acc[l] += a[k] * b[k];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

}  // namespace

Status ref::EvalFullyConnectedF32(KernelContext& ctx) {
  const TensorView& xv = ctx.input(0);
  const TensorView& wv = ctx.input(1);
  const float* x = xv.as<float>();
  const float* w = wv.as<float>();
  const float* b = ctx.has_input(2) ? ctx.input(2).as<float>() : nullptr;
  float* y = ctx.output(0).as<float>();
  const FusedActivation act = ctx.op_data<FullyConnectedData>()->act;
  const int64_t n = xv.dims[0], k = xv.dims[1], o = wv.dims[0];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < o; ++j)
      y[i * o + j] = act.Apply(Dot(x + i * k, w + j * k, k) + (b ? b[j] : 0.0f));
  return Status::kOk;
}

const KernelRegistration kFullyConnectedF32Ref =
    ref::Reference(OpCode::FULLY_CONNECTED, DType::FLOAT32, "fully_connected_f32_ref",
                   sizeof(FullyConnectedData), ref::PrepareFullyConnectedF32,
                   ref::EvalFullyConnectedF32);

}  // namespace kernels
}  // namespace outpost
