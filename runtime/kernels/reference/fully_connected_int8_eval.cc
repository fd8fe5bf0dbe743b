// FULLY_CONNECTED on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// Output channels outermost, so a per-channel multiplier is derived once per channel.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {

namespace {

// Both factors fit in int16 (|v - zp| <= 255): written as a 16 x 16 -> 32-bit product the
// loop vectorizes as a multiply-add of int16 pairs.
int32_t Dot(const int8_t* x, int32_t zx, const int8_t* w, int32_t zw, int64_t n) {
  const int16_t a = static_cast<int16_t>(zx), b = static_cast<int16_t>(zw);
  int32_t acc = 0;
  for (int64_t i = 0; i < n; ++i)
    acc += static_cast<int16_t>(x[i] - a) * static_cast<int16_t>(w[i] - b);
  return acc;
}

}  // namespace

Status EvalFullyConnected(KernelContext& ctx) {
  const LinearOutput& o = ctx.op_data<FullyConnectedData>()->out;
  const TensorView& xv = ctx.input(0);
  const TensorView& wv = ctx.input(1);
  const int8_t* x = xv.as<int8_t>();
  const int8_t* w = wv.as<int8_t>();
  const int32_t* b = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  const TensorView& yv = ctx.output(0);
  const int64_t n = xv.dims[0], k = xv.dims[1], out = wv.dims[0];
  for (int64_t j = 0; j < out; ++j) {
    QuantizedMultiplier m;
    int32_t zw;
    ChannelParams(o, wv, j, &m, &zw);
    const int32_t bias = b ? b[j] : 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t acc = bias + Dot(x + i * k, o.input_zp, w + j * k, zw, k);
      if (o.raw_output)
        yv.as<int32_t>()[i * out + j] = acc;
      else
        yv.as<int8_t>()[i * out + j] = static_cast<int8_t>(FinishAccumulator(o, acc, m));
    }
  }
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
