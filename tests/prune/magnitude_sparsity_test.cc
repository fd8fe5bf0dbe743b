// Unstructured magnitude sparsity: exactly the asked share of each layer's smallest weights
// becomes zero, small, depthwise and excluded layers stay dense, and the emitted model stores
// the sparse weights compactly and still runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "compiler/prune/magnitude_sparsity.h"
#include "compiler/prune/reconstruction.h"
#include "tests/prune/prune_test_graphs.h"

namespace outpost::testing {
namespace {

using prune::ApplyMagnitudeSparsity;
using prune::SparsityOptions;

int64_t Zeros(const ir::Graph& g, const std::string& tensor) {
  const auto v = g.tensors[FindTensor(g, tensor)].values<float>();
  return std::count(v.begin(), v.end(), 0.0f);
}

// x[1,256] -fc1 (256->64, ReLU)-> -fc2 (64->10)-> y: fc1 has 16,384 weights, fc2 640.
ir::Graph TwoLayerMlp() {
  GraphBuilder b;
  const int x = b.Input("x", {1, 256});
  const int h = b.Node(opm::OpCode::FULLY_CONNECTED,
                       {x, b.RandomConst("fc1.w", {64, 256}, 71), b.RandomConst("fc1.b", {64}, 72)},
                       {1, 64}, FcOpts(opm::Activation::RELU), "fc1");
  b.Output(b.Node(opm::OpCode::FULLY_CONNECTED,
                  {h, b.RandomConst("fc2.w", {10, 64}, 73), b.RandomConst("fc2.b", {10}, 74)},
                  {1, 10}, FcOpts(), "fc2"));
  return b.g;
}

TEST(MagnitudeSparsity, ZeroesExactlyTheSmallestShareOfEachLayer) {
  ir::Graph g = ResidualNet();
  const ir::Graph before = g;
  SparsityOptions o;
  o.sparsity = 0.6;
  o.min_weights = 1;
  const prune::SparsityReport r = ApplyMagnitudeSparsity(g, o).value();
  ASSERT_EQ(r.layers.size(), 3u);
  for (const prune::SparseLayer& l : r.layers) {
    const std::string w = l.node + ".w";
    const auto old = before.tensors[FindTensor(before, w)].values<float>();
    const auto now = g.tensors[FindTensor(g, w)].values<float>();
    const int64_t want = std::llround(0.6 * double(old.size()));
    EXPECT_EQ(Zeros(g, w), want) << l.node;
    EXPECT_EQ(l.zeros_after, want);
    // Every weight kept is at least as large as every weight cut, and kept ones are unchanged.
    float largest_cut = 0, smallest_kept = 1e30f;
    for (size_t i = 0; i < old.size(); ++i) {
      if (now[i] == 0.0f) {
        largest_cut = std::max(largest_cut, std::fabs(old[i]));
      } else {
        EXPECT_EQ(now[i], old[i]);
        smallest_kept = std::min(smallest_kept, std::fabs(old[i]));
      }
    }
    EXPECT_LE(largest_cut, smallest_kept) << l.node;
  }
  // Biases are not touched.
  EXPECT_EQ(Zeros(g, "A.b"), Zeros(before, "A.b"));
}

TEST(MagnitudeSparsity, LeavesSmallDepthwiseAndExcludedLayersDense) {
  ir::Graph g = DepthwiseNet();  // c1 72 weights, dw 36 (depthwise), c2 108
  SparsityOptions o;
  o.sparsity = 0.5;
  o.min_weights = 100;
  prune::SparsityReport r = ApplyMagnitudeSparsity(g, o).value();
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].node, "c2");
  EXPECT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(Zeros(g, "c1.w"), 0);
  EXPECT_EQ(Zeros(g, "dw.w"), 0);

  ir::Graph h = DepthwiseNet();
  o.exclude = {"c2"};
  const Expected<prune::SparsityReport> none = ApplyMagnitudeSparsity(h, o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("no convolution or fully connected layer"), std::string::npos);
  o.exclude = {"nope"};
  EXPECT_NE(ApplyMagnitudeSparsity(h, o).message().find("no node named 'nope'"),
            std::string::npos);
  o.exclude.clear();
  o.sparsity = 1.0;
  EXPECT_NE(ApplyMagnitudeSparsity(h, o).message().find("sparsity must be in [0, 1)"),
            std::string::npos);
}

