// Shadow mode on the zoo's Fashion-MNIST CNN: the sampler's reproducibility and rate, a model
// against itself (full agreement, no error), the int8 model against the float one (high but
// imperfect agreement), candidates that cannot load or cannot run (counted, the active model
// unaffected), and the budget that keeps shadow work from starving the active model.
#include "agent/shadow/shadow_comparator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "io/session.h"
#include "tests/agent/fashion_fixture.h"

namespace outpost::agent {
namespace {

using testing::Fashion;
using namespace std::chrono_literals;

ShadowOptions EveryFrame() {
  ShadowOptions o;
  o.rate = 1.0;
  return o;
}

TEST(ShadowSampler, ReproducibleAndCloseToItsRate) {
  const ShadowSampler a(0.25, 42), b(0.25, 42), other(0.25, 43);
  int taken = 0, same = 0;
  for (uint64_t f = 0; f < 20000; ++f) {
    EXPECT_EQ(a.Take(f), b.Take(f));
    taken += a.Take(f);
    same += a.Take(f) == other.Take(f);
  }
  EXPECT_NEAR(taken / 20000.0, 0.25, 0.01);
  EXPECT_LT(same, 20000);  // another seed picks other frames
  const ShadowSampler none(0.0, 1), all(1.0, 1);
  for (uint64_t f = 0; f < 1000; ++f) {
    EXPECT_FALSE(none.Take(f));
    EXPECT_TRUE(all.Take(f));
  }
}

class ShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FashionAvailable())
      GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
    active_model_ = std::make_unique<io::LoadedModel>(
        io::LoadedModel::FromBytes("active.opm", Fashion().float_opm).value());
    active_ = io::Session::Create(*active_model_).value();
  }

  // The active model's loop: run, act on its output (here: keep the predicted classes), then
  // offer the frame to the shadow. Frames cycle through `samples` (default: the test images).
  // Returns the active predictions.
  std::vector<size_t> RunFrames(ShadowComparator* shadow, size_t frames,
                                const std::vector<std::vector<float>>* samples = nullptr) {
    if (!samples) samples = &Fashion().fresh.samples;
    std::vector<size_t> predicted;
    std::vector<float> out;
    for (size_t i = 0; i < frames; ++i) {
      const std::vector<float>& x = (*samples)[i % samples->size()];
      EXPECT_TRUE(active_->SetInputFromFloat(0, x).ok());
      EXPECT_TRUE(active_->Run().ok());
      active_->OutputAsFloat(0, out);
      predicted.push_back(static_cast<size_t>(std::max_element(out.begin(), out.end()) - out.begin()));
      if (shadow) {
        const std::span<const float> outputs[1] = {out};
        shadow->Observe(x, outputs);
      }
    }
    return predicted;
  }

  std::unique_ptr<io::LoadedModel> active_model_;
  std::unique_ptr<io::Session> active_;
};

TEST_F(ShadowTest, ModelAgainstItselfAgreesFullyWithNoError) {
  auto shadow = ShadowComparator::Create(
                    io::LoadedModel::FromBytes("same.opm", Fashion().float_opm).value(),
                    EveryFrame())
                    .value();
  RunFrames(shadow.get(), 200);
  const ShadowStats& s = shadow->stats();
  EXPECT_EQ(s.frames, 200u);
  EXPECT_EQ(s.compared, 200u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(s.top1_compared, 200u);
  EXPECT_EQ(s.agreement(), 1.0);
  EXPECT_EQ(s.max_abs_error, 0.0);
  EXPECT_EQ(s.mean_abs_error(), 0.0);
  EXPECT_EQ(s.values_compared, 2000u);
  EXPECT_GT(s.latency_total_ns, 0);
}

TEST_F(ShadowTest, Int8CandidateAgreesHighlyButNotFully) {
  auto shadow = ShadowComparator::Create(
                    io::LoadedModel::FromBytes("int8.opm", Fashion().int8_opm).value(),
                    EveryFrame())
                    .value();
  // 2,000 test images with noise added: inputs the model is less sure of, where int8 rounding
  // flips a decision now and then (on clean test images it may flip none).
  std::vector<std::vector<float>> noisy;
  for (const auto* set : {&Fashion().fresh.samples, &Fashion().reference.samples})
    for (const auto& x : *set)
      noisy.push_back(testing::MapPixels(x, Fashion().float_graph, [](float v, uint64_t i) {
        uint64_t h = (i + 7) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 32;
        const float u = static_cast<float>(h >> 40) / static_cast<float>(1ull << 24);
        return std::clamp(v + 0.8f * (u - 0.5f), 0.0f, 1.0f);
      }));
  RunFrames(shadow.get(), noisy.size(), &noisy);
  const ShadowStats& s = shadow->stats();
  std::printf("fashion_cnn fp32 vs int8 on %llu images: agreement %.4f (%llu differ), "
              "mean |error| %.5f, max |error| %.4f, candidate %.3f ms per frame\n",
              static_cast<unsigned long long>(s.compared), *s.agreement(),
              static_cast<unsigned long long>(s.top1_compared - s.top1_agree),
              *s.mean_abs_error(), s.max_abs_error, *s.mean_latency_ms());
  EXPECT_EQ(s.compared, 2000u);
  EXPECT_GT(*s.agreement(), 0.97);
  EXPECT_LT(*s.agreement(), 1.0);
  EXPECT_GT(s.max_abs_error, 0.0);
  EXPECT_LT(*s.mean_abs_error(), 0.5);
}

TEST_F(ShadowTest, SamplesItsShareOfFramesReproducibly) {
  ShadowOptions o;
  o.rate = 0.1;
  o.seed = 7;
  auto a = ShadowComparator::Create(
               io::LoadedModel::FromBytes("c.opm", Fashion().int8_opm).value(), o).value();
  auto b = ShadowComparator::Create(
               io::LoadedModel::FromBytes("c.opm", Fashion().int8_opm).value(), o).value();
  RunFrames(a.get(), 500);
  RunFrames(b.get(), 500);
  EXPECT_EQ(a->stats().sampled, b->stats().sampled);
  EXPECT_EQ(a->stats().top1_agree, b->stats().top1_agree);
  EXPECT_EQ(a->stats().sum_abs_error, b->stats().sum_abs_error);
  EXPECT_GT(a->stats().sampled, 30u);
  EXPECT_LT(a->stats().sampled, 70u);
  EXPECT_EQ(a->stats().compared, a->stats().sampled);
  a->StartWindow();
  EXPECT_EQ(a->stats().frames, 0u);
  EXPECT_FALSE(a->stats().agreement().has_value());
}

TEST_F(ShadowTest, CandidateThatFailsToLoadIsReportedAndTheActiveModelRuns) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "outpost_shadow_truncated.opm";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(Fashion().int8_opm.data()),
            static_cast<std::streamsize>(Fashion().int8_opm.size() / 2));
  }
  auto shadow = ShadowComparator::Create(path.string(), EveryFrame());
  std::filesystem::remove(path);
  ASSERT_FALSE(shadow.ok());
  EXPECT_EQ(shadow.message().rfind("shadow candidate: ", 0), 0u) << shadow.message();
  EXPECT_NE(shadow.message().find("outpost_shadow_truncated.opm"), std::string::npos);
  const std::vector<size_t> alone = RunFrames(nullptr, 50);
  EXPECT_EQ(alone.size(), 50u);
}

