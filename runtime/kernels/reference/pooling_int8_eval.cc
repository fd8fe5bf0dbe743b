// Pooling on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// The windows are pool_window.h's, shared with the float kernels.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace int8 {

using ref::Range;

// The quotient keeps kAverageFractionBits fractional bits, rounded half away from zero, then
// is rescaled.
int8_t PoolAverage(const PoolData& d, int64_t sum, int64_t count) {
  const int64_t num = sum * (int64_t{1} << kAverageFractionBits);
  const int64_t q = num >= 0 ? (num + count / 2) / count : -((-num + count / 2) / count);
  return static_cast<int8_t>(
      Requantize(static_cast<int32_t>(q), d.multiplier, d.output_zp, -128, 127));
}

Status EvalMaxPool2D(KernelContext& ctx) {
  const PoolData& d = *ctx.op_data<PoolData>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  const int8_t* x = xv.as<int8_t>();
  int8_t* y = yv.as<int8_t>();
  int64_t* indices = ctx.num_outputs() == 2 ? ctx.output(1).as<int64_t>() : nullptr;
  const int64_t h = xv.dims[2], w = xv.dims[3];
  ref::ForEachPoolWindow(
      d, x, static_cast<int64_t>(xv.dims[0]) * xv.dims[1], h, w, yv.dims[2], yv.dims[3],
      [&](int64_t out, const int8_t* xp, int64_t h0, int64_t w0, Range rh, Range rw, int64_t,
          int64_t) {
        const int64_t at = ref::WindowArgMax(d, xp, w, h0, w0, rh, rw,
                                             [](int8_t v, int8_t m) { return v > m; });
        y[out] = xp[at];
        if (indices != nullptr) indices[out] = ref::PoolIndex(d, (xp - x) / (h * w), h, w, at);
      });
  return Status::kOk;
}

// A padded cell holds the input zero point: it adds 0 to the sum of (x - zx).
Status EvalAveragePool2D(KernelContext& ctx) {
  const PoolData& d = *ctx.op_data<PoolData>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  int8_t* y = yv.as<int8_t>();
  const int64_t h = xv.dims[2], w = xv.dims[3];
  const int32_t zx = d.input_zp;
  ref::ForEachPoolWindow(
      d, xv.as<int8_t>(), static_cast<int64_t>(xv.dims[0]) * xv.dims[1], h, w, yv.dims[2],
      yv.dims[3],
      [&](int64_t out, const int8_t* xp, int64_t h0, int64_t w0, Range rh, Range rw, int64_t i,
          int64_t j) {
        const int64_t sum = ref::WindowSum<int64_t>(d, xp, w, h0, w0, rh, rw,
                                                    [zx](int8_t v) { return v - zx; });
        y[out] = PoolAverage(d, sum, ref::AverageCount(d, h, w, i, j, rh, rw));
      });
  return Status::kOk;
}

Status EvalGlobalMaxPool(KernelContext& ctx) {
  const TensorView& xv = ctx.input(0);
  const int8_t* x = xv.as<int8_t>();
  int8_t* y = ctx.output(0).as<int8_t>();
  const int64_t planes = static_cast<int64_t>(xv.dims[0]) * xv.dims[1];
  const int64_t size = xv.num_elements() / planes;
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* xp = x + p * size;
    int8_t m = xp[0];
    for (int64_t i = 1; i < size; ++i) m = xp[i] > m ? xp[i] : m;
    y[p] = m;
  }
  return Status::kOk;
}

Status EvalGlobalAveragePool(KernelContext& ctx) {
  const PoolData* d = ctx.op_data<PoolData>();
  const TensorView& xv = ctx.input(0);
  const int8_t* x = xv.as<int8_t>();
  int8_t* y = ctx.output(0).as<int8_t>();
  const int64_t planes = static_cast<int64_t>(xv.dims[0]) * xv.dims[1];
  const int64_t size = xv.num_elements() / planes;
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* xp = x + p * size;
    int64_t sum = 0;
    for (int64_t i = 0; i < size; ++i) sum += xp[i] - d->input_zp;
    y[p] = PoolAverage(*d, sum, size);
  }
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
