// ADD, SUB and MUL on INT8, eval: integer-only (built a second time with -mgeneral-regs-only).
// The output may alias input 0 when shapes are equal: element k is read before it is written.
#include "runtime/kernels/reference/int8_op_data.h"

namespace outpost {
namespace kernels {
namespace int8 {
namespace {

template <typename F>
Status EvalBroadcast(KernelContext& ctx, F f) {
  const BinaryData& d = *ctx.op_data<BinaryData>();
  const int8_t* a = ctx.input(0).as<int8_t>();
  const int8_t* b = ctx.input(1).as<int8_t>();
  int8_t* y = ctx.output(0).as<int8_t>();
  ref::ForEachBroadcast(d, ctx.input(0), ctx.input(1), ctx.output(0),
                        [&](int64_t i, int64_t ia, int64_t ib) {
                          y[i] = static_cast<int8_t>(f(d, a[ia], b[ib]));
                        });
  return Status::kOk;
}

// An input rescaled to the common fixed-point scale of ADD / SUB.
inline int32_t Scaled(int32_t q, int32_t zp, int32_t left_shift, QuantizedMultiplier m) {
  return MultiplyByQuantizedMultiplier((q - zp) * (1 << left_shift), m);
}

struct AddOp {
  int32_t operator()(const BinaryData& d, int8_t a, int8_t b) const {
    const int32_t sum = Scaled(a, d.a_zp, d.left_shift, d.a_multiplier) +
                        Scaled(b, d.b_zp, d.left_shift, d.b_multiplier);
    return Requantize(sum, d.output_multiplier, d.output_zp, d.act_min, d.act_max);
  }
};

struct SubOp {
  int32_t operator()(const BinaryData& d, int8_t a, int8_t b) const {
    const int32_t diff = Scaled(a, d.a_zp, d.left_shift, d.a_multiplier) -
                         Scaled(b, d.b_zp, d.left_shift, d.b_multiplier);
    return Requantize(diff, d.output_multiplier, d.output_zp, d.act_min, d.act_max);
  }
};

struct MulOp {
  int32_t operator()(const BinaryData& d, int8_t a, int8_t b) const {
    const int32_t prod = (a - d.a_zp) * (b - d.b_zp);
    return Requantize(prod * (1 << kMulHeadroomBits), d.output_multiplier, d.output_zp,
                      d.act_min, d.act_max);
  }
};

}  // namespace

Status EvalAdd(KernelContext& ctx) { return EvalBroadcast(ctx, AddOp()); }
Status EvalSub(KernelContext& ctx) { return EvalBroadcast(ctx, SubOp()); }
Status EvalMul(KernelContext& ctx) { return EvalBroadcast(ctx, MulOp()); }

}  // namespace int8
}  // namespace kernels
}  // namespace outpost
