// `outpost cost` end to end: the tables, the JSON, the measured traffic of a real SQLite fleet
// database filled here through FleetStore, package sizes from files, and one error line per bad
// option.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fleet/store/fleet_store.h"
#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kBase = 20'000 * kDay;  // a UTC midnight

class CostCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("outpost_cost_cli_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteFile(const std::string& name, size_t bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
    return path;
  }

  // Three devices over three days: each sends 1000 telemetry bytes and 500 poll bytes a day;
  // d-a downloads one 2,000,000-byte package on day 1. Four telemetry records, one with events.
  std::string FillFleet() {
    const std::string url = "sqlite:" + dir_ + "/fleet.db";
    auto opened = fleet::FleetStore::Open(url, 1);
    EXPECT_TRUE(opened.ok()) << opened.message();
    fleet::FleetStore& s = *opened.value();
    for (const std::string id : {"d-a", "d-b", "d-c"}) {
      EXPECT_TRUE(s.AddEnrollmentToken({"tok-" + id, "g", {}, 0, 1, 0}).ok());
      fleet::Device d;
      d.id = id;
      d.name = id;
      d.credential_hash = "cred-" + id;
      EXPECT_TRUE(s.Enroll("tok-" + id, d, kBase).ok());
      for (int day = 0; day < 3; ++day) {
        const int64_t t = kBase + day * kDay + 3'600'000;
        EXPECT_TRUE(s.RecordTransfer({id, "telemetry", 1000, t}).ok());
        EXPECT_TRUE(s.RecordTransfer({id, "poll", 500, t + 1}).ok());
      }
    }
    EXPECT_TRUE(s.RecordTransfer({"d-a", "package", 2'000'000, kBase + kDay + 7'200'000}).ok());
    EXPECT_TRUE(s.AddModelVersion({"m", "1.0.0", 1, "dig1", 2'000'000, "", "{}", "{}", kBase}).ok());
    std::vector<fleet::TelemetryRecord> records;
    for (int i = 1; i <= 4; ++i) {
      fleet::TelemetryRecord r;
      r.device_id = "d-a";
      r.seq = i;
      r.time_ms = kBase + i * 60'000;
      r.model = "m";
      r.version = "1.0.0";
      r.inferences = 10;
      r.body_json = i == 4 ? R"({"seq":4,"events":["committed 1.0.0"]})" : R"({"seq":1})";
      records.push_back(r);
    }
    EXPECT_TRUE(s.InsertTelemetry(records).ok());
    return url;
  }

  std::string dir_;
};

const nlohmann::json& Named(const nlohmann::json& list, const std::string& key, const std::string& name) {
  for (const nlohmann::json& e : list)
    if (e[key] == name) return e;
  throw std::runtime_error("no " + name);
}

