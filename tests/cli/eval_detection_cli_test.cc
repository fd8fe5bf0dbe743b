// `outpost eval --synthetic`: the committed shapes detector compiled by the CLI and scored on
// synthetic frames, its labels carried into the .opm, and the option errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kZoo = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/shapes_detector";

class EvalDetectionCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        (fs::temp_directory_path() / ("outpost_eval_det_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    model_ = dir_ + "/shapes.opm";
    config_ = dir_ + "/detection.json";
    std::ifstream meta(kZoo + "/meta.json");
    std::ofstream(config_) << nlohmann::json::parse(meta).at("postprocess").dump();
    compile_ = RunOutpost({"compile", kZoo + "/model.onnx", "-o", model_});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override { ASSERT_EQ(compile_.exit_code, 0) << compile_.err; }

  static void ExpectFailure(const std::vector<std::string>& args, const std::string& want,
                            int code) {
    const CliResult r = RunOutpost(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }

  static std::string dir_, model_, config_;
  static CliResult compile_;
};

std::string EvalDetectionCliTest::dir_, EvalDetectionCliTest::model_, EvalDetectionCliTest::config_;
CliResult EvalDetectionCliTest::compile_;

TEST_F(EvalDetectionCliTest, ScoresTheDetectorWithItsLabels) {
  const CliResult r = RunOutpost({"eval", model_, "--synthetic", "30", "--detection", config_,
                                  "--camera", R"({"seed": 5})", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 30);
  EXPECT_EQ(j["camera"]["seed"], 5);
  EXPECT_EQ(j["camera"]["width"], 160);  // the model's input size by default
  EXPECT_GT(j["map50"].get<double>(), 0.2);
  EXPECT_LE(j["map50"].get<double>(), 1.0);
  EXPECT_LE(j["map"].get<double>(), j["map50"].get<double>());
  ASSERT_EQ(j["classes"].size(), 3u);
  EXPECT_EQ(j["classes"][0]["label"], "circle");
  EXPECT_EQ(j["classes"][2]["label"], "triangle");

  const CliResult text = RunOutpost({"eval", model_, "--synthetic", "10", "--detection", config_});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("mAP@0.5: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("mAP@[.5:.95]: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("AP@[.5:.95]"), std::string::npos) << text.out;
}

TEST_F(EvalDetectionCliTest, RefusesBadOptions) {
  ExpectFailure({"eval", model_, "--synthetic", "10"}, "--detection", 2);
  ExpectFailure({"eval", model_, "--detection", config_}, "--synthetic", 2);
  ExpectFailure({"eval", model_, "--synthetic", "0", "--detection", config_}, "at least 1", 2);
  ExpectFailure({"eval", model_, "--synthetic", "5", "--detection", config_, "--data", dir_},
                "does not go with", 2);
  ExpectFailure({"eval", model_, "--synthetic", "5", "--detection", config_, "--camera", "{"},
                "--camera", 2);
  ExpectFailure(
      {"eval", model_, "--synthetic", "5", "--detection", config_, "--camera", R"({"nosie": 3})"},
      "unknown option 'nosie'", 1);
  ExpectFailure({"eval", model_, "--synthetic", "5", "--detection", dir_ + "/none.json"},
                "none.json", 1);
  const std::string classification = dir_ + "/classification.json";
  std::ofstream(classification) << R"({"type": "classification"})";
  ExpectFailure({"eval", model_, "--synthetic", "5", "--detection", classification},
                "not a detection config", 1);
}

}  // namespace
}  // namespace outpost::testing
