// The pruning flow: ranking, targets, the least-squares refit and its solver, and errors.
#include <gtest/gtest.h>

#include "compiler/prune/pruner.h"
#include "compiler/prune/reconstruction.h"
#include "tests/prune/prune_test_graphs.h"

namespace outpost::testing {
namespace {

using prune::PruneGraph;
using prune::PruneOptions;

// x[1,3,6,6] -c1 (3->4, linear)-> h -c2 (4->2)-> y, where channel 3 of h is exactly 0.1 x
// channel 1: removing channel 3 loses nothing that c2 cannot get back from channel 1.
ir::Graph RedundantChannelNet() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 3, 6, 6});
  std::vector<float> w1 = RandomFloats(4 * 27, 61);
  std::vector<float> b1 = RandomFloats(4, 62);
  for (int k = 0; k < 27; ++k) w1[3 * 27 + k] = 0.1f * w1[1 * 27 + k];
  b1[3] = 0.1f * b1[1];
  const int h = b.Node(opm::OpCode::CONV_2D,
                       {x, b.Const("c1.w", {4, 3, 3, 3}, w1), b.Const("c1.b", {4}, b1)},
                       {1, 4, 6, 6}, ConvOpts(1, 1), "c1");
  b.Output(b.Node(opm::OpCode::CONV_2D,
                  {h, b.RandomConst("c2.w", {2, 4, 3, 3}, 63), b.RandomConst("c2.b", {2}, 64)},
                  {1, 2, 6, 6}, ConvOpts(1, 1), "c2"));
  return b.g;
}

TEST(PruneSolver, SolvesARidgeSystem) {
  // A = [[4, 2], [2, 3]], B = [[2, 1], [1, 2]] (two right-hand sides): X = A^-1 B.
  std::vector<double> b = {2, 1, 1, 2};
  ASSERT_TRUE(prune::SolveRidge({4, 2, 2, 3}, 2, b, 2, 0.0, 2));
  EXPECT_NEAR(b[0], 0.5, 1e-12);
  EXPECT_NEAR(b[1], -0.125, 1e-12);
  EXPECT_NEAR(b[2], 0.0, 1e-12);
  EXPECT_NEAR(b[3], 0.75, 1e-12);
  // A singular matrix fails without a ridge and is solved with one.
  std::vector<double> c = {1, 1};
  EXPECT_FALSE(prune::SolveRidge({1, 1, 1, 1}, 2, c, 1, 0.0, 2));
  c = {1, 1};
  EXPECT_TRUE(prune::SolveRidge({1, 1, 1, 1}, 2, c, 1, 1e-3, 2));
  EXPECT_NEAR(c[0] + c[1], 1.0, 1e-3);
}

TEST(Prune, RefitRecoversARedundantChannel) {
  const ir::Graph g = RedundantChannelNet();
  const quant::Dataset data = RandomData(g, 40, 7);
  PruneOptions o;
  o.ratio = 0.25;  // one of four channels: the smallest L1 norm is channel 3
  o.reconstruction.ridge_conv = 1e-9;
  const prune::PruneResult r = PruneGraph(g, &data, o).value();
  ASSERT_EQ(r.report.groups.size(), 1u);
  EXPECT_EQ(r.report.groups[0].kept, 3);
  ASSERT_EQ(r.report.fits.size(), 1u);
  EXPECT_EQ(r.report.fits[0].node, "c2");
  EXPECT_GT(r.report.fits[0].error_before, 1e-4);
  EXPECT_LT(r.report.fits[0].error_after, 1e-8);
  const quant::Dataset fresh = RandomData(g, 3, 99);
  for (const std::vector<float>& x : fresh.samples)
    EXPECT_LT(RelativeError(RunOnce(g, x), RunOnce(r.graph, x)), 1e-3f);

  // Without the refit the cut loses channel 3's contribution.
  o.reconstruct = false;
  const prune::PruneResult cut = PruneGraph(g, nullptr, o).value();
  EXPECT_GT(RelativeError(RunOnce(g, fresh.samples[0]), RunOnce(cut.graph, fresh.samples[0])),
            1e-3f);
}

