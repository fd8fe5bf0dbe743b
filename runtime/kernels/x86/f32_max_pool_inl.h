// What the AVX2 and AVX-512 float32 MAX_POOL_2D kernels (f32_pool_avx2.cc,
// f32_pool_avx512.cc) share: their arguments, the walk over planes and output rows in blocks
// of vectors, and prepare and eval around it. Each file includes it inside its target region
// and supplies the block of kNB vectors of one output row.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// Room for the reference's op data, which the kernels' prepare fills (its layout is the
// reference's own business; prepare checks that it fits).
struct alignas(16) MaxPoolOpData {
  unsigned char ref[64];
};

struct MaxPoolArgs {
  const float* x;
  float* y;
  int64_t h, w, oh, ow;
  int64_t kh, kw, sh, sw, dh, dw, pt, pl;
};

// Planes [begin, end) of the N*C, each output row in blocks of 4 vectors of kLanes columns,
// then one block of the 1-3 vectors left: Blocks::template Row<kNB>(a, plane input, output
// row, oy, first output column).
template <int kLanes, class Blocks>
void MaxPoolRows(const MaxPoolArgs& a, int64_t begin, int64_t end) {
  for (int64_t p = begin; p < end; ++p) {
    const float* xp = a.x + p * a.h * a.w;
    float* yp = a.y + p * a.oh * a.ow;
    for (int64_t oy = 0; oy < a.oh; ++oy) {
      float* yr = yp + oy * a.ow;
      int64_t ox0 = 0;
      for (; ox0 + 3 * kLanes < a.ow; ox0 += 4 * kLanes)
        Blocks::template Row<4>(a, xp, yr, oy, ox0);
      const int64_t left = (a.ow - ox0 + kLanes - 1) / kLanes;  // 0..3 blocks
      if (left == 3) Blocks::template Row<3>(a, xp, yr, oy, ox0);
      if (left == 2) Blocks::template Row<2>(a, xp, yr, oy, ox0);
      if (left == 1) Blocks::template Row<1>(a, xp, yr, oy, ox0);
    }
  }
}

Status PrepareMaxPool(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, kMaxPool2DF32Ref.op_data_bytes <= sizeof(MaxPoolOpData),
                       Status::kInternal, "max pool: reference op data of %zu bytes > %zu",
                       kMaxPool2DF32Ref.op_data_bytes, sizeof(MaxPoolOpData));
  return kMaxPool2DF32Ref.prepare(ctx);
}

// Runs `planes` (a ParallelFor body over the N*C planes, given MaxPoolArgs) for one output;
// the INT64 indices output, when present, runs the reference eval.
Status EvalMaxPool(KernelContext& ctx, void (*planes)(void*, int64_t, int64_t)) {
  if (ctx.num_outputs() != 1) return kMaxPool2DF32Ref.eval(ctx);
  const auto* o = ctx.options<opm::Pool2DOptions>();
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  MaxPoolArgs a{x.as<float>(), y.as<float>(), x.dims[2], x.dims[3], y.dims[2], y.dims[3],
                o->kernel_h(), o->kernel_w(), o->stride_h(), o->stride_w(), o->dilation_h(),
                o->dilation_w(), o->pad_top(), o->pad_left()};
  ctx.executor().ParallelFor(static_cast<int64_t>(x.dims[0]) * x.dims[1], 1, planes, &a);
  return Status::kOk;
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace outpost
