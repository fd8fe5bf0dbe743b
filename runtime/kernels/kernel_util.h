// Helpers shared by kernels: shape checks that report precise errors, fused activations, and
// broadcasting index arithmetic. Header-only so that each kernel inlines what it uses.
#pragma once

#include <math.h>
#include <stdint.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {

#define OUTPOST_KERNEL_CHECK(ctx, cond, status, ...)                 \
  do {                                                               \
    if (!(cond)) return OUTPOST_REPORT((ctx).errors(), (status), __VA_ARGS__); \
  } while (0)

// Checks that an operator has between [min_in, max_in] inputs and exactly `outs` outputs,
// that required inputs are present and that every operand has dtype `dt` (for inputs listed
// in `typed_inputs`, a bitmask; outputs always).
inline Status CheckOperands(KernelContext& ctx, int min_in, int max_in, int outs, DType dt,
                            uint32_t typed_inputs = 0xffffffffu) {
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_inputs() >= min_in && ctx.num_inputs() <= max_in,
                       Status::kCorruptModel, "expects %d..%d inputs, has %d", min_in, max_in,
                       ctx.num_inputs());
  OUTPOST_KERNEL_CHECK(ctx, ctx.num_outputs() == outs, Status::kCorruptModel,
                       "expects %d outputs, has %d", outs, ctx.num_outputs());
  for (int i = 0; i < min_in; ++i)
    OUTPOST_KERNEL_CHECK(ctx, ctx.has_input(i), Status::kCorruptModel, "input %d missing", i);
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && (typed_inputs >> i & 1u))
      OUTPOST_KERNEL_CHECK(ctx, ctx.input(i).dtype == dt, Status::kUnsupported,
                           "input %d is %s, kernel takes %s", i, DTypeName(ctx.input(i).dtype),
                           DTypeName(dt));
  for (int i = 0; i < outs; ++i)
    OUTPOST_KERNEL_CHECK(ctx, ctx.output(i).dtype == dt, Status::kUnsupported,
                         "output %d is %s, kernel takes %s", i, DTypeName(ctx.output(i).dtype),
                         DTypeName(dt));
  return Status::kOk;
}

// A fused activation resolved to a clamp range plus an optional hard-swish.
struct FusedActivation {
  float lo = -INFINITY;
  float hi = INFINITY;
  bool hard_swish = false;

  float Apply(float x) const {
    if (hard_swish) {
      float t = x + 3.0f;
      t = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
      return x * t * (1.0f / 6.0f);
    }
    return x < lo ? lo : (x > hi ? hi : x);
  }
};

inline FusedActivation MakeActivation(opm::Activation a, float act_min, float act_max) {
  FusedActivation f;
  switch (a) {
    case opm::Activation::NONE: break;
    case opm::Activation::RELU: f.lo = 0.0f; break;
    case opm::Activation::CLIP:
      f.lo = act_min;
      f.hi = act_max;
      break;
    case opm::Activation::HARD_SWISH: f.hard_swish = true; break;
  }
  return f;
}

// Strides for reading `in` as if broadcast to `out` (NumPy rules, right-aligned): a broadcast
// axis gets stride 0. Returns false when the shapes are not broadcast-compatible.
inline bool BroadcastStrides(const TensorView& in, const TensorView& out,
                             int64_t strides[kMaxRank]) {
  if (in.rank > out.rank) return false;
  int64_t s = 1;
  for (int i = out.rank - 1; i >= 0; --i) {
    const int j = i - (out.rank - in.rank);
    if (j < 0) {
      strides[i] = 0;
      continue;
    }
    if (in.dims[j] == out.dims[i]) {
      strides[i] = s;
    } else if (in.dims[j] == 1) {
      strides[i] = 0;
    } else {
      return false;
    }
    s *= in.dims[j];
  }
  return true;
}

// Row-major strides of a tensor.
inline void ContiguousStrides(const TensorView& t, int64_t strides[kMaxRank]) {
  int64_t s = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= t.dims[i];
  }
}

}  // namespace kernels
}  // namespace outpost
