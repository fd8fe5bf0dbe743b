// Helpers shared by the equalization, SQNR and accuracy-gate tests: option tables for the ops
// the graph builder does not cover, range and error measures.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "compiler/ir/graph.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::testing {

inline opm::OpOptionsUnion FcOpts(opm::Activation act = opm::Activation::NONE, float lo = 0,
                                  float hi = 0) {
  opm::FullyConnectedOptionsT f;
  f.activation = act;
  f.act_min = lo;
  f.act_max = hi;
  opm::OpOptionsUnion o;
  o.Set(std::move(f));
  return o;
}

inline opm::OpOptionsUnion ConvAct(int stride, int pad, int groups, opm::Activation act,
                                   float lo = 0, float hi = 0) {
  opm::OpOptionsUnion o = ConvOpts(stride, pad, groups);
  o.AsConv2DOptions()->activation = act;
  o.AsConv2DOptions()->act_min = lo;
  o.AsConv2DOptions()->act_max = hi;
  return o;
}

inline opm::OpOptionsUnion PoolOpts(int k, int stride) {
  opm::Pool2DOptionsT p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  opm::OpOptionsUnion o;
  o.Set(std::move(p));
  return o;
}

inline opm::OpOptionsUnion ReshapeOpts() {
  opm::OpOptionsUnion o;
  o.Set(opm::ReshapeOptionsT());
  return o;
}

// Random values where slice k (of `slices` equal slices along axis 0) is multiplied by
// scales[k]: a layer whose output channels have very different ranges.
inline std::vector<float> ScaledRandom(size_t n, uint32_t seed, const std::vector<float>& scales) {
  std::vector<float> v = RandomFloats(n, seed);
  const size_t per = n / scales.size();
  for (size_t i = 0; i < n; ++i) v[i] *= scales[i / per];
  return v;
}

// max |a - b| / max |b|: error relative to the output's magnitude.
inline double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    err = std::max(err, std::fabs(double(a[i]) - b[i]));
    mag = std::max(mag, std::fabs(double(b[i])));
  }
  return mag > 0 ? err / mag : err;
}

// Mean squared difference.
inline double Mse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return a.empty() ? 0 : s / a.size();
}

// Largest |w| of each output channel (axis 0) of a weight tensor.
inline std::vector<double> ChannelRanges(const ir::Tensor& w) {
  const auto v = w.values<float>();
  const int64_t out = w.shape[0], inner = w.num_elements() / out;
  std::vector<double> r(out, 0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < inner; ++k) r[o] = std::max(r[o], std::fabs(double(v[o * inner + k])));
  return r;
}

inline const ir::Node* FindNode(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// Symmetric per-tensor int8 fake quantization of every conv / FC weight (values rounded to
// 255 levels over [-max|w|, max|w|]), in float: the weight error per-tensor int8 introduces.
inline ir::Graph FakeQuantWeightsPerTensor(ir::Graph g) {
  for (ir::Node& n : g.nodes) {
    if (n.op != opm::OpCode::CONV_2D && n.op != opm::OpCode::FULLY_CONNECTED) continue;
    ir::Tensor& w = g.tensors[n.inputs[1]];
    auto v = w.mutable_values<float>();
    float m = 0;
    for (float x : v) m = std::max(m, std::fabs(x));
    if (m == 0) continue;
    const float s = m / 127.0f;
    for (float& x : v) x = std::nearbyint(x / s) * s;
  }
  return g;
}

}  // namespace outpost::testing
