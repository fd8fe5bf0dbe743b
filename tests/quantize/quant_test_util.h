// Small float graphs and data for the quantizer tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/emit/graph_runner.h"
#include "compiler/quantize/quantizer.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::testing {

inline opm::OpOptionsUnion FcOpts(opm::Activation act = opm::Activation::NONE) {
  opm::FullyConnectedOptionsT f;
  f.activation = act;
  opm::OpOptionsUnion o;
  o.Set(std::move(f));
  return o;
}

inline opm::OpOptionsUnion MaxPoolOpts(int k) {
  opm::Pool2DOptionsT p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = k;
  opm::OpOptionsUnion o;
  o.Set(std::move(p));
  return o;
}

inline opm::OpOptionsUnion ReshapeOpts() {
  opm::OpOptionsUnion o;
  o.Set(opm::ReshapeOptionsT());
  return o;
}

inline opm::OpOptionsUnion SoftmaxOpts() {
  opm::OpOptionsUnion o;
  o.Set(opm::SoftmaxOptionsT());
  return o;
}

inline opm::OpOptionsUnion ConvActOpts(opm::Activation act, int pad = 1) {
  opm::OpOptionsUnion o = ConvOpts(1, pad);
  o.AsConv2DOptions()->activation = act;
  return o;
}

// x [1,2,6,6] -> conv (4 filters 3x3, pad 1, fused `act`) "conv" -> max pool 2x2 "pool"
// -> flatten "flatten" [1,36] -> fully connected (5 outputs) "fc" -> output "y".
// Tensor names: "x", "conv.out", "pool.out", "flatten.out", "y"; weights "conv.w", "fc.w".
inline ir::Graph SmallConvNet(opm::Activation act = opm::Activation::RELU) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 6, 6});
  const int cw = b.RandomConst("conv.w", {4, 2, 3, 3}, 11);
  const int cb = b.Const("conv.b", {4}, {0.1f, -0.2f, 0.05f, 0.3f});
  const int c = b.Node(opm::OpCode::CONV_2D, {x, cw, cb}, {1, 4, 6, 6}, ConvActOpts(act), "conv");
  const int p = b.Node(opm::OpCode::MAX_POOL_2D, {c}, {1, 4, 3, 3}, MaxPoolOpts(2), "pool");
  const int f = b.Node(opm::OpCode::RESHAPE, {p}, {1, 36}, ReshapeOpts(), "flatten");
  const int fw = b.RandomConst("fc.w", {5, 36}, 12);
  const int fb = b.Const("fc.b", {5}, {0.0f, 0.1f, -0.1f, 0.2f, -0.2f});
  const int y = b.Node(opm::OpCode::FULLY_CONNECTED, {f, fw, fb}, {1, 5}, FcOpts(), "fc");
  b.g.tensors[y].name = "y";
  b.Output(y);
  b.g.Validate();
  return b.g;
}

// `n` samples for `graph`'s only input: normal(mean, sd) values.
inline quant::Dataset RandomData(const ir::Graph& graph, int n, uint32_t seed, float mean = 0.0f,
                                 float sd = 1.0f) {
  quant::Dataset d;
  d.sample_shape = graph.tensors[graph.inputs[0]].shape;
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, sd);
  const size_t size = static_cast<size_t>(ir::NumElements(d.sample_shape));
  for (int i = 0; i < n; ++i) {
    std::vector<float> s(size);
    for (float& v : s) v = dist(rng);
    d.samples.push_back(std::move(s));
  }
  return d;
}

// Runs `graph` on one float sample; returns its first output as float (dequantized if the
// output is int8).
inline std::vector<float> RunFloat(const ir::Graph& graph, const std::vector<float>& sample) {
  const ir::Tensor& in = graph.tensors[graph.inputs[0]];
  std::vector<uint8_t> bytes;
  if (in.dtype == opm::DType::INT8) {
    for (float v : sample) {
      const float q = std::round(v / in.quant.scale[0]) + static_cast<float>(in.quant.zero_point[0]);
      bytes.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f))));
    }
  } else {
    bytes = Bytes(sample);
  }
  const std::vector<uint8_t> out = emit::RunGraph(graph, {bytes})[0];
  const ir::Tensor& o = graph.tensors[graph.outputs[0]];
  if (o.dtype == opm::DType::FLOAT32) return Floats(out);
  std::vector<float> v;
  for (uint8_t b : out)
    v.push_back(o.quant.scale[0] *
                static_cast<float>(static_cast<int8_t>(b) - o.quant.zero_point[0]));
  return v;
}

inline int FindTensor(const ir::Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (g.tensors[i].name == name) return static_cast<int>(i);
  return -1;
}

inline const ir::Node* FindNode(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

inline std::vector<opm::OpCode> Ops(const ir::Graph& g) {
  std::vector<opm::OpCode> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

}  // namespace outpost::testing
