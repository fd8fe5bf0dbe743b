// The load generator at small scale against the real CLI server, on SQLite and on a PostgreSQL
// server on loopback: 100-200 devices enroll, poll and send telemetry (retries and deliberate
// resends put the same records on the wire twice) while v2 is rolled out 1% -> 10% -> 50% ->
// 100%. Every acknowledged record must be stored exactly once, every device must end on v2 by
// a verified update, and no request may be answered 5xx.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>

#include "tests/fleet/load/fleet_load.h"
#include "tests/fleet/store/postgres_fixture.h"
#include "tests/support/sanitizers.h"

namespace outpost::fleet::load {
namespace {

class FleetLoadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FleetLoadTest, RolloutUnderLoadStoresEveryRecordOnce) {
  LoadOptions o;
  o.outpost_bin = OUTPOST_BIN;
  o.backend = GetParam();
  if (GetParam() == "postgresql") {
    Expected<std::string> url = outpost::fleet::testing::CreateTemporaryPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.message();
    o.store_url = *url;
  }
  // 200 devices; 100 where each request costs more (PostgreSQL's round trips, AddressSanitizer)
  // to keep the test well under 30 s on a loaded machine.
  o.devices = GetParam() == "postgresql" || outpost::testing::kAddressSanitizer ? 100 : 200;
  o.connections = 8;
  o.steady_s = 1;
  o.rollout_after_s = 0;
  o.rollout_timeout_s = 60;
  o.hold_s = 0;
  o.min_records = 10;
  o.batch = 5;
  o.resend_share = 0.05;
  o.model_kib = 16;
  o.range_kib = 4;  // the delta and any full package come in several Range requests
  o.tick_ms = 50;
  Expected<LoadReport> run = RunFleetLoad(o);
  ASSERT_TRUE(run.ok()) << run.message();
  const LoadReport& r = *run;
  std::cout << FormatLoadReport(r);  // the figures, for the test log
  EXPECT_TRUE(r.ok()) << FormatLoadReport(r);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.duplicated, 0);
  EXPECT_EQ(r.devices_mismatched, 0) << r.first_mismatch;
  EXPECT_GT(r.records_expected, o.devices * 5);
  EXPECT_EQ(r.records_stored, r.records_expected);
  EXPECT_EQ(r.devices_on_v2, o.devices);
  EXPECT_EQ(r.deltas + r.full_downloads, o.devices);
  EXPECT_GT(r.rollout_s, 0);
  EXPECT_GT(r.rollout_completed_s, 0);
  // Batches sent twice on purpose were absorbed as duplicates.
  EXPECT_GT(r.resent_batches, 0);
  EXPECT_GE(r.duplicates_reported, r.resent_batches * 5);
  ASSERT_EQ(r.endpoints.size(), 6u);
  for (const EndpointFigures& e : r.endpoints) {
    EXPECT_EQ(e.status_5xx, 0) << e.name;
    EXPECT_EQ(e.status_4xx, 0) << e.name;
    EXPECT_GT(e.requests, 0) << e.name;
  }
  EXPECT_GT(r.server_peak_rss_kib, 0);
  const nlohmann::json j = LoadReportJson(r);
  EXPECT_EQ(j["lost"], 0);
  EXPECT_EQ(j["endpoints"]["telemetry"]["status_5xx"], 0);
}

TEST(FleetLoadStartTest, ServerThatCannotStartIsAClearError) {
  LoadOptions o;
  o.outpost_bin = "/nonexistent/outpost";
  o.devices = 1;
  Expected<LoadReport> run = RunFleetLoad(o);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.message().find("/nonexistent/outpost"), std::string::npos) << run.message();
}

TEST(FleetLoadStartTest, PortInUseIsNamed) {
  const int busy = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(busy, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&a), &len), 0);
  LoadOptions o;
  o.outpost_bin = OUTPOST_BIN;
  o.devices = 1;
  o.port = ntohs(a.sin_port);
  Expected<LoadReport> run = RunFleetLoad(o);
  close(busy);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.message().find("exited with status"), std::string::npos) << run.message();
  EXPECT_NE(run.message().find("port already in use"), std::string::npos) << run.message();
  EXPECT_NE(run.message().find("cannot listen on 127.0.0.1:" + std::to_string(o.port)), std::string::npos)
      << run.message();
}

INSTANTIATE_TEST_SUITE_P(Databases, FleetLoadTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace outpost::fleet::load