TEST_F(CostCliTest, TableHasLineItemsSavingsAndSources) {
  const CliResult r = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "100", "--years", "5", "--power-w", "3.4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* text : {"hardware", "energy", "connectivity", "maintenance", "replacement", "total", "savings",
                           "delta updates vs full packages", "event-only uplink", "duty cycling", "figures used",
                           "eia.gov", "bls.gov", "traffic not measured"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  // (55 USD) / 5 years = 11.00 per device-year, 1100.00 for 100 devices.
  EXPECT_NE(r.out.find("11.00"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1100.00"), std::string::npos) << r.out;
}

TEST_F(CostCliTest, JsonWithFilesForUpdateSizes) {
  const std::string pkg = WriteFile("m.opk", 2'000'000);
  const std::string delta = WriteFile("m.opd", 500'000);
  const CliResult r = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "10", "--years", "4", "--power-w", "3",
                                  "--package", pkg, "--delta", delta, "--updates-per-year", "12", "--data-usd-per-mb", "0.05",
                                  "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["measured"].is_null());
  EXPECT_EQ(j["target"]["id"], "rpi4-4gb");
  EXPECT_DOUBLE_EQ(Named(j["lines"], "item", "hardware")["usd_per_device_year"].get<double>(), 55.0 / 4);
  // Always on: 3 W x 8760 h = 26.28 kWh at the default 0.1545 USD/kWh.
  EXPECT_NEAR(Named(j["lines"], "item", "energy")["usd_per_device_year"].get<double>(), 26.28 * 0.1545, 1e-9);
  const nlohmann::json& pkg_fig = Named(j["figures"], "name", "package_bytes");
  EXPECT_EQ(pkg_fig["origin"], "file");
  EXPECT_DOUBLE_EQ(pkg_fig["value"].get<double>(), 2'000'000);
  // 12 x (2 - 0.5) MB x 0.05 USD/MB.
  EXPECT_NEAR(Named(j["savings"], "name", "delta updates vs full packages")["usd_per_device_year"].get<double>(), 0.9, 1e-9);
  EXPECT_NEAR(Named(j["savings"], "name", "delta updates vs full packages")["fleet_usd_over_life"].get<double>(), 36.0, 1e-9);
  // Not measured: the telemetry default is labelled as such, and the event-only saving is unknown.
  EXPECT_EQ(Named(j["figures"], "name", "telemetry_bytes_per_day")["origin"], "default");
  EXPECT_TRUE(Named(j["savings"], "name", "event-only uplink vs periodic telemetry")["usd_per_device_year"].is_null());
  // Every default figure names its public source.
  for (const nlohmann::json& f : j["figures"])
    if (f["origin"] == "default" && f["name"] != "install_usd" && f["name"] != "telemetry_bytes_per_day" && f["name"] != "poll_bytes_per_day")
      EXPECT_NE(f["basis"].get<std::string>().find("http"), std::string::npos) << f.dump();
}

TEST_F(CostCliTest, FleetDatabaseGivesMeasuredTraffic) {
  const std::string url = FillFleet();
  const CliResult r = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "12", "--years", "3", "--power-w", "3",
                                  "--fleet-db", url, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["measured"].is_null());
  EXPECT_EQ(j["measured"]["days"], 3);
  EXPECT_EQ(j["measured"]["devices"], 3);
  EXPECT_EQ(j["measured"]["enrolled_devices"], 3);
  EXPECT_DOUBLE_EQ(j["measured"]["bytes_per_device_per_day"]["telemetry"].get<double>(), 1000);
  EXPECT_DOUBLE_EQ(j["measured"]["bytes_per_device_per_day"]["poll"].get<double>(), 500);
  EXPECT_NEAR(j["measured"]["bytes_per_device_per_day"]["package"].get<double>(), 2e6 / 9, 1e-6);
  EXPECT_EQ(j["measured"]["telemetry_records"], 4);
  EXPECT_EQ(j["measured"]["event_records"], 1);

  const nlohmann::json& tel = Named(j["figures"], "name", "telemetry_bytes_per_day");
  EXPECT_EQ(tel["origin"], "measured");
  EXPECT_NE(tel["basis"].get<std::string>().find("measured: 3 days, 3 devices"), std::string::npos) << tel.dump();
  // The package size is the mean package download; the update count is the downloads per
  // device-year: 1 / (3 devices x 3 days) x 365.
  EXPECT_EQ(j["measured"]["transfers"]["package"], 1);
  EXPECT_EQ(Named(j["figures"], "name", "package_bytes")["origin"], "measured");
  EXPECT_DOUBLE_EQ(Named(j["figures"], "name", "package_bytes")["value"].get<double>(), 2e6);
  EXPECT_NEAR(Named(j["figures"], "name", "updates_per_year")["value"].get<double>(), 365.0 / 9, 1e-9);
  // OTA MB per device-year: 2e6/9 B/day x 365.
  EXPECT_NEAR(j["connectivity_mb_per_device_year"]["ota"].get<double>(), 2e6 / 9 * 365 / 1e6, 1e-9);
  // Connectivity: (1000 + 500 + 2e6/9) B/day x 365 / 1e6 x 0.03 USD/MB.
  EXPECT_NEAR(Named(j["lines"], "item", "connectivity")["usd_per_device_year"].get<double>(),
              (1500 + 2e6 / 9) * 365 / 1e6 * 0.03, 1e-9);
  // Event share: the byte share of the one record carrying events.
  const nlohmann::json& share = Named(j["figures"], "name", "event_share");
  EXPECT_EQ(share["origin"], "measured");
  const double event_bytes = std::string(R"({"seq":4,"events":["committed 1.0.0"]})").size();
  const double all_bytes = event_bytes + 3 * std::string(R"({"seq":1})").size();
  EXPECT_NEAR(share["value"].get<double>(), event_bytes / all_bytes, 1e-12);
  EXPECT_NEAR(Named(j["savings"], "name", "event-only uplink vs periodic telemetry")["usd_per_device_year"].get<double>(),
              1000 * 365 / 1e6 * (1 - event_bytes / all_bytes) * 0.03, 1e-12);

  // The table says it was measured.
  const CliResult table = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "12", "--years", "3", "--fleet-db", url});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("traffic measured: 3 days, 3 devices"), std::string::npos) << table.out;
}

