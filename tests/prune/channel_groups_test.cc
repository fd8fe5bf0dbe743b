// Channel groups and the cut: which channels belong together, and that removing channels that
// carry nothing leaves every model's output unchanged (see prune_test_graphs.h).
#include <gtest/gtest.h>

#include "compiler/prune/channel_groups.h"
#include "tests/prune/prune_test_graphs.h"

namespace outpost::testing {
namespace {

using prune::AnalyzeChannels;
using prune::ApplyChannelPruning;
using prune::ChannelAnalysis;
using prune::KeepMap;

int GroupOf(const ir::Graph& g, const ChannelAnalysis& a, const std::string& producer) {
  for (int s : a.groups)
    if (prune::SpaceName(g, a, s) == producer) return s;
  return -1;
}

KeepMap KeepOnly(const ChannelAnalysis& a, int space, std::vector<int64_t> kept) {
  KeepMap keep(a.spaces.size());
  keep[space] = std::move(kept);
  return keep;
}

const std::vector<int64_t>& ShapeOf(const ir::Graph& g, const std::string& tensor) {
  return g.tensors[FindTensor(g, tensor)].shape;
}

void ExpectSameOutputs(const ir::Graph& original, const ir::Graph& pruned, uint32_t seed) {
  const int64_t n = original.tensors[original.inputs[0]].num_elements();
  for (uint32_t s = seed; s < seed + 3; ++s) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(n), s);
    EXPECT_LT(MaxAbsDiff(RunOnce(original, x), RunOnce(pruned, x)), 1e-4f) << "sample seed " << s;
  }
}

TEST(ChannelGroups, FlattenGivesEachChannelItsColumnsInTheNextLayer) {
  ir::Graph g = SmallConvNet();
  const ChannelAnalysis a = AnalyzeChannels(g).value();
  ASSERT_EQ(a.groups.size(), 1u);
  const int s = GroupOf(g, a, "conv");
  ASSERT_GE(s, 0);
  const std::vector<prune::Segment>& flat = a.segments[FindTensor(g, "flatten.out")];
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(flat[0].space, s);
  EXPECT_EQ(flat[0].channels, 4);
  EXPECT_EQ(flat[0].inner, 9);  // 3x3 pooled values per channel
  ASSERT_EQ(a.frozen.size(), 1u);  // fc writes the graph output
  EXPECT_NE(a.spaces[a.frozen[0]].frozen_why.find("graph output"), std::string::npos);

  // Channels 1 and 3 are dead for the fully connected layer: its columns for them are zero.
  ir::Graph dead = g;
  auto w = dead.tensors[FindTensor(dead, "fc.w")].mutable_values<float>();
  for (int o = 0; o < 5; ++o)
    for (int c : {1, 3})
      for (int j = 0; j < 9; ++j) w[o * 36 + c * 9 + j] = 0.0f;
  const ir::Graph pruned = ApplyChannelPruning(dead, a, KeepOnly(a, s, {0, 2})).value();
  EXPECT_EQ(ShapeOf(pruned, "conv.w"), (std::vector<int64_t>{2, 2, 3, 3}));
  EXPECT_EQ(ShapeOf(pruned, "fc.w"), (std::vector<int64_t>{5, 18}));
  EXPECT_EQ(ShapeOf(pruned, "flatten.out"), (std::vector<int64_t>{1, 18}));
  EXPECT_EQ(pruned.CountMacs(), g.CountMacs() - 2 * 36 * 18 - 5 * 18);
  ExpectSameOutputs(dead, pruned, 100);
}

TEST(ChannelGroups, ResidualAddJoinsBothBranchesIntoOneGroup) {
  ir::Graph g = ResidualNet();
  const ChannelAnalysis a = AnalyzeChannels(g).value();
  ASSERT_EQ(a.groups.size(), 1u);
  const prune::ChannelSpace& sp = a.spaces[a.groups[0]];
  EXPECT_EQ(sp.producers.size(), 2u);  // A and B
  EXPECT_EQ(sp.consumers.size(), 2u);  // B and C
  KillRow(g, "A.w", "A.b", 2);
  KillRow(g, "B.w", "B.b", 2);
  const ir::Graph pruned = ApplyChannelPruning(g, a, KeepOnly(a, a.groups[0], {0, 1, 3})).value();
  EXPECT_EQ(ShapeOf(pruned, "A.w"), (std::vector<int64_t>{3, 3, 3, 3}));
  EXPECT_EQ(ShapeOf(pruned, "B.w"), (std::vector<int64_t>{3, 3, 3, 3}));
  EXPECT_EQ(ShapeOf(pruned, "C.w"), (std::vector<int64_t>{2, 3, 1, 1}));
  EXPECT_EQ(ShapeOf(pruned, "add.out"), (std::vector<int64_t>{1, 3, 5, 5}));
  ExpectSameOutputs(g, pruned, 200);
}

