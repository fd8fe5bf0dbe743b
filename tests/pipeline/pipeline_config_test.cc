#include "pipeline/config/pipeline_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/runner/preprocess_step.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

json Minimal() {
  return json::parse(R"({
    "source": {"type": "images", "path": "data"},
    "model": "m.opm",
    "postprocess": {"type": "classification"}
  })");
}

TEST(PipelineConfig, DefaultsOfAMinimalFile) {
  Expected<PipelineConfig> c = ParsePipelineConfig(Minimal(), "/base");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->model, "/base/m.opm");
  EXPECT_EQ(c->threads, 1);
  EXPECT_EQ(c->realtime.queue, 2);
  EXPECT_EQ(c->realtime.drop, DropPolicy::kAuto);
  EXPECT_EQ(c->realtime.deadline_ms, 0);
  EXPECT_TRUE(c->validation.reject_constant);
  EXPECT_FALSE(c->duty_cycle.motion_gate.enabled);
  EXPECT_EQ(c->duty_cycle.uplink, UplinkMode::kEvery);
  EXPECT_TRUE(c->actions.empty());
  EXPECT_EQ(c->max_frames, 0u);
  EXPECT_EQ(c->source["path"], "data");
}

TEST(PipelineConfig, EverySection) {
  json j = Minimal();
  j["model"] = "/abs/m.opm";
  j["threads"] = 2;
  j["preprocess"] = {{"fit", "letterbox"}, {"resize", "area"}, {"pad_value", 0}};
  j["actions"] = json::parse(R"([{"type": "stdout"}, {"type": "file", "path": "o.jsonl"}])");
  j["realtime"] = {{"queue", 4}, {"drop", "oldest"}, {"deadline_ms", 50}};
  j["validation"] = {{"reject_constant", false}, {"min_stddev", 3.5}};
  j["duty_cycle"] = json::parse(
      R"({"motion_gate": {"threshold": 0.05, "min_changed": 0.02, "max_skip": 10},
          "uplink": "on_change"})");
  j["max_frames"] = 100;
  Expected<PipelineConfig> c = ParsePipelineConfig(j, "/base");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->model, "/abs/m.opm");
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->actions.size(), 2u);
  EXPECT_EQ(c->realtime.queue, 4);
  EXPECT_EQ(c->realtime.drop, DropPolicy::kOldest);
  EXPECT_EQ(c->realtime.deadline_ms, 50);
  EXPECT_FALSE(c->validation.reject_constant);
  EXPECT_EQ(c->validation.min_stddev, 3.5);
  EXPECT_TRUE(c->duty_cycle.motion_gate.enabled);
  EXPECT_DOUBLE_EQ(c->duty_cycle.motion_gate.threshold, 0.05);
  EXPECT_EQ(c->duty_cycle.motion_gate.max_skip, 10);
  EXPECT_EQ(c->duty_cycle.uplink, UplinkMode::kOnChange);
  EXPECT_EQ(c->max_frames, 100u);
  EXPECT_TRUE(ParsePreprocessOptions(c->preprocess).ok());
}

void ExpectError(const json& j, const std::string& part) {
  Expected<PipelineConfig> c = ParsePipelineConfig(j, "");
  ASSERT_FALSE(c.ok()) << j.dump();
  EXPECT_NE(c.message().find(part), std::string::npos) << c.message();
}

TEST(PipelineConfig, UnknownKeysNameTheirPlace) {
  json j = Minimal();
  j["treads"] = 2;
  ExpectError(j, "pipeline: unknown option 'treads'");
  j = Minimal();
  j["realtime"] = {{"dorp", "oldest"}};
  ExpectError(j, "realtime: unknown option 'dorp'");
  j = Minimal();
  j["duty_cycle"] = {{"motion_gate", {{"treshold", 0.1}}}};
  ExpectError(j, "duty_cycle.motion_gate: unknown option 'treshold'");
  j = Minimal();
  j["validation"] = {{"min_std", 1}};
  ExpectError(j, "validation: unknown option 'min_std'");
}

TEST(PipelineConfig, BadValues) {
  json j = Minimal();
  j["realtime"] = {{"queue", 0}};
  ExpectError(j, "realtime.queue");
  j["realtime"] = {{"queue", "two"}};
  ExpectError(j, "option 'queue' has the wrong type (\"two\")");
  j["realtime"] = {{"drop", "newest"}};
  ExpectError(j, "'newest' is not one of auto, oldest, block");
  j["realtime"] = {{"deadline_ms", -1}};
  ExpectError(j, "deadline_ms");
  j = Minimal();
  j["duty_cycle"] = {{"uplink", "sometimes"}};
  ExpectError(j, "'sometimes' is not one of every, on_change");
  j = Minimal();
  j["duty_cycle"] = {{"motion_gate", {{"min_changed", 2}}}};
  ExpectError(j, "min_changed");
  j = Minimal();
  j["threads"] = -1;
  ExpectError(j, "threads");
  j = Minimal();
  j["actions"] = json::array({{{"path", "x"}}});
  ExpectError(j, "actions[0]: expected an object with a \"type\"");
  j = Minimal();
  j.erase("model");
  ExpectError(j, "\"model\" is required");
  ExpectError(json::array(), "pipeline: expected a JSON object");
}

TEST(PipelineConfig, PreprocessOptions) {
  EXPECT_TRUE(ParsePreprocessOptions(json::object()).ok());
  Expected<PreprocessOptions> parsed = ParsePreprocessOptions({{"fit", "center_crop"}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->fit, io::FitMode::kCenterCrop);
  EXPECT_EQ(parsed->resize, io::ResizeMethod::kBilinear);
  EXPECT_FALSE(ParsePreprocessOptions({{"pad_value", 300}}).ok());
  Expected<PreprocessOptions> bad = ParsePreprocessOptions({{"resize", "letterbox"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'letterbox' is not one of bilinear, area"), std::string::npos);
  Expected<PreprocessOptions> unknown = ParsePreprocessOptions({{"mean", 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown option 'mean'"), std::string::npos);
}

TEST(PipelineConfig, LoadResolvesPathsFromTheFilesFolder) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("outpost_pipeline_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "p.json") << Minimal().dump();
    std::ofstream(dir / "bad.json") << "{\"source\": ";
  }
  Expected<PipelineConfig> c = LoadPipelineConfig((dir / "p.json").string());
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->model, (dir / "m.opm").string());
  EXPECT_EQ(c->base_dir, dir.string());
  Expected<PipelineConfig> bad = LoadPipelineConfig((dir / "bad.json").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("not valid JSON"), std::string::npos) << bad.message();
  EXPECT_FALSE(LoadPipelineConfig((dir / "missing.json").string()).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outpost::pipeline