TEST(MagnitudeSparsity, TheEmittedModelIsSmallerAndRunsTheSparseWeights) {
  ir::Graph dense = TwoLayerMlp();
  ir::Graph sparse = dense;
  SparsityOptions o;
  o.sparsity = 0.75;
  const prune::SparsityReport r = ApplyMagnitudeSparsity(sparse, o).value();
  ASSERT_EQ(r.layers.size(), 1u);  // fc2 has 640 weights, under the default 1024
  EXPECT_EQ(r.zeros, 12288);

  plan::PlanMemory(dense);
  plan::PlanMemory(sparse);
  const size_t dense_bytes = emit::EmitOpm(dense).size();
  const size_t sparse_bytes = emit::EmitOpm(sparse).size();
  // fc1's 64 KiB of weights become a 2 KiB bitmap and 16 KiB of values.
  EXPECT_LT(sparse_bytes + 45000, dense_bytes);

  // The runtime runs the stored-sparse file: its output is the sparse weights' product.
  const std::vector<float> x = RandomFloats(256, 75);
  const std::vector<float> got = RunOnce(sparse, x);
  const auto w1 = sparse.tensors[FindTensor(sparse, "fc1.w")].values<float>();
  const auto b1 = sparse.tensors[FindTensor(sparse, "fc1.b")].values<float>();
  const auto w2 = sparse.tensors[FindTensor(sparse, "fc2.w")].values<float>();
  const auto b2 = sparse.tensors[FindTensor(sparse, "fc2.b")].values<float>();
  std::vector<double> h(64);
  for (int o1 = 0; o1 < 64; ++o1) {
    double s = b1[o1];
    for (int k = 0; k < 256; ++k) s += double(w1[o1 * 256 + k]) * x[k];
    h[o1] = std::max(0.0, s);
  }
  ASSERT_EQ(got.size(), 10u);
  for (int o2 = 0; o2 < 10; ++o2) {
    double s = b2[o2];
    for (int k = 0; k < 64; ++k) s += double(w2[o2 * 64 + k]) * h[k];
    EXPECT_NEAR(got[o2], s, 1e-4 * (1 + std::fabs(s))) << o2;
  }
}

TEST(MagnitudeSparsity, MaskedSolverMatchesTheSubsetSolution) {
  // A 4x4 SPD system (3 weights + bias), one output whose weight 1 is masked out: the masked
  // solution is the solution of the system restricted to unknowns {0, 2, 3}.
  const std::vector<double> a = {5, 1, 0.5, 1, 1, 4, 1, 0.5, 0.5, 1, 3, 1, 1, 0.5, 1, 2};
  const std::vector<double> b = {1, 2, 3, 4};
  std::vector<double> x = {0, 0, 0, 0};
  prune::SolveMaskedRidge(a, 4, b, 1, 0.0, {1, 0, 1}, x);
  std::vector<double> sub = {5, 0.5, 1, 0.5, 3, 1, 1, 1, 2};
  std::vector<double> want = {1, 3, 4};
  ASSERT_TRUE(prune::SolveRidge(sub, 3, want, 1, 0.0, 0));
  EXPECT_EQ(x[1], 0.0);
  EXPECT_NEAR(x[0], want[0], 1e-9);
  EXPECT_NEAR(x[2], want[1], 1e-9);
  EXPECT_NEAR(x[3], want[2], 1e-9);
}

// Inputs of TwoLayerMlp that lie near a 24-dimensional subspace, as real features do (pixels
// and activations are strongly correlated): the refit can move a cut weight's contribution onto
// the weights that stay. On white noise magnitude pruning is already the best fit.
quant::Dataset CorrelatedData(int n, uint32_t seed) {
  const std::vector<float> basis = RandomFloats(256 * 24, 91);
  const std::vector<float> noise = RandomFloats(static_cast<size_t>(n) * 256, seed, -0.05f, 0.05f);
  quant::Dataset d;
  for (int i = 0; i < n; ++i) {
    const std::vector<float> z = RandomFloats(24, seed * 1000 + i);
    std::vector<float> x(256);
    for (int k = 0; k < 256; ++k) {
      float v = noise[i * 256 + k];
      for (int j = 0; j < 24; ++j) v += basis[k * 24 + j] * z[j];
      x[k] = v;
    }
    d.samples.push_back(std::move(x));
  }
  return d;
}

TEST(MagnitudeSparsity, RefitKeepsTheZerosAndLowersTheOutputError) {
  const ir::Graph dense = TwoLayerMlp();
  ir::Graph cut = dense;
  SparsityOptions o;
  o.sparsity = 0.7;
  o.min_weights = 100;  // fc1 and fc2
  prune::SparsityReport r = ApplyMagnitudeSparsity(cut, o).value();
  ASSERT_EQ(r.layers.size(), 2u);
  ir::Graph refit = cut;
  const quant::Dataset data = CorrelatedData(400, 5);
  ASSERT_TRUE(prune::RefitSparseLayers(dense, refit, &r, data, {}).ok());
  ASSERT_EQ(r.fits.size(), 2u);
  for (const prune::LayerFit& f : r.fits)
    EXPECT_LT(f.error_after, f.error_before * 0.5) << f.node;
  EXPECT_EQ(r.calibration_samples, 400);

  // Exactly the same weights are zero after the refit.
  for (const char* w : {"fc1.w", "fc2.w"}) {
    const auto before = cut.tensors[FindTensor(cut, w)].values<float>();
    const auto after = refit.tensors[FindTensor(refit, w)].values<float>();
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i)
      ASSERT_EQ(before[i] == 0.0f, after[i] == 0.0f) << w << " " << i;
  }
  // On inputs the fit never saw, the refitted model is closer to the dense one.
  const quant::Dataset fresh = CorrelatedData(20, 77);
  double err_cut = 0, err_refit = 0;
  for (const std::vector<float>& x : fresh.samples) {
    const std::vector<float> want = RunOnce(dense, x);
    err_cut += RelativeError(want, RunOnce(cut, x));
    err_refit += RelativeError(want, RunOnce(refit, x));
  }
  EXPECT_LT(err_refit, err_cut * 0.7) << err_refit << " vs " << err_cut;
}

}  // namespace
}  // namespace outpost::testing
