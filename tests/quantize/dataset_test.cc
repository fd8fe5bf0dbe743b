// LoadDataset(): IDX, image folders and .npy, preprocessed as `outpost eval` does, and the
// data it refuses.
#include "compiler/quantize/dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/npy.h"
#include "tests/io/test_models.h"
#include "tests/optimizer/graph_builder.h"

#include "tests/support/stb_image_writer.h"

namespace outpost::quant {
namespace {

std::vector<uint8_t> IdxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A model taking [1,1,4,4] gray images: x = (pixel / 255 - 0.5) / 0.25.
ir::Graph ImageModel() {
  testing::GraphBuilder b;
  const int x = b.Input("image", {1, 1, 4, 4});
  b.Output(b.Node(opm::OpCode::RELU, {x}, {1, 1, 4, 4}, {}, "relu"));
  ir::InputSpec spec;
  spec.tensor = x;
  spec.layout = opm::Layout::NCHW;
  spec.color = opm::ColorFormat::GRAY;
  spec.value_scale = 1.0f / 255.0f;
  spec.mean = {0.5f};
  spec.std = {0.25f};
  b.g.info.input_specs.push_back(spec);
  b.g.info.labels = {"a", "b", "c"};
  return b.g;
}

float Pre(uint8_t p) { return (static_cast<float>(p) / 255.0f - 0.5f) / 0.25f; }

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("quant_dataset"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // N 4x4 images, image i filled with value 10 * i (+ k at pixel k), labels i % 3.
  void WriteIdx(int n, int side = 4) {
    std::vector<uint8_t> px, labels;
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < side * side; ++k) px.push_back(static_cast<uint8_t>(10 * i + k % 4));
      labels.push_back(static_cast<uint8_t>(i % 3));
    }
    const uint32_t s = static_cast<uint32_t>(side);
    testing::WriteBytes(images(), IdxBytes({static_cast<uint32_t>(n), s, s}, px));
    testing::WriteBytes(labels_path(), IdxBytes({static_cast<uint32_t>(n)}, labels));
  }
  std::string images() const { return dir_ + "/images.idx"; }
  std::string labels_path() const { return dir_ + "/labels.idx"; }

  std::string Error(const DatasetSource& src, const ir::Graph& g, DatasetOptions o = {}) {
    Expected<Dataset> d = LoadDataset(src, g, o);
    EXPECT_FALSE(d.ok());
    return d.ok() ? "" : d.message();
  }

  std::string dir_;
};

TEST_F(DatasetTest, IdxImagesArePreprocessedWithTheInputSpec) {
  WriteIdx(10);
  std::vector<std::string> warnings;
  Expected<Dataset> d = LoadDataset({images(), labels_path()}, ImageModel(), {}, &warnings);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->sample_shape, (std::vector<int64_t>{1, 1, 4, 4}));
  ASSERT_EQ(d->samples.size(), 10u);
  ASSERT_EQ(d->labels.size(), 10u);
  EXPECT_EQ(d->labels[4], 1);
  EXPECT_FLOAT_EQ(d->samples[3][5], Pre(31));
  EXPECT_TRUE(warnings.empty());
}

TEST_F(DatasetTest, LimitPicksEvenlySpacedSamples) {
  WriteIdx(10);
  DatasetOptions o;
  o.limit = 4;
  Expected<Dataset> d = LoadDataset({images(), labels_path()}, ImageModel(), o);
  ASSERT_TRUE(d.ok()) << d.message();
  ASSERT_EQ(d->samples.size(), 4u);
  // Samples 0, 2, 5, 7 of 10.
  const std::vector<int> want = {0, 2, 5, 7};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(d->samples[i][0], Pre(static_cast<uint8_t>(10 * want[i])));
    EXPECT_EQ(d->labels[i], want[i] % 3);
  }
}

TEST_F(DatasetTest, OtherImageSizesAreResizedWithAWarning) {
  WriteIdx(3, 8);
  std::vector<std::string> warnings;
  Expected<Dataset> d = LoadDataset({images(), ""}, ImageModel(), {}, &warnings);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->samples[0].size(), 16u);
  EXPECT_TRUE(d->labels.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("are 8x8, the model input is 4x4"), std::string::npos);
}

TEST_F(DatasetTest, FolderOfImagesLabelledBySubFolder) {
  for (const char* cls : {"a", "c"}) {
    std::filesystem::create_directories(dir_ + "/set/" + cls);
    for (int i = 0; i < 2; ++i) {
      std::vector<uint8_t> px(16, static_cast<uint8_t>(cls[0] == 'a' ? 40 + i : 200));
      const std::string p = dir_ + "/set/" + cls + "/" + std::to_string(i) + ".png";
      ASSERT_NE(stbi_write_png(p.c_str(), 4, 4, 1, px.data(), 4), 0);
    }
  }
  Expected<Dataset> d = LoadDataset({dir_ + "/set", ""}, ImageModel());
  ASSERT_TRUE(d.ok()) << d.message();
  ASSERT_EQ(d->samples.size(), 4u);
  EXPECT_EQ(d->labels, (std::vector<int>{0, 0, 2, 2}));  // the model's labels a, b, c
  EXPECT_FLOAT_EQ(d->samples[1][0], Pre(41));
  EXPECT_FLOAT_EQ(d->samples[3][15], Pre(200));
  EXPECT_NE(Error({dir_ + "/set", labels_path()}, ImageModel()).find("sub-folders"),
            std::string::npos);
}

