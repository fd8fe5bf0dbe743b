// QUANTIZE between INT8 and UINT8 (either direction, or new parameters on the same type),
// eval: integer-only (built a second time with -mgeneral-regs-only). Safe in place.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {
namespace {

template <typename In, typename Out>
void Convert(const RequantizeData& d, const In* x, Out* y, int64_t n) {
  if (d.shift_only) {
    // Same scale: UINT8 <-> INT8 with zero points 128 apart is this path.
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = x[i] - d.input_zp + d.output_zp;
      v = v < d.out_min ? d.out_min : (v > d.out_max ? d.out_max : v);
      y[i] = static_cast<Out>(v);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    y[i] = static_cast<Out>(
        RequantizeValue(x[i], d.input_zp, d.multiplier, d.output_zp, d.out_min, d.out_max));
}

template <typename In>
void ConvertFrom(const RequantizeData& d, const In* x, const TensorView& y, int64_t n) {
  if (y.dtype == DType::INT8)
    Convert(d, x, y.as<int8_t>(), n);
  else
    Convert(d, x, y.as<uint8_t>(), n);
}

}  // namespace

Status EvalRequantize(KernelContext& ctx) {
  const RequantizeData& d = *ctx.op_data<RequantizeData>();
  const TensorView& x = ctx.input(0);
  const int64_t n = x.num_elements();
  if (x.dtype == DType::INT8)
    ConvertFrom(d, x.as<int8_t>(), ctx.output(0), n);
  else
    ConvertFrom(d, x.as<uint8_t>(), ctx.output(0), n);
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
