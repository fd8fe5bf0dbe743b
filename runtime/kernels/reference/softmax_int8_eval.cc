// SOFTMAX on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// Per row: the maximum, the sum of the tabulated exponentials (int64: at most 2^24 per
// element), then each probability exp / sum with 30 fractional bits, rescaled to the output.
// Safe in place: the first two passes only read, the third reads element k before writing it.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {

Status EvalSoftmax(KernelContext& ctx) {
  const SoftmaxData* d = ctx.op_data<SoftmaxData>();
  const int8_t* x = ctx.input(0).as<int8_t>();
  int8_t* y = ctx.output(0).as<int8_t>();
  const int64_t n = d->axis_size, s = d->inner;
  for (int64_t o = 0; o < d->outer; ++o) {
    for (int64_t i = 0; i < s; ++i) {
      const int64_t base = o * n * s + i;
      int32_t mx = x[base];
      for (int64_t k = 1; k < n; ++k) mx = x[base + k * s] > mx ? x[base + k * s] : mx;
      int64_t sum = 0;  // >= exp_table[0] = 2^24: never zero
      for (int64_t k = 0; k < n; ++k) sum += d->exp_table[mx - x[base + k * s]];
      for (int64_t k = 0; k < n; ++k) {
        const int64_t e = d->exp_table[mx - x[base + k * s]];
        const int64_t p = ((e << 30) + sum / 2) / sum;  // in [0, 2^30]
        y[base + k * s] = static_cast<int8_t>(
            Requantize(static_cast<int32_t>(p), d->multiplier, d->output_zp, -128, 127));
      }
    }
  }
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
