// Element-wise binary ops with NumPy broadcasting (ADD, SUB, MUL, DIV, PRELU), float32.
// The output may alias input 0 when shapes are equal (in-place planning).
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/broadcast.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct BinaryData : ref::BinaryBroadcast {
  FusedActivation act;
};

Status PrepareBinary(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 2, 1, DType::FLOAT32));
  BinaryData* d = ctx.op_data<BinaryData>();
  OUTPOST_RETURN_IF_ERROR(ref::PrepareBinaryBroadcast(ctx, d));
  if (ctx.op().opcode() != OpCode::PRELU) {
    const auto* o = ctx.options<opm::BinaryOptions>();
    d->act = MakeActivation(o->activation(), o->act_min(), o->act_max());
  }
  return Status::kOk;
}

template <typename F>
Status EvalBroadcast(KernelContext& ctx, F f) {
  const float* a = ctx.input(0).as<float>();
  const float* b = ctx.input(1).as<float>();
  float* y = ctx.output(0).as<float>();
  ref::ForEachBroadcast(*ctx.op_data<BinaryData>(), ctx.input(0), ctx.input(1), ctx.output(0),
                        [&](int64_t i, int64_t ia, int64_t ib) { y[i] = f(a[ia], b[ib]); });
  return Status::kOk;
}

Status EvalAdd(KernelContext& ctx) {
  const FusedActivation act = ctx.op_data<BinaryData>()->act;
  return EvalBroadcast(ctx, [act](float x, float y) { return act.Apply(x + y); });
}
Status EvalSub(KernelContext& ctx) {
  const FusedActivation act = ctx.op_data<BinaryData>()->act;
  return EvalBroadcast(ctx, [act](float x, float y) { return act.Apply(x - y); });
}
Status EvalMul(KernelContext& ctx) {
  const FusedActivation act = ctx.op_data<BinaryData>()->act;
  return EvalBroadcast(ctx, [act](float x, float y) { return act.Apply(x * y); });
}
Status EvalDiv(KernelContext& ctx) {
  const FusedActivation act = ctx.op_data<BinaryData>()->act;
  return EvalBroadcast(ctx, [act](float x, float y) { return act.Apply(x / y); });
}
Status EvalPRelu(KernelContext& ctx) {
  return EvalBroadcast(ctx, [](float x, float slope) { return x >= 0.0f ? x : x * slope; });
}

}  // namespace

#define OUTPOST_BINARY_F32(OPC, NAME, LOWER, EVAL)           \
  const KernelRegistration k##NAME##F32Ref = ref::Reference( \
      OpCode::OPC, DType::FLOAT32, LOWER "_f32_ref", sizeof(BinaryData), PrepareBinary, EVAL);

OUTPOST_BINARY_F32(ADD, Add, "add", EvalAdd)
OUTPOST_BINARY_F32(SUB, Sub, "sub", EvalSub)
OUTPOST_BINARY_F32(MUL, Mul, "mul", EvalMul)
OUTPOST_BINARY_F32(DIV, Div, "div", EvalDiv)
OUTPOST_BINARY_F32(PRELU, PRelu, "prelu", EvalPRelu)

#undef OUTPOST_BINARY_F32

}  // namespace kernels
}  // namespace outpost
