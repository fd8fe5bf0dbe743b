// Pooling on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// Window cells outside the input are skipped, as in the float kernels; for average pooling a
// padded cell holds the input zero point, i.e. adds 0 to the sum of (x - zx), and counts in
// the divisor only with count_include_pad.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace int8 {

// The quotient keeps kAverageFractionBits fractional bits, rounded half away from zero, then
// is rescaled.
int8_t PoolAverage(const PoolData& d, int64_t sum, int64_t count) {
  const int64_t num = sum * (int64_t{1} << kAverageFractionBits);
  const int64_t q = num >= 0 ? (num + count / 2) / count : -((-num + count / 2) / count);
  return static_cast<int8_t>(
      Requantize(static_cast<int32_t>(q), d.multiplier, d.output_zp, -128, 127));
}

namespace {

using ref::Range;
using ref::ValidRange;

template <bool kMax>
Status EvalPool2D(KernelContext& ctx) {
  const PoolData* d = ctx.op_data<PoolData>();
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  const int8_t* x = xv.as<int8_t>();
  int8_t* y = yv.as<int8_t>();
  int64_t* indices = kMax && ctx.num_outputs() == 2 ? ctx.output(1).as<int64_t>() : nullptr;
  const int64_t planes = static_cast<int64_t>(xv.dims[0]) * xv.dims[1];
  const int64_t h = xv.dims[2], w = xv.dims[3], oh = yv.dims[2], ow = yv.dims[3];
  const int64_t padded_h = h + d->pad_begin[0] + d->pad_end[0];
  const int64_t padded_w = w + d->pad_begin[1] + d->pad_end[1];
  for (int64_t p = 0; p < planes; ++p) {
    const int8_t* xp = x + p * h * w;
    int8_t* yp = y + p * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const int64_t h0 = i * d->stride[0] - d->pad_begin[0];
      const Range rh = ValidRange(h0, d->dilation[0], h, d->kernel[0]);
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t w0 = j * d->stride[1] - d->pad_begin[1];
        const Range rw = ValidRange(w0, d->dilation[1], w, d->kernel[1]);
        if (kMax) {
          // Prepare made sure every window has a cell inside the input: `at` gets set.
          int32_t m = -129;
          int64_t at = -1;
          for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
            const int64_t r = h0 + kh * d->dilation[0];
            for (int64_t kw = rw.begin; kw < rw.end; ++kw) {
              const int64_t c = w0 + kw * d->dilation[1];
              const int32_t v = xp[r * w + c];
              if (v > m) {  // the first maximum in window order wins
                m = v;
                at = d->column_major ? r + c * h : r * w + c;
              }
            }
          }
          yp[i * ow + j] = static_cast<int8_t>(m);
          if (indices != nullptr) indices[(p * oh + i) * ow + j] = p * h * w + at;
        } else {
          int64_t sum = 0;
          for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
            const int8_t* xr = xp + (h0 + kh * d->dilation[0]) * w;
            for (int64_t kw = rw.begin; kw < rw.end; ++kw)
              sum += xr[w0 + kw * d->dilation[1]] - d->input_zp;
          }
          int64_t count = rh.size() * rw.size();
          if (d->count_include_pad)
            count = ValidRange(i * d->stride[0], d->dilation[0], padded_h, d->kernel[0]).size() *
                    ValidRange(j * d->stride[1], d->dilation[1], padded_w, d->kernel[1]).size();
          yp[i * ow + j] = PoolAverage(*d, sum, count);
        }
      }
    }
  }
  return Status::kOk;
}

}  // namespace

Status EvalMaxPool2D(KernelContext& ctx) { return EvalPool2D<true>(ctx); }
Status EvalAveragePool2D(KernelContext& ctx) { return EvalPool2D<false>(ctx); }

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
