// Store-and-forward through an outage (issue item 3), against a real fleet server in-process:
// the device reports every 10 s of a fake clock; the server is stopped for two simulated hours
// (720 records) while the uploader keeps failing and backing off; then it is started again on
// the same port and store, and every record within the buffer's bound arrives exactly once,
// checked in the server's own database. One run has a bound below 720 (the oldest are dropped
// and the drop is reported); one loses the answer to a stored batch (re-sent, no duplicate).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "agent/telemetry/device_metrics.h"
#include "agent/telemetry/telemetry_buffer.h"
#include "agent/telemetry/telemetry_uploader.h"
#include "fleet/server/fleet_server.h"
#include "fleet/store/fleet_store.h"
#include "fleet/store/sql_database.h"
#include "package/keys.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"
#include "tests/support/free_port.h"

namespace outpost::agent {
namespace {

constexpr char kOutageAdminToken[] = "admin-outage-0123456789abcdef0123";
constexpr int64_t kPeriodMs = 10'000;
constexpr int kRecordsBefore = 30;   // five minutes with the link up
constexpr int kOutageRecords = 720;  // two hours

// The device side of POST /v1/device/telemetry over httplib, as the agent's client sends it:
// 2xx → the server's counts, 400/413 → a refusal of the content, anything else → a failure.
TelemetrySender HttpTelemetrySender(int port, std::string credential) {
  auto client = std::make_shared<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(10, 0);
  return [client, credential](const std::string& body) -> Expected<TelemetryAck> {
    httplib::Result r =
        client->Post("/v1/device/telemetry", {{"Authorization", "Bearer " + credential}}, body,
                     "application/json");
    if (!r) return Error("no answer from the fleet server: " + httplib::to_string(r.error()));
    if (r->status == 400 || r->status == 413)
      return Error(
          "the fleet server refused the batch (" + std::to_string(r->status) + "): " + r->body,
          ErrorKind::kRefused);
    if (r->status / 100 != 2)
      return Error("the fleet server answered " + std::to_string(r->status) + ": " + r->body);
    const nlohmann::json j = nlohmann::json::parse(r->body);
    return TelemetryAck{j.at("inserted").get<int64_t>(), j.at("duplicates").get<int64_t>()};
  };
}

struct OutageRun {
  int64_t max_records;
  bool lose_first_answer;
};

void PrintTo(const OutageRun& run, std::ostream* os) {
  *os << "max_records=" << run.max_records << (run.lose_first_answer ? ", first answer lost" : "");
}

class TelemetryOutageTest : public ::testing::TestWithParam<OutageRun> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ = outpost::testing::MakeTempDir("telemetry_outage_" + name);
    ASSERT_TRUE(
        package::WriteKeyFile(dir_ + "/fleet.pub", outpost::testing::TestSigningPair().public_key)
            .ok());
    std::ofstream(dir_ + "/admin-token") << kOutageAdminToken << "\n";
    options_.data_dir = dir_ + "/data";
    options_.store_url = "sqlite:" + dir_ + "/fleet.db";
    options_.admin_token_file = dir_ + "/admin-token";
    options_.signing_public_key_file = dir_ + "/fleet.pub";
    options_.port = outpost::testing::FreeLoopbackPort();
    options_.threads = 2;
    options_.tick_ms = 0;
    options_.clock = [this] { return now_ms_.load(); };
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void StartServer() {
    Expected<std::unique_ptr<fleet::FleetServer>> s = fleet::FleetServer::Create(options_);
    ASSERT_TRUE(s.ok()) << s.message();
    server_ = std::move(*s);
    Expected<Unit> started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
  }

  // Enrolls one device; returns its id and credential.
  std::pair<std::string, std::string> Enroll() {
    httplib::Client c("127.0.0.1", options_.port);
    httplib::Result t = c.Post("/v1/enrollment-tokens",
                               {{"Authorization", std::string("Bearer ") + kOutageAdminToken}},
                               R"({"group":"line-1"})", "application/json");
    EXPECT_TRUE(t && t->status == 201);
    const std::string token = nlohmann::json::parse(t->body)["token"];
    httplib::Result e =
        c.Post("/v1/enroll", nlohmann::json{{"token", token}, {"name", "cam-outage"}}.dump(),
               "application/json");
    EXPECT_TRUE(e && e->status == 201);
    const nlohmann::json j = nlohmann::json::parse(e->body);
    return {j["device_id"], j["credential"]};
  }

