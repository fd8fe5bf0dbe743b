// The telemetry buffer on real SQLite files: seq assignment and persistence, the bounds and
// the dropped count, refused files, a full disk.
#include "agent/telemetry/telemetry_buffer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/io/test_models.h"

namespace outpost::agent {
namespace {

class TelemetryBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = outpost::testing::MakeTempDir(
        "telemetry_buffer_" +
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    path_ = dir_ + "/telemetry.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<TelemetryBuffer> OpenBuffer(TelemetryBufferOptions o = {}) {
    Expected<std::unique_ptr<TelemetryBuffer>> b = TelemetryBuffer::Open(path_, o);
    EXPECT_TRUE(b.ok()) << b.message();
    return b.ok() ? std::move(*b) : nullptr;
  }
  static nlohmann::json Record(int i) {
    return {{"time_ms", 1000 * i}, {"model", "m"}, {"version", "1.0.0"}};
  }

  std::string dir_, path_;
};

TEST_F(TelemetryBufferTest, AssignsSeqThatSurvivesReopenAndEmptying) {
  {
    auto b = OpenBuffer();
    for (int i = 1; i <= 3; ++i) EXPECT_EQ(b->Append(Record(i)).value(), i);
  }
  auto b = OpenBuffer();
  EXPECT_EQ(b->Stats().records, 3);
  EXPECT_EQ(b->Stats().last_seq, 3);
  std::vector<BufferedRecord> held = b->Peek(10).value();
  ASSERT_EQ(held.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(held[i].seq, i + 1);
    nlohmann::json expected = Record(i + 1);
    expected["seq"] = i + 1;
    EXPECT_EQ(nlohmann::json::parse(held[i].json), expected);
  }
  EXPECT_EQ(b->Peek(2).value().size(), 2u);

  ASSERT_TRUE(b->Acknowledge(2).ok());
  EXPECT_EQ(b->Peek(10).value().front().seq, 3);
  ASSERT_TRUE(b->Acknowledge(3).ok());
  EXPECT_EQ(b->Stats().records, 0);
  EXPECT_EQ(b->Stats().bytes, 0);
  b.reset();
  // Emptied and reopened: the next record still gets a new number.
  b = OpenBuffer();
  EXPECT_EQ(b->Append(Record(4)).value(), 4);
  EXPECT_EQ(b->Stats().dropped_records, 0);
  EXPECT_FALSE(nlohmann::json::parse(b->Peek(1).value().front().json).contains("dropped_records"));
}

TEST_F(TelemetryBufferTest, DropsTheOldestWhenFullAndReportsTheTotal) {
  TelemetryBufferOptions o;
  o.max_records = 5;
  {
    auto b = OpenBuffer(o);
    for (int i = 1; i <= 8; ++i) ASSERT_TRUE(b->Append(Record(i)).ok());
    EXPECT_EQ(b->Stats().records, 5);
    EXPECT_EQ(b->Stats().dropped_records, 3);
    std::vector<BufferedRecord> held = b->Peek(10).value();
    ASSERT_EQ(held.size(), 5u);
    EXPECT_EQ(held.front().seq, 4);
    // Records 4 and 5 came before any drop; 6, 7 and 8 each report the total at their arrival.
    EXPECT_FALSE(nlohmann::json::parse(held[1].json).contains("dropped_records"));
    for (int i = 2; i < 5; ++i)
      EXPECT_EQ(nlohmann::json::parse(held[i].json)["dropped_records"], i - 1);
  }
  auto b = OpenBuffer(o);
  EXPECT_EQ(b->Stats().dropped_records, 3);
  ASSERT_TRUE(b->Acknowledge(8).ok());
  ASSERT_EQ(b->Append(Record(9)).value(), 9);
  EXPECT_EQ(nlohmann::json::parse(b->Peek(1).value().front().json)["dropped_records"], 3);
}

TEST_F(TelemetryBufferTest, BoundedByBytesToo) {
  TelemetryBufferOptions o;
  o.max_bytes = 1000;
  auto b = OpenBuffer(o);
  nlohmann::json big = Record(1);
  big["pad"] = std::string(300, 'x');
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b->Append(big).ok());
  const TelemetryBufferStats s = b->Stats();
  EXPECT_LE(s.bytes, 1000);
  EXPECT_EQ(s.records, 2);  // about 360 bytes each
  EXPECT_EQ(s.dropped_records, 8);
  EXPECT_EQ(s.last_seq, 10);

