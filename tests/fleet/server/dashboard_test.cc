// The dashboard: its files are served without a token and its data only with one; the
// overview and series figures against what the devices sent; and the page as headless
// Chromium renders it, checked in the DOM its script builds and saved as a screenshot
// (OUTPOST_DASHBOARD_SCREENSHOT: build/<preset>/fleet-dashboard.png).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/cli/cli_runner.h"
#include "tests/fleet/server/device_fleet.h"

namespace outpost::fleet::testing {
namespace {

using DashboardTest = DeviceFleetTest;

TEST_P(DashboardTest, ThePageIsPublicAndItsDataNeedsTheAdminToken) {
  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/", "text/html"}, {"/index.html", "text/html"}, {"/dashboard.js", "text/javascript"},
           {"/dashboard.css", "text/css"}}) {
    SCOPED_TRACE(path);
    Reply r = Send("GET", path, "");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(std::string(httplib::detail::get_header_value(r.headers, "Content-Type", 0, "")).rfind(type, 0), 0u);
    EXPECT_GT(r.body.size(), 500u);
  }
  EXPECT_NE(Send("GET", "/", "").body.find("<title>Outpost fleet</title>"), std::string::npos);
  const EnrolledDevice d = Enroll();
  EXPECT_EQ(Send("GET", "/v1/dashboard/summary", "").status, 401);
  EXPECT_EQ(Send("GET", "/v1/dashboard/summary", d.credential).status, 403);
  EXPECT_EQ(Admin("GET", "/v1/dashboard/summary?window_s=1").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/dashboard/series").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/dashboard/series?model=big_add&color=red").status, 400);
}

