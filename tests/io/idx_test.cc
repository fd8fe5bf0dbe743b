#include "io/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tests/io/test_models.h"

namespace outpost::io {
namespace {

std::vector<uint8_t> IdxBytes(uint8_t type, const std::vector<uint32_t>& dims,
                              const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    out.push_back(static_cast<uint8_t>(d >> 24));
    out.push_back(static_cast<uint8_t>(d >> 16));
    out.push_back(static_cast<uint8_t>(d >> 8));
    out.push_back(static_cast<uint8_t>(d));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void WriteGz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Three 2x3 images with pixel values i*10 + k, and labels 7, 0, 9.
std::vector<uint8_t> Images() {
  std::vector<uint8_t> px;
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 6; ++k) px.push_back(static_cast<uint8_t>(i * 10 + k));
  return IdxBytes(0x08, {3, 2, 3}, px);
}
std::vector<uint8_t> Labels() { return IdxBytes(0x08, {3}, {7, 0, 9}); }

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("idx"); }
  std::string dir_;
};

TEST_F(IdxTest, ReadsPlainAndGzipped) {
  testing::WriteBytes(dir_ + "/images.idx", Images());
  WriteGz(dir_ + "/images.idx.gz", Images());
  for (const char* name : {"/images.idx", "/images.idx.gz"}) {
    Expected<HostTensor> t = ReadIdx(dir_ + name);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->type, ElementType::kUint8);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 2, 3}));
    EXPECT_EQ(t->bytes[6 + 4], 14);
  }
}

TEST_F(IdxTest, ConvertsBigEndianElements) {
  // int32 values 1 and 0x01020304, big-endian in the file.
  testing::WriteBytes(dir_ + "/ints.idx", IdxBytes(0x0C, {2}, {0, 0, 0, 1, 1, 2, 3, 4}));
  Expected<HostTensor> t = ReadIdx(dir_ + "/ints.idx");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->type, ElementType::kInt32);
  EXPECT_EQ(t->values<int32_t>()[0], 1);
  EXPECT_EQ(t->values<int32_t>()[1], 0x01020304);
}

TEST_F(IdxTest, ReadsAnImageSet) {
  WriteGz(dir_ + "/images.gz", Images());
  testing::WriteBytes(dir_ + "/labels", Labels());
  Expected<IdxImageSet> set = ReadIdxImageSet(dir_ + "/images.gz", dir_ + "/labels");
  ASSERT_TRUE(set.ok()) << set.message();
  EXPECT_EQ(set->count(), 3);
  EXPECT_EQ(set->height(), 2);
  EXPECT_EQ(set->width(), 3);
  EXPECT_EQ(set->image(2)[5], 25);
  EXPECT_EQ(set->label(2), 9);
}

TEST_F(IdxTest, ImageSetChecksCountsAndKinds) {
  testing::WriteBytes(dir_ + "/images", Images());
  testing::WriteBytes(dir_ + "/labels2", IdxBytes(0x08, {2}, {1, 2}));
  Expected<IdxImageSet> set = ReadIdxImageSet(dir_ + "/images", dir_ + "/labels2");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.message().find("has 3 images but"), std::string::npos) << set.message();
  EXPECT_NE(set.message().find("has 2 labels"), std::string::npos) << set.message();

  set = ReadIdxImageSet(dir_ + "/images", dir_ + "/images");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.message().find("expected uint8 labels"), std::string::npos) << set.message();
}

struct BadCase {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string expected;
};

TEST_F(IdxTest, RefusesMalformedFiles) {
  std::vector<uint8_t> truncated = Images();
  truncated.resize(truncated.size() - 5);
  std::vector<uint8_t> trailing = Labels();
  trailing.push_back(1);
  const std::vector<BadCase> cases = {
      {"magic", {0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5}, "bad magic"},
      {"type", IdxBytes(0x07, {1}, {0}), "unknown element type 0x07"},
      {"rank", {0, 0, 0x08, 0}, "rank 0"},
      {"zero", IdxBytes(0x08, {0}, {}), "is zero"},
      {"header", {0, 0, 0x08, 3, 0, 0}, "truncated IDX header"},
      {"short", {0, 0}, "too short"},
      {"truncated", truncated, "truncated"},
      {"trailing", trailing, "unexpected bytes after the data"},
  };
  for (const BadCase& c : cases) {
    const std::string path = dir_ + "/" + c.name;
    testing::WriteBytes(path, c.bytes);
    Expected<HostTensor> t = ReadIdx(path);
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_NE(t.message().find(c.expected), std::string::npos) << c.name << ": " << t.message();
    EXPECT_EQ(t.message().rfind(path + ": ", 0), 0u) << t.message();
  }
}

TEST_F(IdxTest, RefusesCorruptOrTruncatedGzip) {
  WriteGz(dir_ + "/good.gz", Images());
  std::vector<uint8_t> gz = testing::ReadBytes(dir_ + "/good.gz");
  std::vector<uint8_t> cut(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2));
  testing::WriteBytes(dir_ + "/cut.gz", cut);
  Expected<HostTensor> t = ReadIdx(dir_ + "/cut.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("truncated"), std::string::npos) << t.message();

  std::vector<uint8_t> flipped = gz;
  for (size_t i = 12; i < flipped.size() - 8; ++i) flipped[i] ^= 0x5a;
  testing::WriteBytes(dir_ + "/bad.gz", flipped);
  t = ReadIdx(dir_ + "/bad.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find(dir_ + "/bad.gz: "), std::string::npos) << t.message();
}

TEST_F(IdxTest, MissingAndDirectory) {
  EXPECT_EQ(ReadIdx(dir_ + "/nope").message(), dir_ + "/nope: no such file");
  EXPECT_NE(ReadIdx(dir_).message().find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace outpost::io
