// Drift windows of the zoo's Fashion-MNIST CNN against the reference it carries (1,000 test
// images): the reference data itself and 1,000 other test images read as stable; brightened, noisy and class-imbalanced inputs read as significant drift.
#include "agent/drift/drift_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "io/session.h"
#include "tests/agent/fashion_fixture.h"

namespace outpost::agent {
namespace {

using testing::Fashion;

class DriftMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FashionAvailable())
      GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
    model_ = std::make_unique<io::LoadedModel>(
        io::LoadedModel::FromBytes("fashion.opm", Fashion().float_opm).value());
    session_ = io::Session::Create(*model_).value();
  }

  // Runs the model on every sample and returns the window's report.
  DriftReport Window(const std::vector<std::vector<float>>& samples, const char* label) {
    DriftMonitor drift = DriftMonitor::ForModel(*model_).value();
    for (const auto& x : samples) {
      EXPECT_TRUE(session_->SetInputFromFloat(0, x).ok());
      EXPECT_TRUE(session_->Run().ok());
      EXPECT_TRUE(drift.Observe(x, *session_).ok());
    }
    DriftReport r = drift.Report();
    std::printf("%-26s", label);
    for (const DriftFigure& f : r.figures)
      std::printf("  %s %.4f (%s)", f.what.c_str(), f.psi, PsiLevelName(f.level));
    if (!r.channels.empty()) std::printf("  mean shift %.3f std", r.channels[0].shift);
    std::printf("\n");
    return r;
  }

  static double Figure(const DriftReport& r, const std::string& what) {
    for (const DriftFigure& f : r.figures)
      if (f.what == what) return f.psi;
    ADD_FAILURE() << "no figure " << what;
    return -1;
  }

  std::unique_ptr<io::LoadedModel> model_;
  std::unique_ptr<io::Session> session_;
};

constexpr const char* kClasses = "output 'output' classes";
constexpr const char* kScore = "output 'output' top-1 score";
constexpr const char* kPixels = "input 'input' values";

TEST_F(DriftMonitorTest, ReferenceDataAgainstItselfIsZero) {
  const DriftReport r = Window(Fashion().reference.samples, "reference data");
  EXPECT_EQ(r.samples, 1000u);
  ASSERT_EQ(r.figures.size(), 3u);
  // Same images, same model, same bins: the output histograms are identical.
  EXPECT_NEAR(Figure(r, kClasses), 0.0, 1e-12);
  EXPECT_NEAR(Figure(r, kScore), 0.0, 1e-12);
  // The reference's input histogram was counted on a fixed subset of its pixels.
  EXPECT_LT(Figure(r, kPixels), 0.01);
  ASSERT_EQ(r.channels.size(), 1u);
  EXPECT_NEAR(r.channels[0].shift, 0.0, 1e-3);
  EXPECT_LT(*r.output_psi, 1e-12);
}

TEST_F(DriftMonitorTest, FreshSampleOfTheSameDistributionIsStable) {
  const DriftReport r = Window(Fashion().fresh.samples, "1000 other test images");
  for (const DriftFigure& f : r.figures) {
    EXPECT_LT(f.psi, 0.1) << f.what;
    EXPECT_EQ(f.level, PsiLevel::kStable) << f.what;
  }
  EXPECT_LT(std::fabs(r.channels[0].shift), 0.1);
}

TEST_F(DriftMonitorTest, BrightenedImagesAreSignificantInputDrift) {
  std::vector<std::vector<float>> bright;
  for (const auto& x : Fashion().fresh.samples)
    bright.push_back(testing::MapPixels(x, Fashion().float_graph, [](float v, uint64_t) {
      return std::min(1.0f, v + 0.25f);  // +64 of 255 on every pixel
    }));
  const DriftReport r = Window(bright, "brightened (+64/255)");
  EXPECT_GT(Figure(r, kPixels), 0.25);
  EXPECT_EQ(ReadPsi(*r.input_psi), PsiLevel::kSignificant);
  EXPECT_GT(r.channels[0].shift, 0.5);
}

TEST_F(DriftMonitorTest, NoisyImagesAreSignificantInputDrift) {
  std::vector<std::vector<float>> noisy;
  for (const auto& x : Fashion().fresh.samples)
    noisy.push_back(testing::MapPixels(x, Fashion().float_graph, [](float v, uint64_t i) {
      // Deterministic noise, uniform in [-0.3, 0.3], from a hash of the pixel index.
      uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
      h ^= h >> 31;
      h *= 0xbf58476d1ce4e5b9ull;
      h ^= h >> 29;
      const float u = static_cast<float>(h >> 40) / static_cast<float>(1ull << 24);
      return std::clamp(v + 0.6f * (u - 0.5f), 0.0f, 1.0f);
    }));
  const DriftReport r = Window(noisy, "noise-added (+-0.3)");
  EXPECT_GT(Figure(r, kPixels), 0.25);
}

TEST_F(DriftMonitorTest, ClassImbalancedSampleIsSignificantOutputDrift) {
  // Only trousers, sandals and bags: classes the model tells apart well.
  std::vector<std::vector<float>> subset;
  const quant::Dataset& fresh = Fashion().fresh;
  for (size_t i = 0; i < fresh.samples.size(); ++i)
    if (fresh.labels[i] == 1 || fresh.labels[i] == 5 || fresh.labels[i] == 8)
      subset.push_back(fresh.samples[i]);
  ASSERT_GT(subset.size(), 250u);
  const DriftReport r = Window(subset, "3 of 10 classes only");
  EXPECT_GT(Figure(r, kClasses), 0.25);
  EXPECT_EQ(ReadPsi(*r.output_psi), PsiLevel::kSignificant);
}

TEST_F(DriftMonitorTest, EmptyWindowHasNoFigures) {
  DriftMonitor drift = DriftMonitor::ForModel(*model_).value();
  DriftReport r = drift.Report();
  EXPECT_EQ(r.samples, 0u);
  EXPECT_TRUE(r.figures.empty());
  EXPECT_FALSE(r.output_psi.has_value());
  EXPECT_FALSE(r.input_psi.has_value());

  const auto& x = Fashion().fresh.samples[0];
  ASSERT_TRUE(session_->SetInputFromFloat(0, x).ok());
  ASSERT_TRUE(session_->Run().ok());
  ASSERT_TRUE(drift.Observe(x, *session_).ok());
  EXPECT_EQ(drift.Report().samples, 1u);
  drift.StartWindow();
  r = drift.Report();
  EXPECT_EQ(r.samples, 0u);
  EXPECT_TRUE(r.figures.empty());
}

TEST_F(DriftMonitorTest, InputOfTheWrongSizeIsRefused) {
  DriftMonitor drift = DriftMonitor::ForModel(*model_).value();
  const std::vector<float> small(100, 0.0f);
  ASSERT_TRUE(session_->SetInputFromFloat(0, Fashion().fresh.samples[0]).ok());
  ASSERT_TRUE(session_->Run().ok());
  Expected<Unit> r = drift.Observe(small, *session_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "drift: input 'input' has 100 values, its reference 784");
  EXPECT_EQ(drift.Report().samples, 0u);
}

}  // namespace
}  // namespace outpost::agent
