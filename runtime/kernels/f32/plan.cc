#include "runtime/kernels/f32/plan.h"

namespace outpost {
namespace kernels {
namespace f32 {
namespace {

// Sizes above this are not planned (the reference runs): keeps every product below in range.
constexpr int64_t kMaxElements = int64_t{1} << 40;

int64_t RoundUp(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

bool Positive(int64_t v) { return v >= 1 && v < (int64_t{1} << 31); }

}  // namespace

ConvPlan PlanConv(const ConvShape& s, int64_t mr, bool has_depthwise) {
  ConvPlan p;
  const int64_t dims[] = {s.n, s.c, s.h, s.w, s.m, s.kh, s.kw, s.oh, s.ow,
                          s.stride_h, s.stride_w, s.dil_h, s.dil_w, s.groups};
  for (int64_t d : dims)
    if (!Positive(d)) return p;
  if (s.pad_t < 0 || s.pad_l < 0 || s.pad_b < 0 || s.pad_r < 0) return p;
  if (!s.weights_constant || s.c % s.groups != 0 || s.m % s.groups != 0) return p;
  const int64_t cg = s.c / s.groups, mg = s.m / s.groups;
  const int64_t k = cg * s.kh * s.kw;
  const int64_t spatial = s.oh * s.ow;
  if (k > kMaxElements / spatial || RoundUp(mg, mr) * k > kMaxElements / s.groups) return p;
  p.gemm_k = k;
  if (has_depthwise && cg == 1 && mg == 1 && (s.stride_w == 1 || s.stride_w == 2)) {
    p.path = ConvPath::kDepthwise;
    return p;
  }
  p.packed_bytes = static_cast<size_t>(s.groups * RoundUp(mg, mr) * k) * sizeof(float);
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                         s.pad_t == 0 && s.pad_l == 0 && s.pad_b == 0 && s.pad_r == 0 &&
                         s.oh == s.h && s.ow == s.w;
  if (pointwise) {
    p.path = ConvPath::kPointwise;
  } else {
    p.path = ConvPath::kIm2col;
    p.scratch_bytes = static_cast<size_t>(k * spatial) * sizeof(float);
  }
  return p;
}

FullyConnectedPlan PlanFullyConnected(int64_t n, int64_t k, int64_t o, bool weights_constant,
                                      int64_t mr, int64_t nr) {
  FullyConnectedPlan p;
  if (!weights_constant || !Positive(n) || !Positive(k) || !Positive(o)) return p;
  if (k > kMaxElements / RoundUp(o, nr) || RoundUp(n, mr) > kMaxElements / k) return p;
  p.optimized = true;
  if (n == 1) {
    p.gemv = true;
    return p;
  }
  p.packed_bytes = static_cast<size_t>(k * RoundUp(o, nr)) * sizeof(float);
  p.scratch_bytes = static_cast<size_t>(RoundUp(n, mr) * k) * sizeof(float);
  return p;
}

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
