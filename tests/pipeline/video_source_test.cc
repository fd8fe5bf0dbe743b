#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/y4m_reader.h"
#include "tests/pipeline/source_test_files.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;
using testing::TempPath;
using testing::WriteFile;
using testing::Y4mBytes;

// BT.601 limited range: Y=81 U=90 V=240 is pure red (255, 0, 0) within rounding.
constexpr testing::Yuv kRed{81, 90, 240};
constexpr testing::Yuv kGray{126, 128, 128};

std::unique_ptr<Source> MakeVideo(const json& options) {
  Expected<std::unique_ptr<Source>> s = MakeVideoSource(options, "");
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(Y4mHeaderTest, ParsesParametersAndRefusesBadOnes) {
  Expected<Y4mHeader> h =
      ParseY4mHeader("YUV4MPEG2 W64 H48 F30000:1001 It A1:1 C420jpeg XYSCSS=420JPEG", "f");
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(h->width, 64);
  EXPECT_EQ(h->height, 48);
  EXPECT_NEAR(h->fps(), 29.97, 0.01);
  EXPECT_EQ(h->frame_bytes(), 64u * 48 * 3 / 2);
  EXPECT_EQ(ParseY4mHeader("YUV4MPEG2 W5 H3 C444", "f")->frame_bytes(), 45u);
  EXPECT_EQ(ParseY4mHeader("YUV4MPEG2 W5 H3 Cmono", "f")->frame_bytes(), 15u);
  EXPECT_EQ(ParseY4mHeader("YUV4MPEG2 W5 H3", "f")->frame_bytes(), 15u + 2 * 3 * 2);
  EXPECT_NE(ParseY4mHeader("YUV4MPEG2 W0 H48", "f").message().find("W0"), std::string::npos);
  EXPECT_NE(ParseY4mHeader("YUV4MPEG2 W64", "f").message().find("lacks"), std::string::npos);
  EXPECT_NE(ParseY4mHeader("YUV4MPEG2 W64 H48 C422", "f").message().find("422"), std::string::npos);
  EXPECT_NE(ParseY4mHeader("YUV4MPEG2 W64 H48 F30:0", "f").message().find("F30:0"),
            std::string::npos);
  EXPECT_NE(ParseY4mHeader("RIFF", "f").message().find("not a Y4M"), std::string::npos);
  EXPECT_FALSE(ParseY4mHeader("YUV4MPEG2 W99999 H2", "f").ok());
}

TEST(VideoSourceTest, ReadsY4mFramesAsRgb) {
  const std::string path = TempPath("red_gray.y4m");
  WriteFile(path, Y4mBytes(6, 4, "420jpeg", "25:1", {kRed, kGray, kRed}));
  auto source = MakeVideo({{"path", path}});
  ASSERT_TRUE(source);
  EXPECT_EQ(source->fps(), 0.0);  // not realtime: as fast as consumed
  EXPECT_NE(source->Describe().find("6x4 @ 25 fps"), std::string::npos) << source->Describe();
  Frame f;
  for (int i = 0; i < 3; ++i) {
    Expected<bool> got = source->Next(f);
    ASSERT_TRUE(got.ok()) << got.message();
    ASSERT_TRUE(*got);
    EXPECT_EQ(f.sequence, static_cast<uint64_t>(i));
    EXPECT_EQ(f.kind, Frame::Kind::kImage);
    EXPECT_EQ(f.width, 6);
    EXPECT_EQ(f.height, 4);
    EXPECT_EQ(f.format, io::PixelFormat::kRgb);
    ASSERT_EQ(f.pixels.size(), 6u * 4 * 3);
    const bool red = i != 1;
    EXPECT_NEAR(f.pixels[0], red ? 255 : 128, 1);
    EXPECT_NEAR(f.pixels[1], red ? 0 : 128, 1);
    EXPECT_NEAR(f.pixels[71], red ? 0 : 128, 1);
  }
  Expected<bool> end = source->Next(f);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

TEST(VideoSourceTest, ReadsMonoAnd444) {
  const std::string mono = TempPath("mono.y4m");
  WriteFile(mono, Y4mBytes(3, 3, "mono", "30:1", {{235, 0, 0}}));
  Frame f;
  auto s = MakeVideo({{"path", mono}});
  ASSERT_TRUE(s && *s->Next(f));
  EXPECT_EQ(f.pixels, std::vector<uint8_t>(27, 255));
  const std::string full = TempPath("444.y4m");
  WriteFile(full, Y4mBytes(3, 2, "444", "30:1", {kRed}));
  s = MakeVideo({{"path", full}});
  ASSERT_TRUE(s && *s->Next(f));
  EXPECT_NEAR(f.pixels[15], 255, 1);
  EXPECT_NEAR(f.pixels[16], 0, 1);
}

TEST(VideoSourceTest, LoopsAndPacesInRealtime) {
  const std::string path = TempPath("loop.y4m");
  WriteFile(path, Y4mBytes(2, 2, "420", "100:1", {kRed, kGray}));
  auto source = MakeVideo({{"path", path}, {"loop", true}, {"realtime", true}});
  ASSERT_TRUE(source);
  EXPECT_DOUBLE_EQ(source->fps(), 100.0);
  EXPECT_TRUE(source->live());
  Frame f;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(*source->Next(f));
    EXPECT_NEAR(f.pixels[0], i % 2 == 0 ? 255 : 128, 1) << i;
  }
  // Frames 1..5 are each due 10 ms after the previous one.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(45));
  EXPECT_EQ(f.sequence, 5u);
}

TEST(VideoSourceTest, TruncatedAndCorruptFramesAreErrorsNamingTheFrame) {
  std::string bytes = Y4mBytes(4, 4, "420", "30:1", {kRed, kRed});
  const std::string truncated = TempPath("truncated.y4m");
  WriteFile(truncated, bytes.substr(0, bytes.size() - 5));
  auto source = MakeVideo({{"path", truncated}});
  ASSERT_TRUE(source);
  Frame f;
  EXPECT_TRUE(*source->Next(f));
  Expected<bool> bad = source->Next(f);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(truncated + ": frame 1 is truncated"), std::string::npos)
      << bad.message();
  EXPECT_FALSE(*source->Next(f));  // the stream ends after the damage

  const std::string corrupt = TempPath("corrupt.y4m");
  bytes[bytes.find("FRAME", 40)] = 'X';
  WriteFile(corrupt, bytes);
  source = MakeVideo({{"path", corrupt}});
  EXPECT_TRUE(*source->Next(f));
  bad = source->Next(f);
  EXPECT_NE(bad.message().find("frame 1: expected a FRAME line"), std::string::npos)
      << bad.message();
}

