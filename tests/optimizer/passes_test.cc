#include <gtest/gtest.h>

#include "compiler/emit/graph_runner.h"
#include "compiler/passes/passes.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::testing {
namespace {

using opm::OpCode;

void ExpectClose(const std::vector<float>& a, const std::vector<float>& b, float rel = 1e-5f) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], rel * (1.0f + std::fabs(b[i]))) << "at " << i;
}

TEST(FoldConstants, EvaluatesConstantSubgraphWithRuntimeKernels) {
  GraphBuilder b;
  const int x = b.Input("x", {2, 2});
  const int c1 = b.Const("c1", {2, 2}, {1, 2, 3, 4});
  const int c2 = b.Const("c2", {2, 2}, {10, 20, 30, 40});
  const int sum = b.Node(OpCode::ADD, {c1, c2}, {2, 2}, BinaryOpts());  // foldable
  const int y = b.Node(OpCode::MUL, {x, sum}, {2, 2}, BinaryOpts());
  b.Output(y);
  EXPECT_EQ(passes::FoldConstants(b.g), 1);
  ASSERT_EQ(b.g.nodes.size(), 1u);
  const ir::Tensor& folded = b.g.tensors[b.g.nodes[0].inputs[1]];
  ASSERT_TRUE(folded.constant);
  EXPECT_EQ(std::vector<float>(folded.values<float>().begin(), folded.values<float>().end()),
            (std::vector<float>{11, 22, 33, 44}));
}

TEST(FoldConstants, KeepsNodeThatProducesGraphOutput) {
  GraphBuilder b;
  b.Input("x", {1});
  const int c1 = b.Const("c1", {1}, {1});
  const int y = b.Node(OpCode::RELU, {c1}, {1});
  b.Output(y);
  EXPECT_EQ(passes::FoldConstants(b.g), 0);
  EXPECT_EQ(b.g.nodes.size(), 1u);
}

TEST(EliminateDeadNodes, RemovesBranchesThatReachNoOutput) {
  GraphBuilder b;
  const int x = b.Input("x", {4});
  const int used = b.Node(OpCode::RELU, {x}, {4});
  const int dead = b.Node(OpCode::SIGMOID, {x}, {4});
  b.Node(OpCode::TANH, {dead}, {4});
  b.Output(used);
  EXPECT_EQ(passes::EliminateDeadNodes(b.g), 2);
  ASSERT_EQ(b.g.nodes.size(), 1u);
  EXPECT_EQ(b.g.nodes[0].op, OpCode::RELU);
  b.g.Validate();
}

TEST(FuseActivations, FusesReluAndClipIntoBinaryOps) {
  GraphBuilder b;
  const int x = b.Input("x", {4});
  const int c = b.Const("c", {4}, {-3, -1, 1, 3});
  const int s = b.Node(OpCode::ADD, {x, c}, {4}, BinaryOpts());
  const int r = b.Node(OpCode::CLIP, {s}, {4}, ClipOpts(0, 2));
  b.Output(r);
  const auto before = Floats(emit::RunGraph(b.g, {Bytes({1, 1, 1, 1})})[0]);
  EXPECT_EQ(passes::FuseActivations(b.g), 1);
  ASSERT_EQ(b.g.nodes.size(), 1u);
  const auto* o = b.g.nodes[0].options.AsBinaryOptions();
  EXPECT_EQ(o->activation, opm::Activation::CLIP);
  EXPECT_EQ(o->act_max, 2.0f);
  EXPECT_EQ(Floats(emit::RunGraph(b.g, {Bytes({1, 1, 1, 1})})[0]), before);
  EXPECT_EQ(before, (std::vector<float>{0, 0, 2, 2}));
}

TEST(FuseActivations, LeavesActivationWhenIntermediateHasAnotherReader) {
  GraphBuilder b;
  const int x = b.Input("x", {4});
  const int s = b.Node(OpCode::ADD, {x, x}, {4}, BinaryOpts());
  const int r = b.Node(OpCode::RELU, {s}, {4});
  const int t = b.Node(OpCode::MUL, {s, r}, {4}, BinaryOpts());
  b.Output(t);
  EXPECT_EQ(passes::FuseActivations(b.g), 0);
}

TEST(FoldBatchNorm, ConvScaleShiftBecomesOneConvWithSameOutput) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 7, 7});
  const int w = b.RandomConst("w", {5, 3, 3, 3}, 1);
  const int bias = b.RandomConst("b", {5}, 2);
  const int conv = b.Node(OpCode::CONV_2D, {x, w, bias}, {1, 5, 7, 7}, ConvOpts(1, 1));
  const int scale = b.RandomConst("scale", {5, 1, 1}, 3);
  const int shift = b.RandomConst("shift", {5, 1, 1}, 4);
  const int m = b.Node(OpCode::MUL, {conv, scale}, {1, 5, 7, 7}, BinaryOpts());
  const int a = b.Node(OpCode::ADD, {shift, m}, {1, 5, 7, 7}, BinaryOpts());
  const int r = b.Node(OpCode::RELU, {a}, {1, 5, 7, 7});
  b.Output(r);
  const auto input = Bytes(RandomFloats(3 * 49, 5));
  const auto want = Floats(emit::RunGraph(b.g, {input})[0]);
  const passes::PassStats stats = passes::Optimize(b.g);
  EXPECT_EQ(stats.batchnorm_folded, 2);
  EXPECT_EQ(stats.activations_fused, 1);
  ASSERT_EQ(b.g.nodes.size(), 1u);
  EXPECT_EQ(b.g.nodes[0].op, OpCode::CONV_2D);
  ExpectClose(Floats(emit::RunGraph(b.g, {input})[0]), want);
}

TEST(FoldBatchNorm, GroupedConvTransposeScalesTheRightChannels) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 4, 3, 3});
  // ConvTranspose weights [C_in=4, M/groups=3, 2, 2], groups 2 -> 6 output channels.
  const int w = b.RandomConst("w", {4, 3, 2, 2}, 7);
  opm::ConvTranspose2DOptionsT ct;
  ct.stride_h = ct.stride_w = 2;
  ct.groups = 2;
  opm::OpOptionsUnion o;
  o.Set(std::move(ct));
  const int y = b.Node(OpCode::CONV_TRANSPOSE_2D, {x, w, -1}, {1, 6, 6, 6}, o);
  const int scale = b.Const("s", {1, 6, 1, 1}, {1, 2, 3, 4, 5, 6});
  const int m = b.Node(OpCode::MUL, {y, scale}, {1, 6, 6, 6}, BinaryOpts());
  b.Output(m);
  const auto input = Bytes(RandomFloats(36, 8));
  const auto want = Floats(emit::RunGraph(b.g, {input})[0]);
  EXPECT_EQ(passes::FoldBatchNorm(b.g), 1);
  ASSERT_EQ(b.g.nodes.size(), 1u);
  ExpectClose(Floats(emit::RunGraph(b.g, {input})[0]), want);
}

TEST(FoldBatchNorm, LeavesNonPerChannelConstantsAlone) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 4, 4});
  const int w = b.RandomConst("w", {2, 2, 1, 1}, 1);
  const int conv = b.Node(OpCode::CONV_2D, {x, w}, {1, 2, 4, 4}, ConvOpts());
  const int spatial = b.RandomConst("s", {1, 1, 4, 4}, 2);  // varies over H, W: not foldable
  const int m = b.Node(OpCode::MUL, {conv, spatial}, {1, 2, 4, 4}, BinaryOpts());
  b.Output(m);
  EXPECT_EQ(passes::FoldBatchNorm(b.g), 0);
}

}  // namespace
}  // namespace outpost::testing