TEST_F(DatasetTest, NpyFloatRowsAreModelInputs) {
  io::HostTensor t = io::HostTensor::Zeros(io::ElementType::kFloat32, {3, 1, 4, 4});
  for (size_t i = 0; i < 48; ++i) t.mutable_values<float>()[i] = static_cast<float>(i) * 0.5f;
  ASSERT_TRUE(io::WriteNpy(dir_ + "/x.npy", t).ok());
  io::HostTensor labels = io::HostTensor::Zeros(io::ElementType::kInt64, {3});
  labels.mutable_values<int64_t>()[2] = 2;
  ASSERT_TRUE(io::WriteNpy(dir_ + "/y.npy", labels).ok());
  Expected<Dataset> d = LoadDataset({dir_ + "/x.npy", dir_ + "/y.npy"}, ImageModel());
  ASSERT_TRUE(d.ok()) << d.message();
  ASSERT_EQ(d->samples.size(), 3u);
  EXPECT_EQ(d->samples[2][1], 16.5f);  // no preprocessing
  EXPECT_EQ(d->labels, (std::vector<int>{0, 0, 2}));
}

TEST_F(DatasetTest, NpyUint8ImagesArePreprocessed) {
  io::HostTensor t = io::HostTensor::Zeros(io::ElementType::kUint8, {2, 4, 4});
  t.mutable_values<uint8_t>()[16 + 3] = 77;
  ASSERT_TRUE(io::WriteNpy(dir_ + "/u8.npy", t).ok());
  Expected<Dataset> d = LoadDataset({dir_ + "/u8.npy", ""}, ImageModel());
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_FLOAT_EQ(d->samples[1][3], Pre(77));
  EXPECT_FLOAT_EQ(d->samples[0][0], Pre(0));
}

TEST_F(DatasetTest, RefusesNpyOfTheWrongShapeOrType) {
  ASSERT_TRUE(io::WriteNpy(dir_ + "/flat.npy",
                           io::HostTensor::Zeros(io::ElementType::kFloat32, {3, 16}))
                  .ok());
  const std::string e = Error({dir_ + "/flat.npy", ""}, ImageModel());
  EXPECT_NE(e.find("shape (3,16) does not fit the model input 'image' [1,1,4,4]"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("expected (N,1,4,4)"), std::string::npos) << e;

  ASSERT_TRUE(io::WriteNpy(dir_ + "/i32.npy",
                           io::HostTensor::Zeros(io::ElementType::kInt32, {3, 1, 4, 4}))
                  .ok());
  EXPECT_NE(Error({dir_ + "/i32.npy", ""}, ImageModel()).find("int32 arrays are not"),
            std::string::npos);

  ASSERT_TRUE(io::WriteNpy(dir_ + "/empty.npy",
                           io::HostTensor::Zeros(io::ElementType::kFloat32, {0, 1, 4, 4}))
                  .ok());
  EXPECT_NE(Error({dir_ + "/empty.npy", ""}, ImageModel()).find("no samples"),
            std::string::npos);
}

TEST_F(DatasetTest, RefusesWhatIsNotData) {
  testing::WriteBytes(dir_ + "/empty.bin", {});
  EXPECT_NE(Error({dir_ + "/empty.bin", ""}, ImageModel()).find("empty"), std::string::npos);
  testing::WriteBytes(dir_ + "/junk.bin", {'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
  EXPECT_NE(Error({dir_ + "/junk.bin", ""}, ImageModel()).find("not calibration data"),
            std::string::npos);
  EXPECT_NE(Error({dir_ + "/missing", ""}, ImageModel()).find("no such file"),
            std::string::npos);
  testing::WriteBytes(images(), IdxBytes({0, 4, 4}, {}));
  EXPECT_NE(Error({images(), ""}, ImageModel()).find("dimension 0 is zero"), std::string::npos);
}

TEST_F(DatasetTest, RefusesMismatchedLabels) {
  WriteIdx(5);
  testing::WriteBytes(labels_path(), IdxBytes({4}, {0, 1, 2, 0}));
  const std::string e = Error({images(), labels_path()}, ImageModel());
  EXPECT_NE(e.find("4"), std::string::npos) << e;
}

TEST_F(DatasetTest, ImagesNeedAnImageModel) {
  WriteIdx(2);
  testing::GraphBuilder b;
  const int x = b.Input("features", {1, 640});
  b.Output(b.Node(opm::OpCode::RELU, {x}, {1, 640}, {}, "relu"));
  const std::string e = Error({images(), ""}, b.g);
  EXPECT_NE(e.find("'features' [1,640] does not take images"), std::string::npos) << e;
  EXPECT_NE(e.find(".npy"), std::string::npos) << e;
}

}  // namespace
}  // namespace outpost::quant
