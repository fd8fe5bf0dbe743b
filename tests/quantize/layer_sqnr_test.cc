// Per-layer SQNR and the executor behind it: traced intermediates equal the values the graph
// computes even where the memory plan reuses their storage, int8 tensors are dequantized with
// their parameters, and SQNR is matched by tensor name.
#include "compiler/quantize/layer_sqnr.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compiler/emit/graph_runner.h"
#include "tests/quantize/gate_test_util.h"

namespace outpost::testing {
namespace {

using opm::Activation;
using opm::OpCode;

quant::Dataset RandomData(std::vector<int64_t> shape, int count, uint32_t seed) {
  quant::Dataset d;
  d.sample_shape = shape;
  for (int i = 0; i < count; ++i)
    d.samples.push_back(RandomFloats(ir::NumElements(shape), seed + i));
  return d;
}

// x -> conv1 (relu) -> conv2 (relu) -> conv3 -> conv4: the planner reuses conv1's storage.
GraphBuilder Chain(uint32_t seed_of_conv3 = 3) {
  GraphBuilder b;
  int t = b.Input("x", {1, 4, 6, 6});
  const char* names[] = {"conv1", "conv2", "conv3", "conv4"};
  for (int i = 0; i < 4; ++i) {
    const uint32_t seed = i == 2 ? seed_of_conv3 : static_cast<uint32_t>(i + 1);
    t = b.Node(
        OpCode::CONV_2D, {t, b.RandomConst(std::string("w") + names[i], {4, 4, 3, 3}, seed), -1},
        {1, 4, 6, 6}, ConvAct(1, 1, 1, i < 2 ? Activation::RELU : Activation::NONE), names[i]);
  }
  b.Output(t);
  return b;
}

TEST(GraphExecutor, TracesIntermediatesBeforeTheirStorageIsReused) {
  const GraphBuilder b = Chain();
  auto x = quant::GraphExecutor::Create(b.g);
  ASSERT_TRUE(x.ok()) << x.message();
  (*x)->Trace({b.g.nodes[0].outputs[0], b.g.nodes[1].outputs[0]});
  const std::vector<float> in = RandomFloats(144, 9);
  ASSERT_TRUE((*x)->Run(in).ok());
  // The same tensors as graph outputs (never reused) give the reference values.
  ir::Graph exposed = b.g;
  exposed.outputs = {b.g.nodes[0].outputs[0], b.g.nodes[1].outputs[0], b.g.outputs[0]};
  const auto want = emit::RunGraph(exposed, {Bytes(in)});
  EXPECT_EQ((*x)->Traced(b.g.nodes[0].outputs[0]), Floats(want[0]));
  EXPECT_EQ((*x)->Traced(b.g.nodes[1].outputs[0]), Floats(want[1]));
  EXPECT_EQ((*x)->Output(0), Floats(want[2]));
  EXPECT_TRUE((*x)->Traced(12345).empty());
  EXPECT_FALSE((*x)->Run(std::vector<float>(3)).ok());  // wrong size
}

TEST(LayerSqnr, InfiniteBeforeTheChangedLayerAndExactAfter) {
  const GraphBuilder f = Chain();
  GraphBuilder changed = Chain();
  // Perturb conv3's weights by about 1%: the "quantization" error starts there.
  ir::Tensor& w = changed.g.tensors[changed.g.nodes[2].inputs[1]];
  const std::vector<float> noise = RandomFloats(w.num_elements(), 77, -0.01f, 0.01f);
  for (size_t i = 0; i < noise.size(); ++i) w.mutable_values<float>()[i] += noise[i];
  const quant::Dataset data = RandomData({1, 4, 6, 6}, 5, 40);

  auto r = quant::MeasureLayerSqnr(f.g, changed.g, data);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->samples, 5);
  ASSERT_EQ(r->tensors.size(), 4u);
  EXPECT_EQ(r->tensors[0].node, "conv1");
  EXPECT_EQ(r->tensors[0].op, "CONV_2D");
  EXPECT_EQ(r->tensors[0].dtype, "FLOAT32");
  EXPECT_TRUE(std::isinf(r->tensors[0].sqnr_db) && r->tensors[0].sqnr_db > 0);
  EXPECT_TRUE(std::isinf(r->tensors[1].sqnr_db));
  // conv4's SQNR, recomputed from the two graphs' outputs.
  double signal = 0, noise_power = 0;
  for (const auto& s : data.samples) {
    const auto a = Floats(emit::RunGraph(f.g, {Bytes(s)})[0]);
    const auto c = Floats(emit::RunGraph(changed.g, {Bytes(s)})[0]);
    for (size_t i = 0; i < a.size(); ++i) {
      signal += double(a[i]) * a[i];
      noise_power += (double(a[i]) - c[i]) * (double(a[i]) - c[i]);
    }
  }
  EXPECT_NEAR(r->tensors[3].sqnr_db, 10 * std::log10(signal / noise_power), 1e-6);
  EXPECT_GT(r->tensors[2].sqnr_db, 20);
  EXPECT_LT(r->tensors[2].sqnr_db, 80);

  // max_samples limits the work.
  auto two = quant::MeasureLayerSqnr(f.g, changed.g, data, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->samples, 2);
}

TEST(LayerSqnr, DequantizesInt8TensorsWithTheirParameters) {
  // Float: x -> reshape. "Quantized": an int8 input (scale 0.05, zero point 3) -> int8 reshape
  // keeping the names. The SQNR is that of quantizing x, computed here by hand.
  GraphBuilder f;
  const int x = f.Input("x", {1, 8});
  f.Output(f.Node(OpCode::RESHAPE, {x}, {2, 4}, ReshapeOpts(), "flat"));
  ir::Graph q = f.g;
  for (ir::Tensor& t : q.tensors) {
    t.dtype = opm::DType::INT8;
    t.quant.scale = {0.05f};
    t.quant.zero_point = {3};
  }
  const quant::Dataset data = RandomData({1, 8}, 3, 5);
  auto r = quant::MeasureLayerSqnr(f.g, q, data);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->tensors.size(), 1u);
  EXPECT_EQ(r->tensors[0].dtype, "INT8");
  double signal = 0, noise = 0;
  for (const auto& s : data.samples)
    for (float v : s) {
      const double q8 = std::clamp(std::round(v / 0.05) + 3, -128.0, 127.0);
      const double back = 0.05 * (q8 - 3);
      signal += double(v) * v;
      noise += (v - back) * (v - back);
    }
  EXPECT_NEAR(r->tensors[0].sqnr_db, 10 * std::log10(signal / noise), 1e-3);
}

TEST(LayerSqnr, RefusesEmptyDataAndWrongSizes) {
  const GraphBuilder f = Chain();
  quant::Dataset empty;
  EXPECT_FALSE(quant::MeasureLayerSqnr(f.g, f.g, empty).ok());
  quant::Dataset bad = RandomData({1, 4}, 1, 1);
  auto r = quant::MeasureLayerSqnr(f.g, f.g, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("sample 0"), std::string::npos) << r.message();
}

TEST(Sqnr, Edges) {
  EXPECT_TRUE(std::isinf(quant::SqnrDb(1, 0)));
  EXPECT_LT(quant::SqnrDb(0, 1), -1e300);
  EXPECT_NEAR(quant::SqnrDb(100, 1), 20, 1e-12);
}

}  // namespace
}  // namespace outpost::testing
