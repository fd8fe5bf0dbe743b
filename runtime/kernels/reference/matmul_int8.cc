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

using int8::kMaxBatchRank;

// Right-aligns `rank` batch dims of an operand against `out_rank` output batch axes.
void BatchStrides(const int32_t* dims, int rank, int out_rank, const int32_t* out_dims,
                  int64_t* strides) {
  int64_t s = 1;
  for (int i = out_rank - 1; i >= 0; --i) {
    const int j = i - (out_rank - rank);
    if (j < 0) {
      strides[i] = 0;
      continue;
    }
    strides[i] = dims[j] == 1 && out_dims[i] != 1 ? 0 : s;
    s *= dims[j];
  }
}

// The shape checks of the float kernel (matmul.cc), filling the batch iteration.
Status PrepareShapes(KernelContext& ctx, int8::MatMulData* d) {
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, a.rank >= 1 && b.rank >= 1, Status::kShapeMismatch,
                       "operands must have rank >= 1, have %d and %d", a.rank, b.rank);
  d->m = a.rank >= 2 ? a.dim(-2) : 1;
  d->k = a.dim(-1);
  const int64_t bk = b.rank >= 2 ? b.dim(-2) : b.dims[0];
  d->n = b.rank >= 2 ? b.dim(-1) : 1;
  OUTPOST_KERNEL_CHECK(ctx, d->k == bk, Status::kShapeMismatch,
                       "inner dimensions differ: A has %lld columns, B has %lld rows",
                       static_cast<long long>(d->k), static_cast<long long>(bk));
  const int a_batch = a.rank >= 2 ? a.rank - 2 : 0;
  const int b_batch = b.rank >= 2 ? b.rank - 2 : 0;
  const int batch = a_batch > b_batch ? a_batch : b_batch;
  int32_t want[kMaxRank + 2];
  int want_rank = 0;
  for (int i = 0; i < batch; ++i) {
    const int ja = i - (batch - a_batch), jb = i - (batch - b_batch);
    const int32_t da = ja >= 0 ? a.dims[ja] : 1, db = jb >= 0 ? b.dims[jb] : 1;
    OUTPOST_KERNEL_CHECK(ctx, da == db || da == 1 || db == 1, Status::kShapeMismatch,
                         "batch axis %d does not broadcast: %d vs %d", i, da, db);
    want[want_rank++] = da > db ? da : db;
  }
  if (a.rank >= 2) want[want_rank++] = static_cast<int32_t>(d->m);
  if (b.rank >= 2) want[want_rank++] = static_cast<int32_t>(d->n);
  bool same = want_rank == y.rank;
  for (int i = 0; same && i < want_rank; ++i) same = want[i] == y.dims[i];
  OUTPOST_KERNEL_CHECK(ctx, same, Status::kShapeMismatch,
                       "output has rank %d, broadcast matmul gives rank %d with other dims", y.rank,
                       want_rank);
  d->batch_rank = batch;
  for (int i = 0; i < batch; ++i) d->batch_dims[i] = want[i];
  BatchStrides(a.dims, a_batch, batch, d->batch_dims, d->a_strides);
  BatchStrides(b.dims, b_batch, batch, d->batch_dims, d->b_strides);
  return Status::kOk;
}

Status PrepareMatMul(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() == 2 && ctx.has_input(0) && ctx.has_input(1),
                       Status::kCorruptModel, "expects 2 inputs");
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == 1, Status::kCorruptModel,
                       "expects 1 output, has %d", ctx.num_outputs());
  int8::MatMulData* d = ctx.op_data<int8::MatMulData>();
  OUTPOST_RETURN_IF_ERROR(PrepareShapes(ctx, d));
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
