#include "io/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/mapped_file.h"
#include "tests/io/test_models.h"

namespace outpost::io {
namespace {

// Builds a .npy file by hand, the way NumPy lays it out, for header versions 1, 2 and 3.
std::vector<uint8_t> HandMadeNpy(int major, const std::string& dict,
                                 const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  const uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t k = 0; k < prefix - 8; ++k) out.push_back(static_cast<uint8_t>(len >> (8 * k)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(NpyTest, RoundTripsEveryType) {
  const std::string dir = testing::MakeTempDir("npy_roundtrip");
  for (ElementType type :
       {ElementType::kFloat32, ElementType::kFloat64, ElementType::kInt8, ElementType::kUint8,
        ElementType::kInt16, ElementType::kInt32, ElementType::kInt64, ElementType::kBool}) {
    HostTensor t = HostTensor::Zeros(type, {2, 3, 5});
    for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    if (type == ElementType::kBool)
      for (auto& b : t.bytes) b &= 1;
    const std::string path = dir + "/" + ElementTypeName(type) + ".npy";
    ASSERT_TRUE(WriteNpy(path, t).ok());
    Expected<HostTensor> back = ReadNpy(path);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(back->type, type);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_EQ(back->bytes, t.bytes);
  }
}

TEST(NpyTest, EncodesHeaderLikeNumpy) {
  const HostTensor t = HostTensor::Float32({5}, std::vector<float>{1, 2, 3, 4, 5});
  const std::vector<uint8_t> npy = EncodeNpy(t);
  const std::string header(npy.begin() + 10, npy.begin() + 10 + (npy[8] | npy[9] << 8));
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (5,)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  // Data starts 64-byte aligned, as NumPy writes it.
  EXPECT_EQ((npy.size() - 20) % 64, 0u);
}

TEST(NpyTest, ScalarAndEmptyShapes) {
  HostTensor scalar = HostTensor::Float32({}, std::vector<float>{3.5f});
  Expected<HostTensor> back = DecodeNpy(EncodeNpy(scalar), "scalar");
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_TRUE(back->shape.empty());
  EXPECT_EQ(back->values<float>()[0], 3.5f);
}

TEST(NpyTest, ReadsVersion2And3Headers) {
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  for (int major : {2, 3}) {
    const auto file =
        HandMadeNpy(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Bytes(v));
    Expected<HostTensor> t = DecodeNpy(file, std::to_string(major) + ".npy");
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(std::vector<float>(t->values<float>().begin(), t->values<float>().end()), v);
  }
}

TEST(NpyTest, LargeHeaderUsesVersion2) {
  HostTensor t = HostTensor::Zeros(ElementType::kUint8, std::vector<int64_t>(1, 1));
  // A shape with many dimensions of 1 makes a long header; NumPy switches to 2.0 past 64 KiB.
  t.shape.assign(25000, 1);
  const std::vector<uint8_t> npy = EncodeNpy(t);
  EXPECT_EQ(npy[6], 2);
  Expected<HostTensor> back = DecodeNpy(npy, "big");
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->shape.size(), 25000u);
}

TEST(NpyTest, ConvertsFloat64WhenAsked) {
  const std::vector<double> v = {0.1, -2.5, 1e10};
  const auto file =
      HandMadeNpy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", Bytes(v));
  Expected<HostTensor> kept = DecodeNpy(file, "f8");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->type, ElementType::kFloat64);
  NpyReadOptions opts;
  opts.float64_to_float32 = true;
  Expected<HostTensor> narrowed = DecodeNpy(file, "f8", opts);
  ASSERT_TRUE(narrowed.ok());
  EXPECT_EQ(narrowed->type, ElementType::kFloat32);
  EXPECT_FLOAT_EQ(narrowed->values<float>()[0], 0.1f);
  EXPECT_FLOAT_EQ(narrowed->values<float>()[2], 1e10f);
}

TEST(NpyTest, AcceptsDoubleQuotesAndByteOrderFreeTypes) {
  const auto file =
      HandMadeNpy(1, "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2,)}", {7, 9});
  Expected<HostTensor> t = DecodeNpy(file, "u1");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->type, ElementType::kUint8);
  EXPECT_EQ(t->bytes, (std::vector<uint8_t>{7, 9}));
}

struct Refusal {
  std::string dict;
  size_t data_bytes;
  std::string expected;  // substring of the message
};

TEST(NpyTest, RefusesWhatItCannotRead) {
  const std::vector<Refusal> cases = {
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran-order"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "big-endian"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4, "unsupported dtype"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "unsupported dtype"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, "structured"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 8, "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8, "unexpected bytes"},
      {"{'descr': '<f4', 'shape': (1,), }", 4, "lacks"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4, "non-negative"},
  };
  for (const Refusal& c : cases) {
    const auto file = HandMadeNpy(1, c.dict, std::vector<uint8_t>(c.data_bytes, 0));
    Expected<HostTensor> t = DecodeNpy(file, "case.npy");
    ASSERT_FALSE(t.ok()) << c.dict;
    EXPECT_NE(t.message().find(c.expected), std::string::npos) << t.message();
    EXPECT_EQ(t.message().rfind("case.npy: ", 0), 0u) << t.message();
  }
}

TEST(NpyTest, RefusesNonNpyAndTruncatedHeaders) {
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  EXPECT_NE(DecodeNpy(text, "t").message().find("not a .npy"), std::string::npos);
  auto file = HandMadeNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                          std::vector<uint8_t>(4));
  file.resize(30);
  EXPECT_NE(DecodeNpy(file, "t").message().find("truncated"), std::string::npos);
  auto v9 = HandMadeNpy(1, "{}", {});
  v9[6] = 9;
  EXPECT_NE(DecodeNpy(v9, "t").message().find("version 9"), std::string::npos);
}

TEST(NpyTest, MissingFileIsAClearError) {
  Expected<HostTensor> t = ReadNpy("/nonexistent/dir/x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.message(), "/nonexistent/dir/x.npy: no such file");
}

TEST(RawTensorTest, SizeMustMatch) {
  const std::string dir = testing::MakeTempDir("raw");
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  testing::WriteBytes(dir + "/x.bin", Bytes(v));
  Expected<HostTensor> t = ReadRawTensor(dir + "/x.bin", ElementType::kFloat32, {1, 6});
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->values<float>()[5], 6.0f);
  Expected<HostTensor> bad = ReadRawTensor(dir + "/x.bin", ElementType::kFloat32, {1, 7});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("24 bytes"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("needs 28"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace outpost::io
