// The uploader over a real buffer file and a sender function standing in for the server's
// answers (the real server is in telemetry_outage_test.cc): batching, the backoff schedule on a
// fake clock, refusal isolation and a lost answer.
#include "agent/telemetry/telemetry_uploader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "tests/io/test_models.h"

namespace outpost::agent {
namespace {

class TelemetryUploaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = outpost::testing::MakeTempDir(
        "telemetry_uploader_" +
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    buffer_ = TelemetryBuffer::Open(dir_ + "/telemetry.db").value();
  }
  void TearDown() override {
    buffer_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void AppendRecords(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(buffer_->Append({{"time_ms", now_}, {"model", "m"}, {"version", "1.0.0"}}).ok());
  }

  // What a server keeps: each seq once, the rest counted as duplicates.
  Expected<TelemetryAck> Store(const std::string& body) {
    TelemetryAck ack;
    const nlohmann::json batch = nlohmann::json::parse(body);
    batch_sizes_.push_back(static_cast<int64_t>(batch["records"].size()));
    for (const auto& r : batch["records"]) {
      if (stored_.insert(r["seq"].get<int64_t>()).second)
        ack.inserted += 1;
      else
        ack.duplicates += 1;
    }
    return ack;
  }

  std::string dir_;
  std::unique_ptr<TelemetryBuffer> buffer_;
  int64_t now_ = 1'000'000;
  std::set<int64_t> stored_;
  std::vector<int64_t> batch_sizes_;
};

TEST_F(TelemetryUploaderTest, SendsBatchesOfAtMostTheServerLimit) {
  AppendRecords(2500);
  TelemetryUploaderOptions o;
  o.batch_records = 5000;  // above the server's limit: 1000 are sent
  TelemetryUploader up(
      *buffer_, [&](const std::string& b) { return Store(b); }, [&] { return now_; }, o);
  EXPECT_EQ(up.Drain().value(), UploadStep::kIdle);
  EXPECT_EQ(batch_sizes_, (std::vector<int64_t>{1000, 1000, 500}));
  EXPECT_EQ(stored_.size(), 2500u);
  EXPECT_EQ(*stored_.begin(), 1);
  EXPECT_EQ(*stored_.rbegin(), 2500);
  EXPECT_EQ(buffer_->Stats().records, 0);
  EXPECT_EQ(up.stats().records_inserted, 2500);
  EXPECT_EQ(up.stats().batches_stored, 3);
}

TEST_F(TelemetryUploaderTest, BacksOffExponentiallyWithJitterUpToTheMaximum) {
  AppendRecords(3);
  TelemetryUploaderOptions o;
  o.initial_backoff_ms = 1000;
  o.max_backoff_ms = 60'000;
  o.jitter = 0.25;
  o.seed = 42;
  int attempts = 0;
  bool link_up = false;
  TelemetryUploader up(
      *buffer_,
      [&](const std::string& b) -> Expected<TelemetryAck> {
        ++attempts;
        if (!link_up) return Error("no answer: connection refused");
        return Store(b);
      },
      [&] { return now_; }, o);
  std::vector<int64_t> waits;
  for (int k = 1; k <= 12; ++k) {
    ASSERT_EQ(up.Step().value(), UploadStep::kFailed);
    const int64_t wait = up.last_backoff_ms();
    waits.push_back(wait);
    const double full = std::min(60'000.0, 1000.0 * std::pow(2.0, k - 1));
    EXPECT_GE(wait, static_cast<int64_t>(full * 0.75)) << "attempt " << k;
    EXPECT_LE(wait, static_cast<int64_t>(full)) << "attempt " << k;
    EXPECT_EQ(up.next_attempt_ms(), now_ + wait);
    // Not due a moment before the wait is over: nothing is sent.
    now_ += wait - 1;
    EXPECT_EQ(up.Step().value(), UploadStep::kNotDue);
    now_ += 1;
  }
  EXPECT_EQ(attempts, 12);
  EXPECT_EQ(up.stats().consecutive_failures, 12);
  EXPECT_EQ(up.stats().last_error, "no answer: connection refused");
  // The jitter varies the waits (not all at the lower or upper end of their range).
  EXPECT_NE(waits[8], waits[9]);
  EXPECT_EQ(buffer_->Stats().records, 3);

  link_up = true;
  EXPECT_EQ(up.Drain().value(), UploadStep::kIdle);
  EXPECT_EQ(stored_.size(), 3u);
  EXPECT_EQ(up.stats().consecutive_failures, 0);
  EXPECT_EQ(up.last_backoff_ms(), 0);
  // After a success the next failure starts again at the initial wait.
  AppendRecords(1);
  link_up = false;
  ASSERT_EQ(up.Step().value(), UploadStep::kFailed);
  EXPECT_LE(up.last_backoff_ms(), 1000);
}

TEST_F(TelemetryUploaderTest, ARefusedRecordIsDiscardedAloneAndCounted) {
  AppendRecords(100);
  TelemetryUploaderOptions o;
  o.batch_records = 64;
  int requests = 0;
  TelemetryUploader up(
      *buffer_,
      [&](const std::string& b) -> Expected<TelemetryAck> {
        ++requests;
        const nlohmann::json batch = nlohmann::json::parse(b);
        for (const auto& r : batch["records"]) {
          if (r["seq"] == 37)
            return Error("record 5: 'model' is not a valid model name", ErrorKind::kRefused);
        }
        return Store(b);
      },
      [&] { return now_; }, o);
  EXPECT_EQ(up.Drain().value(), UploadStep::kIdle);
  EXPECT_EQ(stored_.size(), 99u);
  EXPECT_EQ(stored_.count(37), 0u);
  EXPECT_EQ(up.stats().records_refused, 1);
  EXPECT_EQ(up.stats().failures, 0);  // a refusal is no reason to wait
  EXPECT_LE(requests, 20);            // bisection, not one request per record
  EXPECT_EQ(buffer_->Stats().dropped_records, 1);
  // The server learns of it from the next record.
  AppendRecords(1);
  EXPECT_EQ(nlohmann::json::parse(buffer_->Peek(1).value().front().json)["dropped_records"], 1);
}

TEST_F(TelemetryUploaderTest, ALostAnswerIsSentAgainAndCountedAsDuplicates) {
  AppendRecords(10);
  bool lose_answer = true;
  TelemetryUploader up(
      *buffer_,
      [&](const std::string& b) -> Expected<TelemetryAck> {
        Expected<TelemetryAck> ack = Store(b);  // stored on the server
        if (lose_answer) {
          lose_answer = false;
          return Error("no answer: read timeout");
        }
        return ack;
      },
      [&] { return now_; });
  EXPECT_EQ(up.Step().value(), UploadStep::kFailed);
  EXPECT_EQ(buffer_->Stats().records, 10);  // not acknowledged: kept
  now_ = up.next_attempt_ms();
  EXPECT_EQ(up.Drain().value(), UploadStep::kIdle);
  EXPECT_EQ(stored_.size(), 10u);
  EXPECT_EQ(up.stats().records_inserted, 0);
  EXPECT_EQ(up.stats().records_duplicate, 10);
  EXPECT_EQ(buffer_->Stats().records, 0);
}

}  // namespace
}  // namespace outpost::agent