TEST_P(DashboardTest, TheOverviewAddsUpWhatTheDevicesSent) {
  const std::vector<EnrolledDevice> devices = Fleet(4);
  Advance(10);
  Report(devices, 0);
  // One device goes quiet for longer than the online window.
  Advance(400);
  Report({devices[0], devices[1], devices[2]}, 0);

  Reply s = Admin("GET", "/v1/dashboard/summary");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.json["devices"]["total"], 4);
  EXPECT_EQ(s.json["devices"]["online"], 3);
  EXPECT_EQ(s.json["devices"]["offline"], 1);
  ASSERT_EQ(s.json["versions"].size(), 1u) << s.body;  // 1.1.0 is registered but runs nowhere
  const nlohmann::json& v = s.json["versions"][0];
  EXPECT_EQ(v["version"], "1.0.0");
  EXPECT_EQ(v["devices"], 4);
  EXPECT_EQ(v["records"], 7);
  EXPECT_DOUBLE_EQ(v["latency_p99_ms"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(v["error_rate"].get<double>(), 0.0);
  EXPECT_TRUE(v["agreement"].is_null());
  // Every poll and telemetry batch was counted: a month is 30 of these days, per device.
  const int64_t day = s.json["bandwidth"]["bytes_last_day"];
  EXPECT_GT(day, 0);
  EXPECT_GT(s.json["bandwidth"]["bytes_last_day_by_kind"]["telemetry"].get<int64_t>(), 0);
  EXPECT_GT(s.json["bandwidth"]["bytes_last_day_by_kind"]["poll"].get<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(s.json["bandwidth"]["bytes_per_device_month"].get<double>(), day * 30.0 / 4);
  EXPECT_DOUBLE_EQ(s.json["bandwidth"]["cost_per_device_month"].get<double>(), day * 30.0 / 4 / 1e9 * 1.0);

  Reply series = Admin("GET", "/v1/dashboard/series?model=big_add&window_s=3600&bucket_s=60");
  ASSERT_EQ(series.status, 200) << series.body;
  int64_t records = 0;
  for (const nlohmann::json& p : series.json["points"]) {
    EXPECT_EQ(p["version"], "1.0.0");
    records += p["records"].get<int64_t>();
  }
  EXPECT_EQ(records, 7);
  EXPECT_EQ(series.json["points"].size(), 2u);  // two reporting rounds, minutes apart
}

std::vector<std::string> Chromium(const std::string& profile, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                  "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                                  // Lets the page's fetches and timers run before the DOM is
                                  // dumped or the screenshot taken.
                                  "--virtual-time-budget=15000", "--window-size=1280,1100"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

// Headless Chromium on one database: the figures it shows are tested on both above.
using DashboardBrowserTest = DeviceFleetTest;

TEST_P(DashboardBrowserTest, ChromiumRendersTheFleet) {
  ASSERT_EQ(outpost::testing::RunProgram({"chromium", "--version"}).exit_code, 0)
      << "Chromium is not installed: run scripts/setup.sh (Debian package chromium)";
  const std::vector<EnrolledDevice> devices = Fleet(10);
  Reply started = Admin("POST", "/v1/rollouts",
                        {{"model", "big_add"}, {"version", "1.1.0"},
                         {"plan", {{"stages", {{{"percent", 20}, {"hold_s", 60}}, {{"percent", 100}, {"hold_s", 60}}}}}}});
  ASSERT_EQ(started.status, 201) << started.body;
  ASSERT_EQ(Admin("POST", "/v1/alert-rules",
                  {{"name", "hot device"}, {"metric", "temperature_c"}, {"op", ">"}, {"threshold", 45},
                   {"model", "big_add"}, {"window_s", 600}})
                .status,
            201);
  for (int round = 0; round < 4; ++round) {
    Advance(30);
    Report(devices, 0);
  }
  ASSERT_TRUE(server_->Tick().ok());

  const std::string url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/#token=" + kAdminToken;
  // The dashboard reads the wall clock for nothing but its "updated" line, and the server
  // answers from the test's clock.
  const outpost::testing::CliResult shown = outpost::testing::RunProgram(Chromium(dir_ + "/chromium-dom", {"--dump-dom", url}));
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::string& dom = shown.out;
  EXPECT_NE(dom.find("data-ready=\"1\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"devices-total\">10<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"alerts-open\">"), std::string::npos);
  EXPECT_NE(dom.find("<td>1.1.0</td>"), std::string::npos) << "the rollout and its version";
  EXPECT_NE(dom.find("state-running"), std::string::npos) << "the rollout's state";
  EXPECT_NE(dom.find("hot device"), std::string::npos) << "the open alert";
  EXPECT_NE(dom.find("<td>no webhook</td>"), std::string::npos) << "an alert kept on the server is not 'pending'";
  EXPECT_NE(dom.find("cam-9"), std::string::npos) << "the device list";
  EXPECT_NE(dom.find("<polyline"), std::string::npos) << "a latency chart line";
  EXPECT_EQ(dom.find("not signed in"), std::string::npos);

  // Without the token the page asks for it and shows no data.
  const std::string bare = "http://127.0.0.1:" + std::to_string(server_->port()) + "/";
  const outpost::testing::CliResult bare_page =
      outpost::testing::RunProgram(Chromium(dir_ + "/chromium-bare", {"--dump-dom", bare}));
  ASSERT_EQ(bare_page.exit_code, 0) << bare_page.err;
  const std::string& dom2 = bare_page.out;
  EXPECT_NE(dom2.find("not signed in"), std::string::npos) << dom2;
  EXPECT_EQ(dom2.find("cam-9"), std::string::npos);

  const std::string png = OUTPOST_DASHBOARD_SCREENSHOT;
  std::filesystem::remove(png);
  const outpost::testing::CliResult shot =
      outpost::testing::RunProgram(Chromium(dir_ + "/chromium-shot", {"--screenshot=" + png, url}));
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  std::ifstream in(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 20000u) << png;  // a rendered page, not an empty canvas
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  std::printf("dashboard screenshot: %s (%zu bytes)\n", png.c_str(), bytes.size());
}

FLEET_SERVER_SUITE(DashboardTest);
INSTANTIATE_TEST_SUITE_P(Databases, DashboardBrowserTest, ::testing::Values("sqlite"), BackendName);

}  // namespace
}  // namespace outpost::fleet::testing
