// Shared by the CONV_2D and CONV_TRANSPOSE_2D tests: one parameter set for both ops, their
// option tables and the fused activations written out in double.
#pragma once

#include "tests/runtime/kernel_test_util.h"

namespace outpost::testing {

struct ConvParams {
  int n = 1, c = 1, h = 1, w = 1;  // input
  int m = 1, kh = 1, kw = 1;       // weights
  int stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int groups = 1;
  bool bias = true;
  opm::Activation act = opm::Activation::NONE;
  float act_min = 0, act_max = 0;
  // Conv-transpose only: extra output rows/columns (ONNX output_padding).
  int out_pad_h = 0, out_pad_w = 0;
};

template <typename T>
T FillOptions(const ConvParams& p) {
  T o;
  o.stride_h = p.stride_h;
  o.stride_w = p.stride_w;
  o.dilation_h = p.dil_h;
  o.dilation_w = p.dil_w;
  o.pad_top = p.pad_t;
  o.pad_left = p.pad_l;
  o.pad_bottom = p.pad_b;
  o.pad_right = p.pad_r;
  o.groups = p.groups;
  o.activation = p.act;
  o.act_min = p.act_min;
  o.act_max = p.act_max;
  return o;
}

inline double ApplyAct(const ConvParams& p, double v) {
  switch (p.act) {
    case opm::Activation::RELU:
      return v > 0 ? v : 0;
    case opm::Activation::CLIP:
      return v < p.act_min ? p.act_min : (v > p.act_max ? p.act_max : v);
    case opm::Activation::HARD_SWISH: {
      double t = v + 3;
      t = t < 0 ? 0 : (t > 6 ? 6 : t);
      return v * t / 6;
    }
    default:
      return v;
  }
}

// Runs every range of a parallel_for as its own chunk, last chunk first.
inline void ReversedChunks(void* self, int64_t n, int64_t grain,
                           void (*fn)(void*, int64_t, int64_t), void* arg) {
  for (int64_t b = n - 1; b >= 0; --b) fn(arg, b, b + 1);
}

}  // namespace outpost::testing
