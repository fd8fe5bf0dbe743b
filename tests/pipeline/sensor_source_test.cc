#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "pipeline/sources/source_makers.h"
#include "tests/pipeline/source_test_files.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;
using testing::TempPath;
using testing::WriteFile;

std::unique_ptr<Source> MakeSensor(json options, const std::string& csv) {
  const std::string path = TempPath("sensor.csv");
  WriteFile(path, csv);
  options["path"] = path;
  Expected<std::unique_ptr<Source>> s = MakeSensorSource(options, "");
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(SensorSourceTest, WindowsWithHopAndHeader) {
  auto s = MakeSensor({{"window", 3}, {"hop", 2}}, "t,x\n0,10\n1,11\n2,12\n3,13\n4,14\n5,15\n");
  ASSERT_TRUE(s);
  Frame f;
  ASSERT_TRUE(*s->Next(f));
  EXPECT_EQ(f.kind, Frame::Kind::kSamples);
  EXPECT_EQ(f.rows, 3);
  EXPECT_EQ(f.channels, 2);
  EXPECT_EQ(f.samples, (std::vector<float>{0, 10, 1, 11, 2, 12}));
  ASSERT_TRUE(*s->Next(f));
  EXPECT_EQ(f.samples, (std::vector<float>{2, 12, 3, 13, 4, 14}));
  EXPECT_EQ(f.sequence, 1u);
  EXPECT_FALSE(*s->Next(f));  // rows 4, 5 do not fill a window
}

TEST(SensorSourceTest, SelectsColumnsByNameOrIndexAndSkipsWithLongHop) {
  auto s = MakeSensor({{"columns", {"z", 0}}, {"window", 1}, {"hop", 2}},
                      "x, y, z\r\n1, 2, 3\r\n4,5,6\r\n\r\n7,8,9\r\n");
  ASSERT_TRUE(s);
  Frame f;
  ASSERT_TRUE(*s->Next(f));
  EXPECT_EQ(f.samples, (std::vector<float>{3, 1}));
  ASSERT_TRUE(*s->Next(f));  // hop 2: row "4,5,6" is skipped
  EXPECT_EQ(f.samples, (std::vector<float>{9, 7}));
  EXPECT_FALSE(*s->Next(f));
}

TEST(SensorSourceTest, BadRowsAreErrorsNamingTheLineAndReadingContinues) {
  auto s = MakeSensor({{"window", 2}}, "1,2\n3,x\n4\n5,nan\n6,7\n");
  ASSERT_TRUE(s);
  Frame f;
  Expected<bool> r = s->Next(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("sensor.csv:2: column 2 ('x') is not a finite number"),
            std::string::npos)
      << r.message();
  r = s->Next(f);
  EXPECT_NE(r.message().find(":3: 1 columns, expected 2"), std::string::npos) << r.message();
  r = s->Next(f);
  EXPECT_NE(r.message().find(":4:"), std::string::npos) << r.message();
  r = s->Next(f);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(f.samples, (std::vector<float>{1, 2, 6, 7}));
}

TEST(SensorSourceTest, HeaderlessAndForcedHeader) {
  auto s = MakeSensor({}, "1.5,-2e3\n");
  Frame f;
  ASSERT_TRUE(s && *s->Next(f));
  EXPECT_EQ(f.samples, (std::vector<float>{1.5f, -2000.0f}));
  s = MakeSensor({{"header", true}}, "1,2\n3,4\n");
  ASSERT_TRUE(s && *s->Next(f));
  EXPECT_EQ(f.samples, (std::vector<float>{3, 4}));
  s = MakeSensor({{"columns", {"a"}}}, "1,2\n");
  Expected<bool> r = s->Next(f);
  EXPECT_NE(r.message().find("no column named 'a' (the file has no header row)"), std::string::npos)
      << r.message();
  EXPECT_FALSE(*s->Next(f));
}

TEST(SensorSourceTest, RatePacesTheFileAsALiveStream) {
  auto s = MakeSensor({{"window", 2}, {"rate_hz", 200}}, "1\n2\n3\n4\n5\n6\n7\n8\n");
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->fps(), 100.0);  // 200 rows/s, 2 new rows a frame
  Frame f;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(*s->Next(f));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(28));
}

TEST(SensorSourceTest, OptionErrors) {
  auto err = [](const json& o) { return MakeSensorSource(o, "").message(); };
  EXPECT_NE(err({{"path", "-"}, {"delimiter", ";"}}).find("unknown option 'delimiter'"),
            std::string::npos);
  EXPECT_NE(err(json::object()).find("'path'"), std::string::npos);
  EXPECT_NE(err({{"path", "-"}, {"window", 0}}).find("window"), std::string::npos);
  EXPECT_NE(err({{"path", "-"}, {"header", "maybe"}}).find("header"), std::string::npos);
  EXPECT_NE(err({{"path", "missing.csv"}}).find("missing.csv: cannot open"), std::string::npos);
  EXPECT_TRUE(MakeSensorSource({{"path", "-"}}, "").ok());  // stdin
}

}  // namespace
}  // namespace outpost::pipeline
