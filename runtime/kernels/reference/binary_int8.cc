// ADD, SUB and MUL on INT8, prepare and registration: NumPy broadcasting as the float kernels,
// any per-tensor input and output parameters, fused NONE / RELU / CLIP. The scheme is
// TFLite's (see BinaryData in int8_op_data.h); the integer-only eval is in
// binary_int8_eval.cc.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// Inputs are scaled to 2 * max(s_a, s_b) / 2^20 before they are added: 20 bits of headroom
// keep the rounding of each rescaled input far below one output step.
constexpr int32_t kAddLeftShift = 20;

Status PrepareOperands(KernelContext& ctx, int8::BinaryData* d) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 2, 1, DType::INT8));
  OUTPOST_RETURN_IF_ERROR(ref::PrepareBinaryBroadcast(ctx, d));
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, a, "input 0"));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, b, "input 1"));
  OUTPOST_RETURN_IF_ERROR(CheckQuantization(ctx, y, "output"));
  const auto* o = ctx.options<opm::BinaryOptions>();
  OUTPOST_RETURN_IF_ERROR(ref::CheckActivation(ctx, o->activation()));
  OUTPOST_RETURN_IF_ERROR(QuantizedActivationRange(ctx, o->activation(), o->act_min(),
                                                   o->act_max(), y, &d->act_min, &d->act_max));
  d->a_zp = static_cast<int32_t>(a.quant.zero_point[0]);
  d->b_zp = static_cast<int32_t>(b.quant.zero_point[0]);
  d->output_zp = static_cast<int32_t>(y.quant.zero_point[0]);
  return Status::kOk;
}

Status PrepareAddSub(KernelContext& ctx) {
  int8::BinaryData* d = ctx.op_data<int8::BinaryData>();
  OUTPOST_RETURN_IF_ERROR(PrepareOperands(ctx, d));
  const double sa = ctx.input(0).quant.scale[0], sb = ctx.input(1).quant.scale[0];
  const double sy = ctx.output(0).quant.scale[0];
  const double twice_max = 2.0 * (sa > sb ? sa : sb);
  d->left_shift = kAddLeftShift;
  QuantizeMultiplier(sa / twice_max, &d->a_multiplier);
  QuantizeMultiplier(sb / twice_max, &d->b_multiplier);
  QuantizeMultiplier(twice_max / (static_cast<double>(1 << kAddLeftShift) * sy),
                     &d->output_multiplier);
  return Status::kOk;
}

Status PrepareMul(KernelContext& ctx) {
  int8::BinaryData* d = ctx.op_data<int8::BinaryData>();
  OUTPOST_RETURN_IF_ERROR(PrepareOperands(ctx, d));
  const double sa = ctx.input(0).quant.scale[0], sb = ctx.input(1).quant.scale[0];
  const double sy = ctx.output(0).quant.scale[0];
  QuantizeMultiplier(sa * sb / sy / static_cast<double>(1 << int8::kMulHeadroomBits),
                     &d->output_multiplier);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kAddI8Ref =
    ref::Reference(OpCode::ADD, DType::INT8, "add_i8_ref", sizeof(int8::BinaryData),
                   PrepareAddSub, int8::EvalAdd);
const KernelRegistration kSubI8Ref =
    ref::Reference(OpCode::SUB, DType::INT8, "sub_i8_ref", sizeof(int8::BinaryData),
                   PrepareAddSub, int8::EvalSub);
const KernelRegistration kMulI8Ref =
    ref::Reference(OpCode::MUL, DType::INT8, "mul_i8_ref", sizeof(int8::BinaryData), PrepareMul,
                   int8::EvalMul);

}  // namespace kernels
}  // namespace outpost
