// One-operator CONV_2D and FULLY_CONNECTED models (float32 and int8) with seeded random data,
// for the tests that run an optimized kernel against the reference on many shapes: the model
// file and the bytes of its non-constant inputs, plus a one-line description of the shape.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/runtime/conv_test_util.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {

struct BuiltModel {
  Status status = Status::kOk;
  std::string error;
  std::vector<uint8_t> file;
  std::vector<std::vector<uint8_t>> feeds;  // the non-constant inputs, in order
};

inline BuiltModel Build(opm::OpCode op, opm::OpOptionsUnion options, std::vector<Operand> in,
                        std::vector<Operand> out) {
  BuiltModel b;
  for (const Operand& o : in)
    if (!o.absent() && !o.constant) b.feeds.push_back(o.bytes);
  SingleOpModel model(op, std::move(options), std::move(in), std::move(out));
  b.status = model.status();
  b.error = model.error();
  b.file = model.file();
  return b;
}

inline std::vector<int32_t> ConvOutShape(const ConvParams& p) {
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  return {p.n, p.m, oh, ow};
}

inline std::string DescribeConv(const ConvParams& p) {
  char s[200];
  std::snprintf(s, sizeof(s), "n%d c%d %dx%d m%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d g%d%s act%d",
                p.n, p.c, p.h, p.w, p.m, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w,
                p.pad_t, p.pad_l, p.pad_b, p.pad_r, p.groups, p.bias ? " bias" : "",
                static_cast<int>(p.act));
  return s;
}

// ------------------------------------------------------------------------------- float32

inline BuiltModel F32ConvModel(const ConvParams& p, bool weights_constant = true) {
  const std::vector<float> x = RandomFloats(p.n * p.c * p.h * p.w, 1);
  const std::vector<float> w = RandomFloats(p.m * (p.c / p.groups) * p.kh * p.kw, 2);
  const std::vector<float> b = RandomFloats(p.m, 3);
  std::vector<Operand> in = {Operand::F32({p.n, p.c, p.h, p.w}, x),
                             Operand::F32({p.m, p.c / p.groups, p.kh, p.kw}, w, weights_constant)};
  in.push_back(p.bias ? Operand::F32({p.m}, b, true) : Operand::Absent());
  return Build(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), std::move(in),
               {Operand::Out(ConvOutShape(p))});
}

inline BuiltModel F32FullyConnectedModel(int n, int k, int o, bool bias, opm::Activation act) {
  const std::vector<float> x = RandomFloats(n * k, 4);
  const std::vector<float> w = RandomFloats(o * k, 5);
  const std::vector<float> b = RandomFloats(o, 6);
  opm::FullyConnectedOptionsT opt;
  opt.activation = act;
  opt.act_min = -0.25f;
  opt.act_max = 0.5f;
  return Build(opm::OpCode::FULLY_CONNECTED, Options(opt),
               {Operand::F32({n, k}, x), Operand::F32({o, k}, w, true),
                bias ? Operand::F32({o}, b, true) : Operand::Absent()},
               {Operand::Out({n, o})});
}

// ---------------------------------------------------------------------------------- int8

struct Int8ConvCase {
  ConvParams p;
  bool per_channel = true;
  bool weight_zp = false;  // non-zero weight zero points
  bool int32_out = false;  // raw accumulators (ConvInteger)
  QParams x{0.03f, 3};
  float out_gain = 1.0f;  // output scale multiplier: < 1 gives M > 1, huge gives M ~ 0
};

// Weight scales (per channel or one) and zero points drawn from `rng`.
inline void RandomWeightQuantization(std::mt19937& rng, int channels, bool per_channel,
                                     bool with_zp, float* s0, std::vector<float>* scales,
                                     std::vector<int64_t>* zps) {
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  std::uniform_int_distribution<int> zp(-40, 40);
  *s0 = scale(rng);
  for (int m = 0; m < channels; ++m) {
    scales->push_back(per_channel ? scale(rng) : *s0);
    zps->push_back(with_zp ? zp(rng) : 0);
  }
  if (!per_channel) zps->assign(channels, (*zps)[0]);
}

