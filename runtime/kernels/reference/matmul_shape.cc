// MATMUL's shape checks, shared by the float and int8 kernels (matmul_shape.h).
#include "runtime/kernels/reference/matmul_shape.h"

namespace outpost {
namespace kernels {
namespace ref {
namespace {

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

}  // namespace

Status PrepareMatMulShape(KernelContext& ctx, MatMulShape* d) {
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

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