TEST(VideoSourceTest, OptionErrors) {
  EXPECT_NE(MakeVideoSource(json{{"path", "x.y4m"}, {"speed", 2}}, "").message().find("'speed'"),
            std::string::npos);
  EXPECT_NE(MakeVideoSource(json::object(), "").message().find("'path'"), std::string::npos);
  EXPECT_NE(MakeVideoSource(json{{"path", "x.y4m"}, {"loop", "yes"}}, "").message().find("'loop'"),
            std::string::npos);
  const std::string missing = MakeVideoSource(json{{"path", "nope.y4m"}}, "/no/dir").message();
  EXPECT_NE(missing.find("/no/dir/nope.y4m: cannot open"), std::string::npos) << missing;
  const std::string text = TempPath("not_video.txt");
  WriteFile(text, std::string("hello, this is not a video"));
  EXPECT_FALSE(MakeVideoSource(json{{"path", text}}, "").ok());
}

TEST(Y4mReaderTest, GarbageNeverCrashes) {
  // A cheap deterministic sweep of mutations of a valid file (the fuzz target goes further).
  const std::string valid = Y4mBytes(3, 3, "420", "30:1", {kRed, kGray});
  uint32_t state = 12345;
  for (int i = 0; i < 300; ++i) {
    std::string b = valid;
    state = state * 1664525u + 1013904223u;
    const size_t pos = state % b.size();
    b[pos] = static_cast<char>(state >> 24);
    if (i % 3 == 0) b.resize(state % b.size());
    auto r = Y4mReader::Open(std::make_unique<std::istringstream>(b), "m");
    if (!r) continue;
    std::vector<uint8_t> rgb;
    for (int k = 0; k < 4; ++k) {
      Expected<bool> got = (*r)->ReadFrame(rgb);
      if (!got.ok() || !*got) break;
      EXPECT_EQ(rgb.size(), static_cast<size_t>((*r)->header().width) * (*r)->header().height * 3);
    }
  }
}

}  // namespace
}  // namespace outpost::pipeline
