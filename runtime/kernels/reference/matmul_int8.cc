// MATMUL on INT8, prepare and registration: NumPy matmul semantics as the float kernel (rank-1
// operands, broadcast batch axes), with the integer scheme of docs/quantization.md. A is INT8
// per tensor; B is INT8 per tensor or per column (its last axis, e.g. a constant weight
// matrix); zero points on both (ONNX MatMulInteger). Output INT8 requantized, or INT32 raw
// accumulators. The integer-only eval is in matmul_int8_eval.cc.
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

Status PrepareMatMul(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 2 && ctx.has_input(0) && ctx.has_input(1),
                       Status::kCorruptModel, "expects 2 inputs");
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == 1, Status::kCorruptModel,
                       "expects 1 output, has %d", ctx.num_outputs());
  int8::MatMulData* d = ctx.op_data<int8::MatMulData>();
  OUTPOST_RETURN_IF_ERROR(ref::PrepareMatMulShape(ctx, d));
  const TensorView& b = ctx.input(1);
  // Per-column scales only when B has columns (rank >= 2): its last axis.
  OUTPOST_RETURN_IF_ERROR(int8::PrepareLinearOutput(ctx, ctx.input(0), b,
                                                    b.rank >= 2 ? b.rank - 1 : -1, nullptr,
                                                    ctx.output(0), opm::Activation::NONE, 0.0f,
                                                    0.0f, &d->out));
  const int64_t matrix = d->k * d->n;
  const int64_t matrices = b.num_elements() / matrix;
  for (int64_t i = 0; i < matrices; ++i)
    OUTPOST_RETURN_IF_ERROR(int8::CheckAccumulatorRange(ctx, d->out, b, i * matrix, nullptr,
                                                        d->n, d->k, 1, d->n));
  return Status::kOk;
}

}  // namespace

const KernelRegistration kMatMulI8Ref =
    ref::Reference(OpCode::MATMUL, DType::INT8, "matmul_i8_ref", sizeof(int8::MatMulData),
                   PrepareMatMul, int8::EvalMatMul);

}  // namespace kernels
}  // namespace outpost