TEST_F(CostCliTest, LessThanADayMeasuresSizesNotRates) {
  const std::string url = "sqlite:" + dir_ + "/short.db";
  {
    auto opened = fleet::FleetStore::Open(url, 1);
    ASSERT_TRUE(opened.ok()) << opened.message();
    // Two devices, 100 telemetry bytes each at the start and the end of six hours, and 300
    // bytes of polls in two exchanges: no telemetry record is stored, so only the polls give
    // a size per message.
    for (const std::string id : {"d-a", "d-b"}) {
      ASSERT_TRUE(opened.value()->RecordTransfer({id, "telemetry", 100, kBase}).ok());
      ASSERT_TRUE(opened.value()->RecordTransfer({id, "telemetry", 100, kBase + kDay / 4 - 1}).ok());
    }
    ASSERT_TRUE(opened.value()->RecordTransfer({"d-a", "poll", 100, kBase + 1}).ok());
    ASSERT_TRUE(opened.value()->RecordTransfer({"d-b", "poll", 200, kBase + 2}).ok());
  }
  const CliResult r = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--fleet-db", url, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["measured"]["days"].get<double>(), 0.25);
  EXPECT_FALSE(j["measured"]["whole_days"].get<bool>());
  // Six hours scaled to a year would be a guess: no rate is reported from them.
  EXPECT_TRUE(j["measured"]["bytes_per_device_per_day"].is_null());
  EXPECT_EQ(j["measured"]["bytes"]["telemetry"].get<int64_t>(), 400);
  // The poll rate is the agent's default (one a minute) at the measured 150 bytes per exchange.
  const nlohmann::json* poll = nullptr;
  for (const nlohmann::json& f : j["figures"])
    if (f["name"] == "poll_bytes_per_day") poll = &f;
  ASSERT_NE(poll, nullptr) << j["figures"].dump();
  EXPECT_DOUBLE_EQ((*poll)["value"].get<double>(), 150.0 * 1440);
  EXPECT_NE((*poll)["basis"].get<std::string>().find("measured size, default rate"), std::string::npos) << poll->dump();
}

TEST_F(CostCliTest, EmptyFleetDatabaseIsAnError) {
  const std::string url = "sqlite:" + dir_ + "/empty.db";
  ASSERT_TRUE(fleet::FleetStore::Open(url, 1).ok());
  const CliResult r = RunOutpost({"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--fleet-db", url});
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("no recorded transfers"), std::string::npos) << r.err;
}

TEST_F(CostCliTest, BadOptionsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"cost", "--target", "rpi4-4gb", "--devices", "0", "--years", "1"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "0"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--duty-cycle", "2"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--failure-rate", "1.5"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--electricity-usd-per-kwh", "-1"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--delta-updates"},
      {"cost", "--target", "no-such-board", "--devices", "1", "--years", "1"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--no-such-flag"},
      {"cost", "--devices", "1", "--years", "1"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--package", "/no/such/file.opk"},
      {"cost", "--target", "rpi4-4gb", "--devices", "1", "--years", "1", "--fleet-db", "sqlite:/no/such/fleet.db"},
  };
  for (const auto& args : bad) {
    const CliResult r = RunOutpost(args);
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << r.err;
    EXPECT_EQ(r.err_lines().size(), 1u) << joined << r.err;
  }
}

}  // namespace
}  // namespace outpost::testing