  big["pad"] = std::string(1000, 'x');
  Expected<int64_t> refused = b->Append(big);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("exceeds the buffer's bound of 1000 bytes"), std::string::npos)
      << refused.message();
  EXPECT_EQ(b->Stats().records, 2);
  EXPECT_EQ(b->Stats().last_seq, 10);
  EXPECT_FALSE(b->Append(nlohmann::json::array()).ok());
}

TEST_F(TelemetryBufferTest, DiscardCountsRefusedRecordsAsDropped) {
  auto b = OpenBuffer();
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(b->Append(Record(i)).ok());
  EXPECT_EQ(b->Discard(2).value(), 2);
  EXPECT_EQ(b->Stats().dropped_records, 2);
  EXPECT_EQ(b->Stats().records, 2);
  ASSERT_EQ(b->Append(Record(5)).value(), 5);
  EXPECT_EQ(nlohmann::json::parse(b->Peek(10).value().back().json)["dropped_records"], 2);
}

TEST_F(TelemetryBufferTest, RefusesAFileThatIsNotABuffer) {
  std::ofstream(path_, std::ios::binary) << std::string(4096, 'z');
  Expected<std::unique_ptr<TelemetryBuffer>> b = TelemetryBuffer::Open(path_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message(), "telemetry buffer " + path_ +
                             " is corrupt or not a telemetry buffer (file is not a database)");
}

TEST_F(TelemetryBufferTest, RefusesADamagedBuffer) {
  {
    auto b = OpenBuffer();
    nlohmann::json r = Record(1);
    r["pad"] = std::string(2000, 'p');
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(b->Append(r).ok());
  }
  // Everything is checkpointed into the main file on close; scribble over its second page
  // (the records table's b-tree pages follow the schema page).
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal") &&
               std::filesystem::file_size(path_ + "-wal") > 0);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  Expected<std::unique_ptr<TelemetryBuffer>> b = TelemetryBuffer::Open(path_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message().rfind("telemetry buffer " + path_ + " is corrupt", 0), 0u) << b.message();
}

TEST_F(TelemetryBufferTest, RefusesAPathThatCannotBeWritten) {
  std::filesystem::create_directory(path_);  // a directory where the file should be
  Expected<std::unique_ptr<TelemetryBuffer>> b = TelemetryBuffer::Open(path_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message().rfind("telemetry buffer " + path_ + " cannot be written", 0), 0u)
      << b.message();

  b = TelemetryBuffer::Open(dir_ + "/missing/telemetry.db");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(
      b.message().rfind("telemetry buffer " + dir_ + "/missing/telemetry.db cannot be written", 0),
      0u)
      << b.message();
}

TEST_F(TelemetryBufferTest, AFullDiskKeepsWhatIsStored) {
  TelemetryBufferOptions o;
  o.max_file_bytes = 96 * 1024;  // the disk the buffer may use
  auto b = OpenBuffer(o);
  nlohmann::json r = Record(1);
  r["pad"] = std::string(1500, 'p');
  int64_t stored = 0;
  Expected<int64_t> appended = int64_t{0};
  while ((appended = b->Append(r)).ok()) {
    stored = *appended;
    ASSERT_LT(stored, 1000) << "the file cap never took effect";
  }
  EXPECT_EQ(appended.message().rfind(
                "telemetry buffer " + path_ + ": the disk is full while appending a record", 0),
            0u)
      << appended.message();
  EXPECT_GT(stored, 10);
  EXPECT_EQ(b->Stats().records, stored);
  EXPECT_EQ(b->Stats().last_seq, stored);
  EXPECT_EQ(b->Peek(10000).value().size(), static_cast<size_t>(stored));
  EXPECT_EQ(b->Peek(10000).value().back().seq, stored);
  // Acknowledged records free their pages: appending works again, under the next seq.
  ASSERT_TRUE(b->Acknowledge(5).ok());
  EXPECT_EQ(b->Append(r).value(), stored + 1);
  b.reset();
  b = OpenBuffer();
  EXPECT_EQ(b->Stats().records, stored - 5 + 1);
  EXPECT_EQ(b->Peek(1).value().front().seq, 6);
}

}  // namespace
}  // namespace outpost::agent
