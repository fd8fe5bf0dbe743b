// `outpost plan` end to end on a committed zoo model (kws_dscnn, compiled here): the table, the
// JSON, exit codes and one clear error line per bad option.
#include <gtest/gtest.h>

#include <string>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kKws = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/kws_dscnn/model.onnx";

class PlanCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("outpost_plan_cli_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    model_ = dir_ + "/kws.opm";
    compile_ = RunOutpost({"compile", kKws, "-o", model_});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { ASSERT_EQ(compile_.exit_code, 0) << compile_.err; }

  static std::string dir_, model_;
  static CliResult compile_;
};

std::string PlanCliTest::dir_, PlanCliTest::model_;
CliResult PlanCliTest::compile_;

const nlohmann::json* FindTarget(const nlohmann::json& j, const std::string& id) {
  for (const nlohmann::json& t : j["targets"])
    if (t["target"] == id) return &t;
  return nullptr;
}

TEST_F(PlanCliTest, JsonRanksEveryCatalogTarget) {
  const CliResult r = RunOutpost({"plan", model_, "--latency-ms", "50", "--ram-mb", "256", "--power-w", "2",
                                  "--unit-cost", "200", "--runs", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["precision"], "fp32");
  EXPECT_GT(j["model"]["macs"].get<double>(), 0);
  EXPECT_EQ(j["targets"].size(), 13u);  // the committed catalog

  // This host: measured, memory within 256 MiB.
  const nlohmann::json* host = FindTarget(j, "host");
  ASSERT_NE(host, nullptr);
  EXPECT_TRUE((*host)["latency"]["measured"].get<bool>());
  EXPECT_GT((*host)["latency"]["ms"].get<double>(), 0);
  EXPECT_EQ((*host)["checks"]["memory"]["verdict"], "pass");
  EXPECT_EQ((*host)["checks"]["cost"]["verdict"], "unknown");  // the host has no list price

  // rpi4-4gb: two published fp32 ncnn points at 4 threads: an estimate with its LOO error.
  const nlohmann::json* rpi = FindTarget(j, "rpi4-4gb");
  ASSERT_NE(rpi, nullptr);
  ASSERT_FALSE((*rpi)["latency"].is_null());
  EXPECT_FALSE((*rpi)["latency"]["measured"].get<bool>());
  EXPECT_GT((*rpi)["latency"]["error_factor"].get<double>(), 1.0);
  EXPECT_EQ((*rpi)["checks"]["cost"]["verdict"], "pass");  // 55 USD

  // An MCU with no published fp32 point of known MACs: no latency estimate, never a guess;
  // its MLPerf Tiny int8 points say what quantizing would give (2.66 M MACs at the rate of
  // microTVM + CMSIS-NN on the nRF5340: tens of milliseconds).
  const nlohmann::json* nrf = FindTarget(j, "nrf5340");
  ASSERT_NE(nrf, nullptr);
  EXPECT_TRUE((*nrf)["latency"].is_null());
  EXPECT_EQ((*nrf)["checks"]["latency"]["verdict"], "unknown");
  EXPECT_EQ((*nrf)["checks"]["latency"]["detail"], "no fp32 latency estimate");
  ASSERT_FALSE((*nrf)["fixes"].empty());
  const std::string int8_fix = (*nrf)["fixes"][0].get<std::string>();
  EXPECT_EQ(int8_fix.rfind("int8: ", 0), 0u) << int8_fix;
  const double int8_ms = std::stod(int8_fix.substr(6));
  EXPECT_GT(int8_ms, 10);
  EXPECT_LT(int8_ms, 200);

  // The Jetsons draw more than 2 W.
  EXPECT_EQ((*FindTarget(j, "jetson-xavier-nx"))["checks"]["power"]["verdict"], "fail");
  // Ranked: the number of failed constraints never decreases down the table.
  int last_fails = 0;
  for (const nlohmann::json& t : j["targets"]) {
    EXPECT_GE(t["fails"].get<int>(), last_fails);
    last_fails = t["fails"].get<int>();
  }
}

TEST_F(PlanCliTest, TableHasARecommendation) {
  const CliResult r = RunOutpost({"plan", model_, "--latency-ms", "50", "--unit-cost", "200", "--battery-wh", "10",
                                  "--hours", "24", "--duty-cycle", "0.1", "--runs", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rpi4-4gb"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no latency estimate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nrecommendation: "), std::string::npos) << r.out;
}

TEST_F(PlanCliTest, BadOptionsAreOneLineUsageErrors) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--latency-ms", "-5"}, "--latency-ms must be a positive number of milliseconds"},
      {{"--latency-ms", "fast"}, "--latency-ms"},
      {{"--ram-mb", "0"}, "--ram-mb must be a positive number of MiB"},
      {{"--latency-ms", "50", "--duty-cycle", "2"}, "--duty-cycle must be in (0, 1]"},
      {{"--hours", "24"}, "--hours needs --battery-wh"},
      {{}, "give at least one constraint"},
      {{"--latency-ms", "50", "--runs", "0"}, "--runs must be at least 1"},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = {"plan", model_};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = RunOutpost(args);
    EXPECT_EQ(r.exit_code, 2) << message;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

TEST_F(PlanCliTest, MissingModelAndBadCatalogFail) {
  CliResult r = RunOutpost({"plan", dir_ + "/absent.opm", "--latency-ms", "50"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // CLI11's existing-file check
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  r = RunOutpost({"plan", model_, "--latency-ms", "50", "--catalog", dir_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("hardware.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace outpost::testing