TEST_F(ShadowTest, CandidateThatFailsToRunIsCountedAndTheActivePathIsUnchanged) {
  // A model of another input: it loads, but cannot take the active model's frames.
  const std::string onnx =
      std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/ad_autoencoder/model.onnx";
  const std::vector<uint8_t> other =
      compiler::CompileOnnxToOpm(onnx, compiler::CompileOptions{}).value();
  auto shadow = ShadowComparator::Create(io::LoadedModel::FromBytes("other.opm", other).value(),
                                         EveryFrame())
                    .value();
  const std::vector<size_t> alone = RunFrames(nullptr, 100);
  const std::vector<size_t> shadowed = RunFrames(shadow.get(), 100);
  EXPECT_EQ(shadowed, alone);
  const ShadowStats& s = shadow->stats();
  EXPECT_EQ(s.sampled, 100u);
  EXPECT_EQ(s.failures, 100u);
  EXPECT_EQ(s.compared, 0u);
  EXPECT_FALSE(s.agreement().has_value());
  EXPECT_EQ(s.values_compared, 0u);
  EXPECT_NE(s.last_failure.find("takes 640 values, got 784"), std::string::npos) << s.last_failure;
  std::printf("candidate failure: %s\n", s.last_failure.c_str());
}

TEST_F(ShadowTest, ActiveOutputsAreUntouchedByTheCandidate) {
  auto shadow = ShadowComparator::Create(
                    io::LoadedModel::FromBytes("int8.opm", Fashion().int8_opm).value(),
                    EveryFrame())
                    .value();
  const std::vector<float>& x = Fashion().fresh.samples[3];
  ASSERT_TRUE(active_->SetInputFromFloat(0, x).ok());
  ASSERT_TRUE(active_->Run().ok());
  const std::vector<float> before = active_->OutputAsFloat(0);
  const std::span<const float> outputs[1] = {before};
  shadow->Observe(x, outputs);
  ASSERT_EQ(shadow->stats().compared, 1u);
  // The candidate ran in its own arena: the active session's output is what it was.
  EXPECT_EQ(active_->OutputAsFloat(0), before);
}

TEST_F(ShadowTest, BudgetSkipsShadowWorkThatWouldStarveTheActiveModel) {
  // A frame period no shadow run fits in: after the first run, every sampled frame is skipped.
  ShadowOptions tight;
  tight.rate = 1.0;
  tight.frame_period = 1ns;
  auto starved = ShadowComparator::Create(
                     io::LoadedModel::FromBytes("int8.opm", Fashion().int8_opm).value(), tight)
                     .value();
  RunFrames(starved.get(), 100);
  EXPECT_EQ(starved->stats().compared, 1u);
  EXPECT_EQ(starved->stats().skipped_budget, 99u);

  // A period the candidate fits in many times over: nothing is skipped.
  ShadowOptions roomy = tight;
  roomy.frame_period = 100s;
  auto fits = ShadowComparator::Create(
                  io::LoadedModel::FromBytes("int8.opm", Fashion().int8_opm).value(), roomy)
                  .value();
  RunFrames(fits.get(), 100);
  EXPECT_EQ(fits->stats().compared, 100u);
  EXPECT_EQ(fits->stats().skipped_budget, 0u);
}

TEST_F(ShadowTest, RefusesBadOptions) {
  ShadowOptions o;
  o.rate = 1.5;
  auto bad =
      ShadowComparator::Create(io::LoadedModel::FromBytes("c.opm", Fashion().int8_opm).value(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "shadow: the sampling rate must be between 0 and 1");
}

}  // namespace
}  // namespace outpost::agent
