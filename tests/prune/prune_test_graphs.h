// Small float graphs for the pruning tests, each with one or more "dead" channels: channels
// whose values are 0 on every input (zero weight row and bias, then ReLU), so that removing
// them must leave the model's output unchanged. That makes every structural case checkable
// exactly: a missed slice changes the output or fails to run.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "compiler/emit/graph_runner.h"
#include "tests/optimizer/graph_builder.h"
#include "tests/quantize/quant_test_util.h"

namespace outpost::testing {

// Zeroes row `row` of the weights (axis 0) and, when present, the bias entry.
inline void KillRow(ir::Graph& g, const std::string& weights, const std::string& bias, int row) {
  ir::Tensor& w = g.tensors[FindTensor(g, weights)];
  const int64_t inner = w.num_elements() / w.shape[0];
  auto v = w.mutable_values<float>();
  for (int64_t k = 0; k < inner; ++k) v[row * inner + k] = 0.0f;
  if (!bias.empty()) g.tensors[FindTensor(g, bias)].mutable_values<float>()[row] = 0.0f;
}

inline std::vector<float> RunOnce(const ir::Graph& g, const std::vector<float>& x) {
  return Floats(emit::RunGraph(g, {Bytes(x)})[0]);
}

// ||y - ref|| / ||ref||.
inline float RelativeError(const std::vector<float>& ref, const std::vector<float>& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += double(ref[i] - y[i]) * (ref[i] - y[i]);
    den += double(ref[i]) * ref[i];
  }
  return static_cast<float>(std::sqrt(num / den));
}

inline float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = a.size() == b.size() ? 0.0f : 1e30f;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// x[1,3,5,5] -A (3->4, ReLU)-> a -B (4->4)-> b; s = a + b -C (4->2, 1x1)-> y.
// A and B write the same channels through the residual ADD.
inline ir::Graph ResidualNet() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 5, 5});
  const int a = b.Node(opm::OpCode::CONV_2D,
                       {x, b.RandomConst("A.w", {4, 3, 3, 3}, 21), b.RandomConst("A.b", {4}, 22)},
                       {1, 4, 5, 5}, ConvActOpts(opm::Activation::RELU), "A");
  const int bb = b.Node(opm::OpCode::CONV_2D,
                        {a, b.RandomConst("B.w", {4, 4, 3, 3}, 23), b.RandomConst("B.b", {4}, 24)},
                        {1, 4, 5, 5}, ConvActOpts(opm::Activation::NONE), "B");
  const int s = b.Node(opm::OpCode::ADD, {a, bb}, {1, 4, 5, 5}, BinaryOpts(), "add");
  b.Output(b.Node(opm::OpCode::CONV_2D,
                  {s, b.RandomConst("C.w", {2, 4, 1, 1}, 25), b.RandomConst("C.b", {2}, 26)},
                  {1, 2, 5, 5}, ConvOpts(), "C"));
  return b.g;
}

// x[1,2,6,6] -c1 (2->4, ReLU)-> -dw (depthwise 3x3)-> * k[1,4,1,1] -c2 (4->3)-> y.
inline ir::Graph DepthwiseNet() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 6, 6});
  const int h = b.Node(opm::OpCode::CONV_2D,
                       {x, b.RandomConst("c1.w", {4, 2, 3, 3}, 31), b.RandomConst("c1.b", {4}, 32)},
                       {1, 4, 6, 6}, ConvActOpts(opm::Activation::RELU), "c1");
  const int d = b.Node(opm::OpCode::CONV_2D,
                       {h, b.RandomConst("dw.w", {4, 1, 3, 3}, 33), b.RandomConst("dw.b", {4}, 34)},
                       {1, 4, 6, 6}, ConvOpts(1, 1, 4), "dw");
  const int m = b.Node(opm::OpCode::MUL, {d, b.Const("k", {1, 4, 1, 1}, {0.5f, 2.0f, -1.0f, 3.0f})},
                       {1, 4, 6, 6}, BinaryOpts(), "scale");
  b.Output(b.Node(opm::OpCode::CONV_2D,
                  {m, b.RandomConst("c2.w", {3, 4, 3, 3}, 35), b.RandomConst("c2.b", {3}, 36)},
                  {1, 3, 4, 4}, ConvOpts(), "c2"));
  return b.g;
}

// x[1,2,5,5] -A (2->3, ReLU)-> a, -B (2->2, ReLU)-> b; concat(a, b) on channels -C (5->2)-> y.
inline ir::Graph ConcatNet() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 5, 5});
  const int a = b.Node(opm::OpCode::CONV_2D,
                       {x, b.RandomConst("A.w", {3, 2, 3, 3}, 41), b.RandomConst("A.b", {3}, 42)},
                       {1, 3, 5, 5}, ConvActOpts(opm::Activation::RELU), "A");
  const int bb = b.Node(opm::OpCode::CONV_2D,
                        {x, b.RandomConst("B.w", {2, 2, 3, 3}, 43), b.RandomConst("B.b", {2}, 44)},
                        {1, 2, 5, 5}, ConvActOpts(opm::Activation::RELU), "B");
  opm::ConcatOptionsT co;
  co.axis = 1;
  opm::OpOptionsUnion cat;
  cat.Set(std::move(co));
  const int c = b.Node(opm::OpCode::CONCAT, {a, bb}, {1, 5, 5, 5}, std::move(cat), "concat");
  b.Output(b.Node(opm::OpCode::CONV_2D,
                  {c, b.RandomConst("C.w", {2, 5, 1, 1}, 45), b.RandomConst("C.b", {2}, 46)},
                  {1, 2, 5, 5}, ConvOpts(), "C"));
  return b.g;
}

}  // namespace outpost::testing
