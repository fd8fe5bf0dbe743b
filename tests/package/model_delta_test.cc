// Model deltas on small models: round trips, what is copied and what is sent, the header.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "package/model_delta.h"
#include "package/opm_buffers.h"
#include "tests/package/delta_test_models.h"

namespace outpost::package {
namespace {

using testing::SmallModel;
using testing::WithChangedBuffer;

const std::vector<uint8_t> kEnvelope = {'e', 'n', 'v', 0, 1, 2, 3};

size_t BufferCount(const std::vector<uint8_t>& opm) {
  return ReadVerifiedBuffers(opm, "model").value().size();
}

TEST(ModelDelta, RebuildsTheNewModelBitForBitWithItsEnvelope) {
  auto old_model = SmallModel();
  auto new_model = WithChangedBuffer(old_model, 0);
  ASSERT_NE(old_model, new_model);
  auto delta = MakeModelDelta(old_model, new_model, kEnvelope);
  ASSERT_TRUE(delta.ok()) << delta.message();
  auto applied = ApplyModelDelta(old_model, *delta);
  ASSERT_TRUE(applied.ok()) << applied.message();
  EXPECT_EQ(applied->model, new_model);
  EXPECT_EQ(applied->envelope, kEnvelope);
  EXPECT_EQ(applied->info.tensors_sent, 1u);
  EXPECT_EQ(applied->info.tensors_copied + 1, BufferCount(new_model));
}

TEST(ModelDelta, CopiesEveryBufferOfAnUnchangedModel) {
  const auto model = SmallModel();
  auto delta = MakeModelDelta(model, model, {});
  ASSERT_TRUE(delta.ok()) << delta.message();
  auto info = ReadModelDeltaInfo(*delta);
  ASSERT_TRUE(info.ok()) << info.message();
  EXPECT_EQ(info->tensors_sent, 0u);
  EXPECT_EQ(info->tensors_copied, BufferCount(model));
  EXPECT_EQ(info->target_bytes, model.size());
  EXPECT_EQ(info->base_bytes, model.size());
  EXPECT_EQ(info->delta_bytes, delta->size());
  EXPECT_EQ(info->format_major, kDeltaFormatMajor);
  EXPECT_EQ(info->base_hash, info->target_hash);
  EXPECT_EQ(info->base_hash, Blake2b256(model));
  auto applied = ApplyModelDelta(model, *delta);
  ASSERT_TRUE(applied.ok()) << applied.message();
  EXPECT_EQ(applied->model, model);
  EXPECT_TRUE(applied->envelope.empty());
}

TEST(ModelDelta, WorksInBothDirectionsAndAcrossSeveralChanges) {
  const auto a = SmallModel();
  const auto b = WithChangedBuffer(WithChangedBuffer(a, 0, 3), 1, 5);
  for (const auto& [from, to] : {std::pair(a, b), std::pair(b, a)}) {
    auto delta = MakeModelDelta(from, to, kEnvelope, 3);
    ASSERT_TRUE(delta.ok()) << delta.message();
    auto applied = ApplyModelDelta(from, *delta);
    ASSERT_TRUE(applied.ok()) << applied.message();
    EXPECT_EQ(applied->model, to);
    EXPECT_EQ(applied->info.tensors_sent, 2u);
  }
}

TEST(ModelDelta, RefusesToMakeADeltaFromAModelWhoseHashesLie) {
  auto model = SmallModel();
  const auto buffers = ReadVerifiedBuffers(model, "model").value();
  ASSERT_FALSE(buffers.empty());
  model[buffers[0].offset] ^= 0x40;  // bytes changed, stored hash not
  auto delta = MakeModelDelta(SmallModel(), model, {});
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.message(), "new model: buffer 0 does not match its stored content hash");
  auto reverse = MakeModelDelta(model, SmallModel(), {});
  ASSERT_FALSE(reverse.ok());
  EXPECT_NE(reverse.message().find("old model: "), std::string::npos) << reverse.message();
}

TEST(ModelDelta, RefusesToMakeADeltaFromBytesThatAreNoModel) {
  const std::vector<uint8_t> junk(100, 7);
  auto delta = MakeModelDelta(junk, SmallModel(), {});
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.message().rfind("old model: ", 0), 0u) << delta.message();
}

// The committed fuzzing seeds are deltas against valid_small.opm; they must stay applicable
// or the fuzzer starts from nothing. OUTPOST_WRITE_DELTA_SEEDS=DIR rewrites them.
TEST(ModelDelta, FuzzSeedsApplyToTheFuzzBase) {
  const auto base = SmallModel();
  const std::string dir = std::string(OUTPOST_SOURCE_DIR) + "/tests/fuzz/corpus/delta";
  if (const char* out = std::getenv("OUTPOST_WRITE_DELTA_SEEDS")) {
    const auto one = WithChangedBuffer(base, 0);
    const auto two = WithChangedBuffer(one, 1, 9);
    testing::WriteBytes(std::string(out) + "/unchanged.delta",
                        MakeModelDelta(base, base, {}).value());
    testing::WriteBytes(std::string(out) + "/one_tensor.delta",
                        MakeModelDelta(base, one, kEnvelope).value());
    testing::WriteBytes(std::string(out) + "/two_tensors.delta",
                        MakeModelDelta(base, two, {}, 1).value());
  }
  size_t seeds = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto applied = ApplyModelDelta(base, testing::ReadBytes(e.path().string()));
    EXPECT_TRUE(applied.ok()) << e.path() << ": " << applied.message();
    ++seeds;
  }
  EXPECT_GE(seeds, 3u);
}

}  // namespace
}  // namespace outpost::package
