// `outpost decide` end to end: answers from flags and from the questionnaire on stdin, the fit of
// a compiled zoo model (kws_dscnn) on catalog targets, the JSON, and one error line per bad value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kKwsOnnx = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/kws_dscnn/model.onnx";

class DecideCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("outpost_decide_cli_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    model_ = dir_ + "/kws.opm";
    compile_ = RunOutpost({"compile", kKwsOnnx, "-o", model_});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string dir_, model_;
  static CliResult compile_;
};

std::string DecideCliTest::dir_, DecideCliTest::model_;
CliResult DecideCliTest::compile_;

const nlohmann::json* FindingOf(const nlohmann::json& j, const std::string& factor) {
  for (const nlohmann::json& f : j["findings"])
    if (f["factor"] == factor) return &f;
  return nullptr;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(DecideCliTest, FlagsGiveAVerdictWithReasonsInJson) {
  const CliResult r = RunOutpost({"decide", "--latency-ms", "50", "--private-data", "no", "--offline-autonomy", "yes",
                                  "--cross-device", "yes", "--upload-mb-per-day", "500", "--link-cost-per-gb", "2",
                                  "--devices", "200", "--json"});
  ExpectOk(r);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "hybrid");
  EXPECT_EQ((*FindingOf(j, "latency"))["strength"], "decisive");
  EXPECT_EQ((*FindingOf(j, "autonomy"))["side"], "edge");
  EXPECT_EQ((*FindingOf(j, "privacy"))["side"], "neutral");
  EXPECT_EQ((*FindingOf(j, "aggregation"))["side"], "cloud");
  EXPECT_TRUE(Has((*FindingOf(j, "link_cost"))["reason"].get<std::string>(), "365.00 USD a year per device"));
  // The round trip was not given: assumed, with its source.
  ASSERT_EQ(j["assumptions"].size(), 1u);
  EXPECT_EQ(j["assumptions"][0]["value"], "55 ms");
  EXPECT_TRUE(j["answers"]["rtt_ms"].is_null());
  EXPECT_EQ(j["answers"]["latency_ms"].get<double>(), 50);
  // Unanswered questions are listed, not assumed.
  std::vector<std::string> unanswered;
  for (const nlohmann::json& u : j["unanswered"]) unanswered.push_back(u["factor"]);
  EXPECT_EQ(unanswered, (std::vector<std::string>{"availability", "uplink", "model_fit"}));
  EXPECT_EQ(j["answered"], 6);
  EXPECT_FALSE(j["reasons"].empty());
  EXPECT_FALSE(j["would_change"].empty());
}

TEST_F(DecideCliTest, TextNamesVerdictFindingsAndUnanswered) {
  const CliResult r = RunOutpost({"decide", "--latency-ms", "20", "--rtt-ms", "80"});
  ExpectOk(r);
  EXPECT_EQ(r.out.rfind("verdict: edge\n", 0), 0u) << r.out;
  EXPECT_TRUE(Has(r.out, "latency budget 20 ms is below the cloud round trip 80 ms: only edge can meet it")) << r.out;
  EXPECT_TRUE(Has(r.out, "not answered:")) << r.out;
  EXPECT_TRUE(Has(r.out, "would change the verdict:")) << r.out;
  EXPECT_FALSE(Has(r.out, "assumed:")) << r.out;
}

TEST_F(DecideCliTest, NoAnswersIsInsufficient) {
  const CliResult r = RunOutpost({"decide"});
  ExpectOk(r);
  EXPECT_EQ(r.out.rfind("verdict: insufficient answers\n", 0), 0u) << r.out;
  EXPECT_TRUE(Has(r.out, "answer these first:\n  - latency budget")) << r.out;
}

TEST_F(DecideCliTest, ModelFitOnCatalogTargets) {
  ASSERT_EQ(compile_.exit_code, 0) << compile_.err;
  CliResult r = RunOutpost({"decide", "--model", model_, "--target", "rpi4-4gb", "--json"});
  ExpectOk(r);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["answers"]["model_fit"]["result"], "fits");
  EXPECT_LT(j["answers"]["model_fit"]["ram_share"].get<double>(), 0.001);  // ~251 KiB of 4 GiB
  EXPECT_TRUE(Has(j["answers"]["model_fit"]["detail"].get<std::string>(), "on rpi4-4gb"));
  // The model's size defaults to its weights (88.3 KiB).
  EXPECT_NEAR(j["answers"]["model_mb"].get<double>(), 0.09, 0.01);
  EXPECT_EQ((*FindingOf(j, "model_fit"))["side"], "neutral");

  // A model without a target: the fit is unanswered, and says how to answer it.
  r = RunOutpost({"decide", "--model", model_, "--json"});
  ExpectOk(r);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["answers"]["model_fit"]["result"], "unknown");
  EXPECT_EQ(FindingOf(j, "model_fit"), nullptr);
}