TEST(Prune, ReconstructionCriterionDropsTheChannelTheNextLayerIgnores) {
  // c2 ignores channel 0 of h (zero columns), although c1's row 0 has the largest norm.
  ir::Graph g = RedundantChannelNet();
  auto w1 = g.tensors[FindTensor(g, "c1.w")].mutable_values<float>();
  for (int k = 0; k < 27; ++k) w1[k] *= 10.0f;
  auto w2 = g.tensors[FindTensor(g, "c2.w")].mutable_values<float>();
  for (int o = 0; o < 2; ++o)
    for (int k = 0; k < 9; ++k) w2[o * 36 + k] = 0.0f;
  const quant::Dataset data = RandomData(g, 20, 8);
  const quant::Dataset fresh = RandomData(g, 1, 98);
  PruneOptions o;
  o.ratio = 0.25;
  o.reconstruct = false;
  o.criterion = prune::Criterion::kReconstruction;
  const prune::PruneResult greedy = PruneGraph(g, &data, o).value();
  EXPECT_LT(MaxAbsDiff(RunOnce(g, fresh.samples[0]), RunOnce(greedy.graph, fresh.samples[0])),
            1e-4f);
  o.criterion = prune::Criterion::kL1;
  const prune::PruneResult l1 = PruneGraph(g, &data, o).value();
  EXPECT_GT(MaxAbsDiff(RunOnce(g, fresh.samples[0]), RunOnce(l1.graph, fresh.samples[0])), 1e-3f);
}

TEST(Prune, MacTargetIsMetWithTheSmallestCut) {
  const ir::Graph g = DepthwiseNet();
  PruneOptions o;
  o.reconstruct = false;
  o.target_macs = g.CountMacs() * 6 / 10;
  const prune::PruneResult r = PruneGraph(g, nullptr, o).value();
  EXPECT_LE(r.report.macs_after, *o.target_macs);
  EXPECT_EQ(r.report.macs_after, r.graph.CountMacs());
  // One channel fewer removed would miss the target: 4 channels, the search keeps the most.
  ASSERT_EQ(r.report.groups.size(), 1u);
  PruneOptions less = o;
  less.target_macs.reset();
  less.ratio = double(4 - r.report.groups[0].kept - 1) / 4.0;
  EXPECT_GT(PruneGraph(g, nullptr, less).value().report.macs_after, *o.target_macs);
}

TEST(Prune, ACostTargetIsSearchedWithTheGivenMeasurement) {
  const ir::Graph g = ConcatNet();
  PruneOptions o;
  o.reconstruct = false;
  o.target_cost = 0.5 * double(g.CountMacs());
  o.cost = [](const ir::Graph& x) -> Expected<double> { return double(x.CountMacs()); };
  const prune::PruneResult r = PruneGraph(g, nullptr, o).value();
  ASSERT_TRUE(r.report.cost_after.has_value());
  EXPECT_LE(*r.report.cost_after, *o.target_cost);
  EXPECT_EQ(*r.report.cost_before, double(g.CountMacs()));
}

TEST(Prune, RefusesBadRequestsWithOneClearError) {
  const ir::Graph g = SmallConvNet();
  const quant::Dataset data = RandomData(g, 4, 1);
  auto message = [&](PruneOptions o, const quant::Dataset* d) {
    const Expected<prune::PruneResult> r = PruneGraph(g, d, o);
    return r.ok() ? std::string("ok") : r.message();
  };
  PruneOptions none;
  EXPECT_NE(message(none, &data).find("exactly one pruning target"), std::string::npos);
  PruneOptions two;
  two.ratio = 0.5;
  two.target_macs = 100;
  EXPECT_NE(message(two, &data).find("exactly one pruning target"), std::string::npos);
  PruneOptions whole;
  whole.ratio = 1.0;
  EXPECT_NE(message(whole, &data).find("must be in [0, 1)"), std::string::npos);
  PruneOptions no_data;
  no_data.ratio = 0.5;
  EXPECT_NE(message(no_data, nullptr).find("calibration data is needed"), std::string::npos);
  PruneOptions unknown = no_data;
  unknown.exclude = {"nope"};
  EXPECT_NE(message(unknown, &data).find("no node named 'nope'"), std::string::npos);
  PruneOptions unreachable;
  unreachable.target_macs = 1;
  unreachable.reconstruct = false;
  EXPECT_NE(message(unreachable, nullptr).find("no channel pruning reaches"), std::string::npos);
  PruneOptions excluded = no_data;
  excluded.exclude = {"conv"};
  EXPECT_NE(message(excluded, &data).find("no prunable channel group"), std::string::npos);
}

}  // namespace
}  // namespace outpost::testing
