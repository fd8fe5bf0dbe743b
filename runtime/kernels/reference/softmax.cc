// SOFTMAX, float32, ONNX opset-13 semantics: normalizes along the single axis `axis`.
// Subtracting the maximum first keeps expf from overflowing; the sum is kept in double so that
// long axes (e.g. 1000 classes) do not lose the small terms. Safe in place: every pass reads
// element k before writing element k.
#include <math.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct SoftmaxData {
  int64_t outer, axis_size, inner;
};

Status PrepareSoftmax(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 1, 1, 1, DType::FLOAT32));
  const TensorView& x = ctx.input(0);
  OUTPOST_KERNEL_CHECK(ctx, x.SameShape(ctx.output(0)), Status::kShapeMismatch,
                       "output shape differs from input shape");
  int axis = 0;
  const int32_t raw = ctx.options<opm::SoftmaxOptions>()->axis();
  OUTPOST_KERNEL_CHECK(ctx, ref::NormalizeAxis(raw, x.rank, &axis), Status::kCorruptModel,
                       "axis %d out of range for rank %d", raw, x.rank);
  SoftmaxData* d = ctx.op_data<SoftmaxData>();
  d->outer = d->inner = 1;
  for (int i = 0; i < axis; ++i) d->outer *= x.dims[i];
  for (int i = axis + 1; i < x.rank; ++i) d->inner *= x.dims[i];
  d->axis_size = x.dims[axis];
  return Status::kOk;
}

Status EvalSoftmax(KernelContext& ctx) {
  const SoftmaxData* d = ctx.op_data<SoftmaxData>();
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t n = d->axis_size, s = d->inner;
  for (int64_t o = 0; o < d->outer; ++o) {
    for (int64_t i = 0; i < s; ++i) {
      const int64_t base = o * n * s + i;
      float mx = x[base];
      for (int64_t k = 1; k < n; ++k) mx = fmaxf(mx, x[base + k * s]);
      double sum = 0.0;
      for (int64_t k = 0; k < n; ++k) {
        const float e = expf(x[base + k * s] - mx);
        y[base + k * s] = e;
        sum += e;
      }
      for (int64_t k = 0; k < n; ++k) y[base + k * s] = static_cast<float>(y[base + k * s] / sum);
    }
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kSoftmaxF32Ref =
    ref::Reference(OpCode::SOFTMAX, DType::FLOAT32, "softmax_f32_ref", sizeof(SoftmaxData),
                   PrepareSoftmax, EvalSoftmax);

}  // namespace kernels
}  // namespace outpost