  // The seqs the server stored for `device` and the largest dropped_records among them.
  std::pair<std::vector<int64_t>, int64_t> StoredSeqs(const std::string& device) {
    auto db = fleet::OpenSqlDatabase(options_.store_url).value();
    auto rows = db->Execute("SELECT seq, body_json FROM telemetry WHERE device_id = ? ORDER BY seq",
                            {device})
                    .value();
    std::vector<int64_t> seqs;
    int64_t dropped = 0;
    for (const auto& row : rows.rows) {
      seqs.push_back(row.integer(0));
      dropped = std::max<int64_t>(
          dropped, nlohmann::json::parse(row.text(1)).value("dropped_records", int64_t{0}));
    }
    return {seqs, dropped};
  }

  std::string dir_;
  fleet::FleetServerOptions options_;
  std::unique_ptr<fleet::FleetServer> server_;
  std::atomic<int64_t> now_ms_{1'800'000'000'000};
};

TEST_P(TelemetryOutageTest, EveryRecordWithinTheBoundArrivesExactlyOnce) {
  const OutageRun run = GetParam();
  StartServer();
  const auto [device, credential] = Enroll();
  ASSERT_FALSE(device.empty());

  TelemetryBufferOptions bounds;
  bounds.max_records = run.max_records;
  auto buffer = TelemetryBuffer::Open(dir_ + "/device-telemetry.db", bounds).value();
  DeviceMetrics metrics(now_ms_, DeviceMetricsOptions{});
  TelemetrySender http = HttpTelemetrySender(options_.port, credential);
  bool lose_answer = run.lose_first_answer;
  int sends = 0;
  TelemetrySender sender = [&](const std::string& body) -> Expected<TelemetryAck> {
    ++sends;
    Expected<TelemetryAck> ack = http(body);
    if (ack.ok() && lose_answer) {
      lose_answer = false;  // the server stored the batch; its answer never reaches the device
      return Error("no answer from the fleet server: connection reset");
    }
    return ack;
  };
  TelemetryUploaderOptions up_options;
  up_options.initial_backoff_ms = 2'000;
  up_options.max_backoff_ms = 300'000;
  up_options.jitter = 0.5;
  up_options.seed = 7;
  TelemetryUploader uploader(
      *buffer, sender, [&] { return now_ms_.load(); }, up_options);

  // One reporting period on the fake clock: a few inferences, a record, an upload attempt if due.
  const auto period = [&] {
    now_ms_ += kPeriodMs;
    for (int i = 0; i < 25; ++i) metrics.RecordInference(3.0 + i % 5, true);
    ASSERT_TRUE(buffer
                    ->Append(metrics.EndPeriod(
                        now_ms_, {"detector", "1.0.0", 4096, 0.01, 0.02, std::nullopt}))
                    .ok());
    ASSERT_TRUE(uploader.Step().ok());
  };

  for (int i = 0; i < kRecordsBefore && !lose_answer; ++i) period();
  if (!run.lose_first_answer) {
    EXPECT_EQ(buffer->Stats().records, 0);  // the link is up: each record leaves at once
    EXPECT_EQ(StoredSeqs(device).first.size(), static_cast<size_t>(kRecordsBefore));
  }
  const int before = run.lose_first_answer ? 0 : kRecordsBefore;

  server_->Stop();
  server_.reset();
  const int sends_before_outage = sends;
  std::vector<std::pair<int64_t, int64_t>> attempts;  // (time, wait chosen after it)
  for (int i = 0; i < kOutageRecords; ++i) {
    const int64_t failures = uploader.stats().failures;
    period();
    if (uploader.stats().failures > failures)
      attempts.emplace_back(now_ms_.load(), uploader.last_backoff_ms());
  }
  const int outage_sends = sends - sends_before_outage;
  EXPECT_EQ(outage_sends, static_cast<int>(attempts.size()));
  // The backoff schedule: each wait within [d/2, d] for d = 2 s * 2^(k-1) up to 300 s, and no
  // attempt before the previous wait was over (attempts fall on the 10 s reporting ticks).
  for (size_t k = 0; k < attempts.size(); ++k) {
    const double full = std::min(300'000.0, 2'000.0 * std::pow(2.0, static_cast<double>(k)));
    EXPECT_GE(attempts[k].second, static_cast<int64_t>(full / 2)) << "attempt " << k;
    EXPECT_LE(attempts[k].second, static_cast<int64_t>(full)) << "attempt " << k;
    if (k > 0) {
      EXPECT_GE(attempts[k].first - attempts[k - 1].first, attempts[k - 1].second);
    }
  }
  RecordProperty("outage_attempts", static_cast<int>(attempts.size()));
  // Two hours of capped backoff: a few dozen attempts, not one per record.
  EXPECT_GE(attempts.size(), 20u);
  EXPECT_LE(attempts.size(), 60u);
  const int64_t expected_held = std::min<int64_t>(kOutageRecords, run.max_records);
  const int64_t expected_dropped = kOutageRecords - expected_held;
  RecordProperty("record_bytes", static_cast<int>(buffer->Stats().bytes / buffer->Stats().records));
  EXPECT_EQ(buffer->Stats().records, expected_held);
  EXPECT_EQ(buffer->Stats().dropped_records, expected_dropped);

  // The server comes back on the same port and store.
  StartServer();
  now_ms_ = std::max<int64_t>(now_ms_, uploader.next_attempt_ms());
  Expected<UploadStep> drained = uploader.Drain();
  ASSERT_TRUE(drained.ok()) << drained.message();
  if (run.lose_first_answer) {
    ASSERT_EQ(*drained, UploadStep::kFailed);  // the stored batch's answer was lost
    now_ms_ = uploader.next_attempt_ms();
    drained = uploader.Drain();
  }
  EXPECT_EQ(*drained, UploadStep::kIdle) << uploader.stats().last_error;
  EXPECT_EQ(buffer->Stats().records, 0);

  const auto [seqs, reported_dropped] = StoredSeqs(device);
  std::vector<int64_t> expected;
  for (int64_t s = 1; s <= before; ++s) expected.push_back(s);
  for (int64_t s = before + expected_dropped + 1; s <= before + kOutageRecords; ++s)
    expected.push_back(s);
  EXPECT_EQ(seqs, expected);  // each once (the store's (device, seq) key), none missing
  EXPECT_EQ(reported_dropped, expected_dropped);
  auto store = fleet::FleetStore::Open(options_.store_url, 1).value();
  EXPECT_EQ(store->CountTelemetry(device).value(), static_cast<int64_t>(expected.size()));
  EXPECT_EQ(store->LastTelemetrySeq(device).value(), before + kOutageRecords);
  // The device's own count agrees: a lost answer's batch comes back as duplicates, once.
  EXPECT_EQ(uploader.stats().records_inserted + uploader.stats().records_duplicate,
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(uploader.stats().records_duplicate,
            run.lose_first_answer ? std::min<int64_t>(expected_held, 1000) : 0);
}

INSTANTIATE_TEST_SUITE_P(
    Bounds, TelemetryOutageTest,
    ::testing::Values(OutageRun{100'000, false}, OutageRun{500, false}, OutageRun{500, true}),
    [](const ::testing::TestParamInfo<OutageRun>& info) {
      return std::string(info.param.max_records >= kOutageRecords ? "AllKept" : "OldestDropped") +
             (info.param.lose_first_answer ? "AnswerLost" : "");
    });

TEST(TelemetryBufferRestart, KeepsSeqAndContentsAcrossAProcessRestart) {
  // A restart is a close and a reopen of the same file; the outage test above runs in one
  // process, this checks the file alone carries the state.
  const std::string dir = outpost::testing::MakeTempDir("telemetry_restart");
  std::vector<std::string> before;
  {
    auto b = TelemetryBuffer::Open(dir + "/t.db").value();
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(b->Append({{"time_ms", i}, {"model", "m"}, {"version", "1.0.0"}}).ok());
    ASSERT_TRUE(b->Acknowledge(5).ok());
    const std::vector<BufferedRecord> held = b->Peek(100).value();
    for (const auto& r : held) before.push_back(r.json);
  }
  auto b = TelemetryBuffer::Open(dir + "/t.db").value();
  std::vector<std::string> after;
  const std::vector<BufferedRecord> held = b->Peek(100).value();
  for (const auto& r : held) after.push_back(r.json);
  EXPECT_EQ(after, before);
  EXPECT_EQ(after.size(), 15u);
  EXPECT_EQ(b->Append({{"time_ms", 20}, {"model", "m"}, {"version", "1.0.0"}}).value(), 21);
  b.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outpost::agent