inline BuiltModel Int8ConvModel(const Int8ConvCase& c, uint32_t seed) {
  const ConvParams& p = c.p;
  const std::vector<int32_t> ws = {p.m, p.c / p.groups, p.kh, p.kw};
  const int k = p.c / p.groups * p.kh * p.kw;
  const auto x = RandomInt8(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
  const auto w = RandomInt8(static_cast<size_t>(Product(ws)), seed + 1);
  std::mt19937 rng(seed + 2);
  float s0;
  std::vector<float> w_scale;
  std::vector<int64_t> w_zp;
  RandomWeightQuantization(rng, p.m, c.per_channel, c.weight_zp, &s0, &w_scale, &w_zp);
  // About three standard deviations of the accumulator map to the int8 range.
  QParams out;
  out.scale =
      static_cast<float>(130.0 * std::sqrt(static_cast<double>(k)) * c.x.scale * s0 * c.out_gain);
  out.zp = 5;
  std::vector<Operand> ins = {Int8({p.n, p.c, p.h, p.w}, x, c.x)};
  if (c.per_channel)
    ins.push_back(Int8PerAxis(ws, w, w_scale, w_zp, 0));
  else
    ins.push_back(Int8(ws, w, {s0, static_cast<int>(w_zp[0])}, true));
  ins.push_back(p.bias && !c.int32_out ? Int32({p.m}, RandomInt32(p.m, seed + 3, -30000, 30000))
                                       : Operand::Absent());
  const Operand y =
      c.int32_out ? Operand::Out(ConvOutShape(p), opm::DType::INT32) : OutI8(ConvOutShape(p), out);
  return Build(opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)), std::move(ins),
               {y});
}

struct Int8FcCase {
  int n = 1, k = 1, out = 1;
  bool per_channel = true, bias = true, weight_zp = false, int32_out = false;
  opm::Activation act = opm::Activation::NONE;
  float act_min = 0, act_max = 0;
  QParams x{0.02f, -3};
};

inline BuiltModel Int8FullyConnectedModel(const Int8FcCase& c, uint32_t seed) {
  const auto x = RandomInt8(static_cast<size_t>(c.n) * c.k, seed);
  const auto w = RandomInt8(static_cast<size_t>(c.out) * c.k, seed + 1);
  std::mt19937 rng(seed + 2);
  float s0;
  std::vector<float> w_scale;
  std::vector<int64_t> w_zp;
  RandomWeightQuantization(rng, c.out, c.per_channel, c.weight_zp, &s0, &w_scale, &w_zp);
  QParams out{static_cast<float>(130.0 * std::sqrt(static_cast<double>(c.k)) * c.x.scale * s0), -7};
  std::vector<Operand> ins = {Int8({c.n, c.k}, x, c.x)};
  if (c.per_channel)
    ins.push_back(Int8PerAxis({c.out, c.k}, w, w_scale, w_zp, 0));
  else
    ins.push_back(Int8({c.out, c.k}, w, {s0, static_cast<int>(w_zp[0])}, true));
  ins.push_back(c.bias && !c.int32_out ? Int32({c.out}, RandomInt32(c.out, seed + 3, -9000, 9000))
                                       : Operand::Absent());
  const Operand y =
      c.int32_out ? Operand::Out({c.n, c.out}, opm::DType::INT32) : OutI8({c.n, c.out}, out);
  opm::FullyConnectedOptionsT o;
  o.activation = c.act;
  o.act_min = c.act_min;
  o.act_max = c.act_max;
  return Build(opm::OpCode::FULLY_CONNECTED, Options(o), std::move(ins), {y});
}

}  // namespace outpost::testing
