// What the AVX-512 and AVX2 QUANTIZE FLOAT32 -> INT8 kernels share: the reference's prepare, and
// an eval that runs the instruction set's `quantize` on per-tensor INT8 outputs and leaves
// per-axis and UINT8 outputs to the reference.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

inline Status PrepareQuantizeToI8(KernelContext& ctx) { return kQuantizeF32Ref.prepare(ctx); }

inline Status EvalQuantizeToI8(KernelContext& ctx,
                               void (*quantize)(const float*, int8_t*, int64_t, float, int32_t)) {
  const TensorView& y = ctx.output(0);
  if (y.dtype != DType::INT8 || y.quant.axis >= 0) return kQuantizeF32Ref.eval(ctx);
  quantize(ctx.input(0).as<float>(), y.as<int8_t>(), y.num_elements(), y.quant.scale[0],
           static_cast<int32_t>(y.quant.zero_point[0]));
  return Status::kOk;
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
