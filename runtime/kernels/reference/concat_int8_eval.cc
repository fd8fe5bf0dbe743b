// CONCAT on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// memmove / in-place requantization, because the memory planner may place an input at its
// final position inside the output.
#include <string.h>

#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {

Status EvalConcat(KernelContext& ctx) {
  const ConcatData* d = ctx.op_data<ConcatData>();
  const TensorView& y = ctx.output(0);
  int8_t* out = y.as<int8_t>();
  const uint32_t out_scale = d->quantized ? ScaleBits(y.quant.scale) : 0;
  const int32_t out_zp = d->quantized ? static_cast<int32_t>(y.quant.zero_point[0]) : 0;
  const int64_t row = y.dims[d->axis] * d->inner;
  int64_t col = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorView& x = ctx.input(i);
    const int8_t* in = x.as<int8_t>();
    const int64_t block = x.dims[d->axis] * d->inner;
    const uint32_t in_scale = d->quantized ? ScaleBits(x.quant.scale) : 0;
    const int32_t in_zp = d->quantized ? static_cast<int32_t>(x.quant.zero_point[0]) : 0;
    const bool copy = in_scale == out_scale && in_zp == out_zp;
    QuantizedMultiplier m;
    if (!copy) {
      MultiplierFromScales(in_scale, kScaleOneBits, out_scale, &m);
      m = WithHeadroom(m, kRequantizeHeadroomBits);
    }
    for (int64_t o = 0; o < d->outer; ++o) {
      int8_t* dst = out + o * row + col;
      const int8_t* src = in + o * block;
      if (copy) {
        if (dst != src) memmove(dst, src, static_cast<size_t>(block));
      } else {
        for (int64_t k = 0; k < block; ++k)
          dst[k] = static_cast<int8_t>(RequantizeValue(src[k], in_zp, m, out_zp, -128, 127));
      }
    }
    col += block;
  }
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
