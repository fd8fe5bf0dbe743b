// MATMUL, float32, NumPy matmul semantics: a rank-1 A is a row vector and a rank-1 B a column
// vector (the added axis is dropped from the output), and the batch axes (all but the last
// two) broadcast against each other. The output shape is stored in the model and checked.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

constexpr int kMaxBatchRank = kMaxRank - 2;

struct MatMulData {
  int64_t m, k, n;
  int32_t batch_rank;
  int32_t batch_dims[kMaxBatchRank];
  // Strides in whole matrices; 0 on axes an operand broadcasts along.
  int64_t a_strides[kMaxBatchRank];
  int64_t b_strides[kMaxBatchRank];
};

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

Status PrepareMatMul(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 2, 1, DType::FLOAT32));
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, a.rank >= 1 && b.rank >= 1, Status::kShapeMismatch,
                       "operands must have rank >= 1, have %d and %d", a.rank, b.rank);
  MatMulData* d = ctx.op_data<MatMulData>();
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
  // Expected output: broadcast batch dims, then M unless A was a vector, N unless B was.
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

// C[M,N] = A[M,K] * B[K,N]. The i-k-j order streams rows of B and C contiguously.
void Gemm(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* cr = c + i * n;
    for (int64_t j = 0; j < n; ++j) cr[j] = 0.0f;
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[i * k + p];
      const float* br = b + p * n;
      for (int64_t j = 0; j < n; ++j) cr[j] += av * br[j];
    }
  }
}

Status EvalMatMul(KernelContext& ctx) {
  const MatMulData* d = ctx.op_data<MatMulData>();
  const float* a = ctx.input(0).as<float>();
  const float* b = ctx.input(1).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t a_mat = d->m * d->k, b_mat = d->k * d->n, y_mat = d->m * d->n;
  int64_t batches = 1;
  for (int i = 0; i < d->batch_rank; ++i) batches *= d->batch_dims[i];
  int32_t idx[kMaxBatchRank] = {0};
  int64_t ia = 0, ib = 0;
  for (int64_t t = 0; t < batches; ++t) {
    Gemm(a + ia * a_mat, b + ib * b_mat, y + t * y_mat, d->m, d->k, d->n);
    for (int i = d->batch_rank - 1; i >= 0; --i) {
      ia += d->a_strides[i];
      ib += d->b_strides[i];
      if (++idx[i] < d->batch_dims[i]) break;
      ia -= d->a_strides[i] * d->batch_dims[i];
      ib -= d->b_strides[i] * d->batch_dims[i];
      idx[i] = 0;
    }
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kMatMulF32Ref =
    ref::Reference(OpCode::MATMUL, DType::FLOAT32, "matmul_f32_ref", sizeof(MatMulData),
                   PrepareMatMul, EvalMatMul);

}  // namespace kernels
}  // namespace outpost
