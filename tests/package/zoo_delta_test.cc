// Model deltas on a committed zoo model: a last-layer retrain costs at most 5% of the model,
// the rebuilt model is bit for bit the new one, and compiling is deterministic (a delta
// between two compilations of the same ONNX must be nearly empty, so it has to be).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "package/model_delta.h"
#include "tests/package/retrained_variants.h"

namespace outpost::package {
namespace {

const std::string kZooOnnx = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "_" + std::to_string(::getpid()) + ".onnx"))
      .string();
}

TEST(ZooDelta, CompilingTheSameOnnxTwiceGivesIdenticalBytes) {
  auto first = testing::CompileForDelta(kZooOnnx);
  ASSERT_TRUE(first.ok()) << first.message();
  auto second = testing::CompileForDelta(kZooOnnx);
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_TRUE(*first == *second) << "two compilations differ";
}

TEST(ZooDelta, ALastLayerRetrainCostsAtMostFivePercentOfTheModel) {
  auto old_model = testing::CompileForDelta(kZooOnnx);
  ASSERT_TRUE(old_model.ok()) << old_model.message();
  const std::string retrained = TempPath("fashion_cnn_last_layer");
  auto changed = testing::WriteRetrainedOnnx(kZooOnnx, testing::Retrain::kLastLayer, retrained);
  ASSERT_TRUE(changed.ok()) << changed.message();
  EXPECT_EQ(*changed, 2u) << "the last layer's weight and bias";
  auto new_model = testing::CompileForDelta(retrained);
  std::filesystem::remove(retrained);
  ASSERT_TRUE(new_model.ok()) << new_model.message();
  ASSERT_EQ(old_model->size(), new_model->size());
  ASSERT_NE(*old_model, *new_model);

  auto delta = MakeModelDelta(*old_model, *new_model, {});
  ASSERT_TRUE(delta.ok()) << delta.message();
  const double ratio = static_cast<double>(delta->size()) / static_cast<double>(new_model->size());
  std::printf("fashion_cnn last layer: model %zu bytes, delta %zu bytes (%.2f%%)\n",
              new_model->size(), delta->size(), 100.0 * ratio);
  EXPECT_LE(ratio, 0.05);

  auto applied = ApplyModelDelta(*old_model, *delta);
  ASSERT_TRUE(applied.ok()) << applied.message();
  EXPECT_TRUE(applied->model == *new_model) << "the rebuilt model differs from the new one";
  // The weights and bias are sent; the other layers are copied.
  EXPECT_GE(applied->info.tensors_sent, 2u);
  EXPECT_GT(applied->info.tensors_copied, applied->info.tensors_sent);
}

}  // namespace
}  // namespace outpost::package
