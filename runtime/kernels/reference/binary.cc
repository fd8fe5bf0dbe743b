// Element-wise binary ops with NumPy broadcasting (ADD, SUB, MUL, DIV, PRELU), float32.
// The output may alias input 0 when shapes are equal (in-place planning).
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

struct BinaryData {
  int64_t a_strides[kMaxRank];
  int64_t b_strides[kMaxRank];
  FusedActivation act;
};

Status PrepareBinary(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 2, 1, DType::FLOAT32));
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  BinaryData* d = ctx.op_data<BinaryData>();
  OUTPOST_KERNEL_CHECK(ctx, BroadcastStrides(a, y, d->a_strides), Status::kShapeMismatch,
                       "input 0 does not broadcast to the output shape");
  OUTPOST_KERNEL_CHECK(ctx, BroadcastStrides(b, y, d->b_strides), Status::kShapeMismatch,
                       "input 1 does not broadcast to the output shape");
  // Every output axis must come from at least one input (no silent zero-stride expansion).
  for (int i = 0; i < y.rank; ++i) {
    const int ja = i - (y.rank - a.rank), jb = i - (y.rank - b.rank);
    const int32_t da = ja >= 0 ? a.dims[ja] : 1, db = jb >= 0 ? b.dims[jb] : 1;
    OUTPOST_KERNEL_CHECK(ctx, y.dims[i] == (da > db ? da : db), Status::kShapeMismatch,
                         "output axis %d is %d, broadcast gives %d", i, y.dims[i],
                         da > db ? da : db);
  }
  if (ctx.op().opcode() != OpCode::PRELU) {
    const auto* o = ctx.options<opm::BinaryOptions>();
    d->act = MakeActivation(o->activation(), o->act_min(), o->act_max());
  }
  return Status::kOk;
}

template <typename F>
Status EvalBroadcast(KernelContext& ctx, F f) {
  const BinaryData* d = ctx.op_data<BinaryData>();
  const float* a = ctx.input(0).as<float>();
  const float* b = ctx.input(1).as<float>();
  const TensorView& yv = ctx.output(0);
  float* y = yv.as<float>();
  const int64_t n = yv.num_elements();
  const int rank = yv.rank;
  // Fast path: both operands are full size.
  if (ctx.input(0).num_elements() == n && ctx.input(1).num_elements() == n) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
    return Status::kOk;
  }
  int32_t idx[kMaxRank] = {0};
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = f(a[ia], b[ib]);
    // Odometer increment over the output index, keeping both input offsets in step.
    for (int k = rank - 1; k >= 0; --k) {
      ia += d->a_strides[k];
      ib += d->b_strides[k];
      if (++idx[k] < yv.dims[k]) break;
      ia -= d->a_strides[k] * yv.dims[k];
      ib -= d->b_strides[k] * yv.dims[k];
      idx[k] = 0;
    }
  }
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
