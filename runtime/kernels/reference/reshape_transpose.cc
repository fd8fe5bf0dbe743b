// RESHAPE and TRANSPOSE, for every dtype (the bytes are moved unchanged).
#include <string.h>

#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

// RESHAPE (also the lowering of Flatten, Squeeze and Unsqueeze): the target shape is the
// output's stored shape; ONNX's second input, when the importer keeps it, is not read.
Status PrepareReshape(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 2, 1, 1, /*typed_inputs=*/1u));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, x.num_elements() == y.num_elements(), Status::kShapeMismatch,
                       "input has %lld elements, output %lld",
                       static_cast<long long>(x.num_elements()),
                       static_cast<long long>(y.num_elements()));
  return Status::kOk;
}

Status EvalReshape(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  // The planner normally gives the output the input's memory, making this a no-op.
  if (x.data != y.data) memmove(y.data, x.data, y.bytes);
  return Status::kOk;
}

struct TransposeData {
  int32_t rank;
  int32_t dims[kMaxRank];     // output dims
  int64_t strides[kMaxRank];  // input stride (in elements) of each output axis
};

Status PrepareTranspose(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(ref::CheckMoveOperands(ctx, 1, 1, 1, 1));
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  const flatbuffers::Vector<int32_t>* perm = ctx.options<opm::TransposeOptions>()->perm();
  const int rank = x.rank;
  OUTPOST_KERNEL_CHECK(ctx, y.rank == rank, Status::kShapeMismatch, "output has rank %d, input %d",
                       y.rank, rank);
  // ONNX: without perm, the axes are reversed.
  int32_t p[kMaxRank];
  const bool given = perm != nullptr && perm->size() > 0;
  OUTPOST_KERNEL_CHECK(ctx, !given || static_cast<int>(perm->size()) == rank, Status::kCorruptModel,
                       "perm has %u entries, input has rank %d", given ? perm->size() : 0u, rank);
  bool seen[kMaxRank] = {false};
  for (int i = 0; i < rank; ++i) {
    p[i] = given ? perm->Get(i) : rank - 1 - i;
    OUTPOST_KERNEL_CHECK(ctx, p[i] >= 0 && p[i] < rank && !seen[p[i]], Status::kCorruptModel,
                         "perm is not a permutation of 0..%d (entry %d is %d)", rank - 1, i, p[i]);
    seen[p[i]] = true;
  }
  int64_t in_strides[kMaxRank];
  ContiguousStrides(x, in_strides);
  TransposeData* d = ctx.op_data<TransposeData>();
  d->rank = rank;
  for (int i = 0; i < rank; ++i) {
    OUTPOST_KERNEL_CHECK(ctx, y.dims[i] == x.dims[p[i]], Status::kShapeMismatch,
                         "output axis %d is %d, input axis %d is %d", i, y.dims[i], p[i],
                         x.dims[p[i]]);
    d->dims[i] = y.dims[i];
    d->strides[i] = in_strides[p[i]];
  }
  return Status::kOk;
}

// Walks the output in order with an odometer over all but the last axis; the last axis is a
// strided gather from the input.
template <size_t kSize>
Status TransposeImpl(KernelContext& ctx) {
  const TransposeData* d = ctx.op_data<TransposeData>();
  const uint8_t* x = ctx.input(0).as<uint8_t>();
  uint8_t* y = ctx.output(0).as<uint8_t>();
  if (d->rank == 0) {
    memcpy(y, x, kSize);
    return Status::kOk;
  }
  const int last = d->rank - 1;
  const int64_t n = d->dims[last], stride = d->strides[last];
  const int64_t rows = ctx.output(0).num_elements() / n;
  int32_t idx[kMaxRank] = {0};
  int64_t src = 0;
  for (int64_t r = 0; r < rows; ++r) {
    ref::CopyStrided<kSize>(y + r * n * kSize, x + src * kSize, n, stride);
    for (int k = last - 1; k >= 0; --k) {
      src += d->strides[k];
      if (++idx[k] < d->dims[k]) break;
      src -= d->strides[k] * d->dims[k];
      idx[k] = 0;
    }
  }
  return Status::kOk;
}

Status EvalTranspose(KernelContext& ctx) {
  OUTPOST_DISPATCH_ELEMENT_SIZE(DTypeSize(ctx.input(0).dtype), TransposeImpl, ctx);
}

}  // namespace

OUTPOST_MOVE_KERNEL(Reshape, "reshape", RESHAPE, 0, PrepareReshape, EvalReshape)
OUTPOST_MOVE_KERNEL(Transpose, "transpose", TRANSPOSE, sizeof(TransposeData), PrepareTranspose,
                    EvalTranspose)

}  // namespace kernels
}  // namespace outpost
