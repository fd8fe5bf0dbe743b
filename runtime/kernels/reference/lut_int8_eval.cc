// Element-wise INT8 functions by table lookup, eval: integer-only (built a second time with
// -mgeneral-regs-only). Safe in place: element k is read before it is written.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {

Status EvalLut(KernelContext& ctx) {
  const int8_t* table = ctx.op_data<LutData>()->table;
  const int8_t* x = ctx.input(0).as<int8_t>();
  int8_t* y = ctx.output(0).as<int8_t>();
  const int64_t n = ctx.input(0).num_elements();
  for (int64_t i = 0; i < n; ++i) y[i] = table[x[i] + 128];
  return Status::kOk;
}

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