TEST(ChannelGroups, DepthwiseConvAndPerChannelConstantsFollowTheChannels) {
  ir::Graph g = DepthwiseNet();
  const ChannelAnalysis a = AnalyzeChannels(g).value();
  ASSERT_EQ(a.groups.size(), 1u);
  EXPECT_TRUE(a.depthwise[1]);
  KillRow(g, "c1.w", "c1.b", 1);
  g.tensors[FindTensor(g, "dw.b")].mutable_values<float>()[1] = 0.0f;
  const ir::Graph pruned = ApplyChannelPruning(g, a, KeepOnly(a, a.groups[0], {0, 2, 3})).value();
  EXPECT_EQ(ShapeOf(pruned, "dw.w"), (std::vector<int64_t>{3, 1, 3, 3}));
  EXPECT_EQ(pruned.nodes[1].options.AsConv2DOptions()->groups, 3);
  EXPECT_EQ(ShapeOf(pruned, "k"), (std::vector<int64_t>{1, 3, 1, 1}));
  const auto k = pruned.tensors[FindTensor(pruned, "k")].values<float>();
  EXPECT_EQ(std::vector<float>(k.begin(), k.end()), (std::vector<float>{0.5f, -1.0f, 3.0f}));
  ExpectSameOutputs(g, pruned, 300);
}

TEST(ChannelGroups, ConcatKeepsEachInputsChannelsAtTheirOffset) {
  ir::Graph g = ConcatNet();
  const ChannelAnalysis a = AnalyzeChannels(g).value();
  ASSERT_EQ(a.groups.size(), 2u);
  const int sa = GroupOf(g, a, "A"), sb = GroupOf(g, a, "B");
  ASSERT_GE(sa, 0);
  ASSERT_GE(sb, 0);
  KillRow(g, "A.w", "A.b", 1);
  KillRow(g, "B.w", "B.b", 0);
  KeepMap keep(a.spaces.size());
  keep[sa] = {0, 2};
  keep[sb] = {1};
  const ir::Graph pruned = ApplyChannelPruning(g, a, keep).value();
  EXPECT_EQ(ShapeOf(pruned, "concat.out"), (std::vector<int64_t>{1, 3, 5, 5}));
  // C keeps the columns of A's channels 0 and 2 and of B's channel 1 (position 4).
  const auto before = g.tensors[FindTensor(g, "C.w")].values<float>();
  const auto after = pruned.tensors[FindTensor(pruned, "C.w")].values<float>();
  ASSERT_EQ(after.size(), 6u);
  for (int o = 0; o < 2; ++o) {
    EXPECT_EQ(after[o * 3 + 0], before[o * 5 + 0]);
    EXPECT_EQ(after[o * 3 + 1], before[o * 5 + 2]);
    EXPECT_EQ(after[o * 3 + 2], before[o * 5 + 4]);
  }
  ExpectSameOutputs(g, pruned, 400);
}

TEST(ChannelGroups, AnOperatorPruningCannotFollowFreezesTheChannels) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 2, 4, 4});
  const int h = b.Node(opm::OpCode::CONV_2D, {x, b.RandomConst("w1", {3, 2, 1, 1}, 51), -1},
                       {1, 3, 4, 4}, ConvOpts(), "c1");
  opm::SoftmaxOptionsT so;
  so.axis = 1;
  opm::OpOptionsUnion soft;
  soft.Set(std::move(so));
  const int s = b.Node(opm::OpCode::SOFTMAX, {h}, {1, 3, 4, 4}, std::move(soft), "softmax");
  b.Output(b.Node(opm::OpCode::CONV_2D, {s, b.RandomConst("w2", {2, 3, 1, 1}, 52), -1},
                  {1, 2, 4, 4}, ConvOpts(), "c2"));
  const ChannelAnalysis a = AnalyzeChannels(b.g).value();
  EXPECT_TRUE(a.groups.empty());
  ASSERT_EQ(a.frozen.size(), 2u);
  EXPECT_EQ(prune::SpaceName(b.g, a, a.frozen[0]), "c1");
  EXPECT_NE(a.spaces[a.frozen[0]].frozen_why.find("SOFTMAX 'softmax'"), std::string::npos);
  // Asking to cut a frozen space is an error naming it.
  KeepMap keep(a.spaces.size());
  keep[a.frozen[0]] = {0, 1};
  const Expected<ir::Graph> cut = ApplyChannelPruning(b.g, a, keep);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.message().find("'c1' cannot be pruned"), std::string::npos) << cut.message();
}

TEST(ChannelGroups, RefusesBadKeepListsAndQuantizedGraphs) {
  ir::Graph g = SmallConvNet();
  const ChannelAnalysis a = AnalyzeChannels(g).value();
  const int s = a.groups[0];
  for (std::vector<int64_t> bad : {std::vector<int64_t>{2, 1}, std::vector<int64_t>{0, 4},
                                   std::vector<int64_t>{-1}}) {
    const Expected<ir::Graph> cut = ApplyChannelPruning(g, a, KeepOnly(a, s, bad));
    ASSERT_FALSE(cut.ok());
    EXPECT_NE(cut.message().find("not increasing within [0, 4)"), std::string::npos);
  }
  g.tensors[FindTensor(g, "conv.w")].dtype = opm::DType::INT8;
  const Expected<ChannelAnalysis> quantized = AnalyzeChannels(g);
  ASSERT_FALSE(quantized.ok());
  EXPECT_NE(quantized.message().find("prune the float model, then quantize"), std::string::npos)
      << quantized.message();
}

}  // namespace
}  // namespace outpost::testing
