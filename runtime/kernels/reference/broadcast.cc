// Broadcast shape checks shared by the float and int8 binary kernels (broadcast.h).
#include "runtime/kernels/reference/broadcast.h"

namespace outpost {
namespace kernels {
namespace ref {

Status PrepareBinaryBroadcast(KernelContext& ctx, BinaryBroadcast* d) {
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(ctx, BroadcastStrides(a, y, d->a_strides), Status::kShapeMismatch,
                       "input 0 does not broadcast to the output shape");
  OUTPOST_KERNEL_CHECK(ctx, BroadcastStrides(b, y, d->b_strides), Status::kShapeMismatch,
                       "input 1 does not broadcast to the output shape");
  for (int i = 0; i < y.rank; ++i) {
    const int ja = i - (y.rank - a.rank), jb = i - (y.rank - b.rank);
    const int32_t da = ja >= 0 ? a.dims[ja] : 1, db = jb >= 0 ? b.dims[jb] : 1;
    OUTPOST_KERNEL_CHECK(ctx, y.dims[i] == (da > db ? da : db), Status::kShapeMismatch,
                         "output axis %d is %d, broadcast gives %d", i, y.dims[i],
                         da > db ? da : db);
  }
  return Status::kOk;
}

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