TEST_F(DecideCliTest, InteractiveAsksSkipsAndReasksOnce) {
  // latency 40; round trip skipped (assumed); input bytes "foo" then 1000; end of input.
  const CliResult r = RunOutpostWithInput({"decide", "--interactive", "--json"}, "40\n\nfoo\n1000\n");
  ExpectOk(r);
  EXPECT_TRUE(Has(r.err, "Latency budget per inference, end to end (ms) [skip]: \n")) << r.err;
  EXPECT_TRUE(Has(r.err, "Round trip to the cloud (ms) [assume 55: median 4G LTE ping, Catchpoint 2013]: \n")) << r.err;
  EXPECT_TRUE(Has(r.err, "  invalid: 'foo' is not a number; once more\n")) << r.err;
  EXPECT_TRUE(Has(r.err, "Uplink rate (Mbit/s) [skip]: \n")) << r.err;  // asked, then end of input
  EXPECT_FALSE(Has(r.err, "Number of devices")) << r.err;                // never reached
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["answers"]["latency_ms"].get<double>(), 40);
  EXPECT_TRUE(j["answers"]["rtt_ms"].is_null());
  EXPECT_EQ(j["answers"]["input_bytes"].get<double>(), 1000);
  EXPECT_EQ(j["verdict"], "edge");  // 40 ms < the assumed 55 ms round trip
}

TEST_F(DecideCliTest, InteractiveYesNoAndFlagsAreNotAskedAgain) {
  // Given by flag: latency. Asked: rtt, input bytes, uplink, upload/day, uptime, cost (6 skips),
  // then private data: yes.
  const CliResult r = RunOutpostWithInput({"decide", "--latency-ms", "500", "--interactive"}, "\n\n\n\n\n\nyes\n");
  ExpectOk(r);
  EXPECT_FALSE(Has(r.out, "Latency budget per inference")) << r.out;
  EXPECT_TRUE(Has(r.out, "Must the raw data stay on the device (yes/no) [skip]: \n")) << r.out;
  EXPECT_TRUE(Has(r.out, "verdict: edge\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "raw data may not leave the device")) << r.out;
}

TEST_F(DecideCliTest, InteractiveInvalidTwiceIsAUsageError) {
  const CliResult r = RunOutpostWithInput({"decide", "--interactive"}, "-5\nfast\n");
  // The questions went to stdout; the error is the one line on stderr.
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_EQ(r.err_lines()[0], "outpost: error: --latency-ms: 'fast' is not a number (see 'outpost decide --help')");
  EXPECT_TRUE(Has(r.out, "  invalid: --latency-ms must be a positive number of milliseconds; once more")) << r.out;
}

TEST_F(DecideCliTest, BadValuesAreOneLineUsageErrors) {
  ASSERT_EQ(compile_.exit_code, 0) << compile_.err;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--private-data", "maybe"}, "--private-data: 'maybe' is not yes or no"},
      {{"--link-uptime", "2"}, "--link-uptime must be in (0, 1]"},
      {{"--latency-ms", "fast"}, "--latency-ms"},
      {{"--latency-ms", "0"}, "--latency-ms must be a positive number of milliseconds"},
      {{"--devices", "2.5"}, "--devices must be a whole number"},
      {{"--inferences-per-day", "100"}, "--inferences-per-day needs --input-bytes"},
      {{"--target", "rpi4-4gb"}, "--target needs --model"},
      {{"--model", model_, "--model-fits", "yes"}, "give --model-fits or --model, not both"},
      {{"--model", model_, "--target", "toaster"}, "toaster"},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = {"decide"};
    args.insert(args.end(), extra.begin(), extra.end());
    ExpectError(RunOutpost(args), message, 2);
  }
  ExpectError(RunOutpost({"decide", "--model", model_, "--target", "rpi4-4gb", "--catalog", dir_}), "hardware.json", 1);
}

}  // namespace
}  // namespace outpost::testing
