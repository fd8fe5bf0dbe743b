// Small classifiers built to misbehave in int8, for the accuracy gate's library and CLI tests:
// an activation with one huge outlier channel that a per-tensor int8 scale cannot represent
// next to the small values that matter.
#pragma once

#include <algorithm>
#include <cmath>

#include "compiler/emit/graph_runner.h"
#include "compiler/quantize/quantizer.h"
#include "tests/quantize/gate_test_util.h"

namespace outpost::testing {

// Random samples labelled with the float model's own predictions (its accuracy is 100%). With
// `outlier_input`, feature 0 of every sample is 5000 (the models below ignore it).
inline quant::Dataset LabelledByModel(const ir::Graph& g, int count, uint32_t seed,
                                      bool outlier_input = false) {
  quant::Dataset d;
  d.sample_shape = g.tensors[g.inputs[0]].shape;
  for (int i = 0; i < count; ++i) {
    d.samples.push_back(RandomFloats(ir::NumElements(d.sample_shape), seed + i));
    if (outlier_input) d.samples.back()[0] = 5000.0f;
    const std::vector<float> y = Floats(emit::RunGraph(g, {Bytes(d.samples.back())})[0]);
    d.labels.push_back(static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin()));
  }
  return d;
}

// x[1,16] -fc1 (relu)-> h1[32] -fc2 (relu)-> h2[32] -fc3-> y[10]. Channel 0 of h2 is an
// outlier, about 2000x the others, and fc3 nearly ignores it: in float it does no harm, but one
// int8 scale for all of h2 leaves the other channels a handful of levels. Both fc2 (writes h2)
// and fc3 (reads it) must stay float; fc1 is harmless unless `ignore_feature0`, where fc1
// ignores input feature 0 so data with an outlier there (quantized with fc1) breaks fc1 too.
inline GraphBuilder OutlierClassifier(bool ignore_feature0 = false) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 16});
  std::vector<float> w1 = RandomFloats(32 * 16, 1);
  if (ignore_feature0)
    for (int o = 0; o < 32; ++o) w1[o * 16] = 0;
  const int h1 = b.Node(opm::OpCode::FULLY_CONNECTED,
                        {x, b.Const("w1", {32, 16}, w1), b.RandomConst("b1", {32}, 2)}, {1, 32},
                        FcOpts(opm::Activation::RELU), "fc1");
  std::vector<float> w2 = RandomFloats(32 * 32, 3);
  std::vector<float> b2 = RandomFloats(32, 4, 0.1f, 0.5f);
  for (int k = 0; k < 32; ++k) w2[k] = std::fabs(w2[k]) * 2000.0f;  // row 0: the outlier
  b2[0] = 1000.0f;
  const int h2 = b.Node(opm::OpCode::FULLY_CONNECTED,
                        {h1, b.Const("w2", {32, 32}, w2), b.Const("b2", {32}, b2)}, {1, 32},
                        FcOpts(opm::Activation::RELU), "fc2");
  std::vector<float> w3 = RandomFloats(10 * 32, 5);
  for (int o = 0; o < 10; ++o) w3[o * 32] = 1e-6f;
  b.Output(b.Node(opm::OpCode::FULLY_CONNECTED,
                  {h2, b.Const("w3", {10, 32}, w3), b.RandomConst("b3", {10}, 6)}, {1, 10},
                  FcOpts(), "fc3"));
  return b;
}

// x[1,16] -fc-> y[10], where input feature 0 takes huge values the layer ignores: quantizing
// the only layer quantizes its input with that range.
inline GraphBuilder OutlierInputClassifier() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 16});
  std::vector<float> w = RandomFloats(10 * 16, 7);
  for (int o = 0; o < 10; ++o) w[o * 16] = 0;
  b.Output(b.Node(opm::OpCode::FULLY_CONNECTED, {x, b.Const("w", {10, 16}, w), -1}, {1, 10},
                  FcOpts(), "fc"));
  return b;
}

}  // namespace outpost::testing
