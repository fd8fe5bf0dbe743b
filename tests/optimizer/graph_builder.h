// Small helpers to build IR graphs by hand in tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::testing {

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline std::vector<uint8_t> Bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

inline std::vector<float> Floats(const std::vector<uint8_t>& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

class GraphBuilder {
 public:
  ir::Graph g;

  int Input(const std::string& name, std::vector<int64_t> shape) {
    const int t = g.AddActivation(name, opm::DType::FLOAT32, std::move(shape));
    g.inputs.push_back(t);
    return t;
  }
  int Const(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
    return g.AddConstant(name, opm::DType::FLOAT32, std::move(shape), v);
  }
  int RandomConst(const std::string& name, std::vector<int64_t> shape, uint32_t seed) {
    return Const(name, shape, RandomFloats(ir::NumElements(shape), seed));
  }
  int Node(opm::OpCode op, std::vector<int> inputs, std::vector<int64_t> out_shape,
           opm::OpOptionsUnion options = {}, const std::string& name = "") {
    const std::string n = name.empty() ? "n" + std::to_string(g.nodes.size()) : name;
    const int out = g.AddActivation(n + ".out", opm::DType::FLOAT32, std::move(out_shape));
    ir::Node node;
    node.op = op;
    node.name = n;
    node.inputs = std::move(inputs);
    node.outputs = {out};
    node.options = std::move(options);
    g.AddNode(std::move(node));
    return out;
  }
  void Output(int t) { g.outputs.push_back(t); }
};

inline opm::OpOptionsUnion BinaryOpts() {
  opm::OpOptionsUnion o;
  o.Set(opm::BinaryOptionsT());
  return o;
}

inline opm::OpOptionsUnion ConvOpts(int stride = 1, int pad = 0, int groups = 1) {
  opm::Conv2DOptionsT c;
  c.stride_h = c.stride_w = stride;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = pad;
  c.groups = groups;
  opm::OpOptionsUnion o;
  o.Set(std::move(c));
  return o;
}

inline opm::OpOptionsUnion ClipOpts(float lo, float hi) {
  opm::ClipOptionsT c;
  c.min = lo;
  c.max = hi;
  opm::OpOptionsUnion o;
  o.Set(std::move(c));
  return o;
}

}  // namespace outpost::testing
