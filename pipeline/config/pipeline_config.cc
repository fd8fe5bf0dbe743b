#include "pipeline/config/pipeline_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "pipeline/config/json_options.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

void Require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

RealtimeConfig ParseRealtime(const json& j) {
  CheckKeys(j, "realtime", {"queue", "drop", "deadline_ms"});
  RealtimeConfig r;
  Read(j, "queue", r.queue);
  Require(r.queue >= 1, "realtime.queue: must be at least 1");
  r.drop = Choice(j, "drop", DropPolicy::kAuto,
                  {{"auto", DropPolicy::kAuto}, {"oldest", DropPolicy::kOldest},
                   {"block", DropPolicy::kBlock}});
  Read(j, "deadline_ms", r.deadline_ms);
  Require(std::isfinite(r.deadline_ms) && r.deadline_ms >= 0,
          "realtime.deadline_ms: must be 0 (none) or positive");
  return r;
}

ValidationConfig ParseValidation(const json& j) {
  CheckKeys(j, "validation",
            {"reject_black", "reject_white", "reject_constant", "black_level", "white_level",
             "min_stddev"});
  ValidationConfig v;
  Read(j, "reject_black", v.reject_black);
  Read(j, "reject_white", v.reject_white);
  Read(j, "reject_constant", v.reject_constant);
  Read(j, "black_level", v.black_level);
  Read(j, "white_level", v.white_level);
  Read(j, "min_stddev", v.min_stddev);
  Require(v.black_level >= 0 && v.black_level <= 255, "validation.black_level: must be 0..255");
  Require(v.white_level >= 0 && v.white_level <= 255, "validation.white_level: must be 0..255");
  Require(std::isfinite(v.min_stddev) && v.min_stddev >= 0,
          "validation.min_stddev: must be 0 or positive");
  return v;
}

MotionGateConfig ParseMotionGate(const json& j) {
  CheckKeys(j, "duty_cycle.motion_gate", {"threshold", "min_changed", "max_skip"});
  MotionGateConfig m;
  m.enabled = true;
  Read(j, "threshold", m.threshold);
  Read(j, "min_changed", m.min_changed);
  Read(j, "max_skip", m.max_skip);
  Require(std::isfinite(m.threshold) && m.threshold >= 0 && m.threshold < 1,
          "duty_cycle.motion_gate.threshold: must be in [0, 1)");
  Require(std::isfinite(m.min_changed) && m.min_changed >= 0 && m.min_changed <= 1,
          "duty_cycle.motion_gate.min_changed: must be in [0, 1]");
  Require(m.max_skip >= 0, "duty_cycle.motion_gate.max_skip: must be 0 (never) or positive");
  return m;
}

DutyCycleConfig ParseDutyCycle(const json& j) {
  CheckKeys(j, "duty_cycle", {"motion_gate", "uplink"});
  DutyCycleConfig d;
  if (j.contains("motion_gate")) d.motion_gate = ParseMotionGate(j.at("motion_gate"));
  d.uplink = Choice(j, "uplink", UplinkMode::kEvery,
                    {{"every", UplinkMode::kEvery}, {"on_change", UplinkMode::kOnChange}});
  return d;
}

void RequireTyped(const json& j, const char* where) {
  Require(j.is_object() && j.contains("type") && j.at("type").is_string(),
          std::string(where) + ": expected an object with a \"type\"");
}

PipelineConfig Parse(const json& j, const std::string& base_dir) {
  CheckKeys(j, "pipeline",
            {"source", "model", "threads", "preprocess", "postprocess", "actions", "realtime",
             "validation", "duty_cycle", "max_frames"});
  PipelineConfig c;
  c.base_dir = base_dir;
  Require(j.contains("source"), "pipeline: \"source\" is required");
  Require(j.contains("model"), "pipeline: \"model\" is required");
  Require(j.contains("postprocess"), "pipeline: \"postprocess\" is required");
  c.source = j.at("source");
  RequireTyped(c.source, "source");
  c.model = ResolvePath(base_dir, j.at("model").get<std::string>());
  Read(j, "threads", c.threads);
  Require(c.threads >= 0, "threads: must be 0 (one per core) or positive");
  if (j.contains("preprocess")) {
    c.preprocess = j.at("preprocess");
    Require(c.preprocess.is_object(), "preprocess: expected a JSON object");
  }
  c.postprocess = j.at("postprocess");
  RequireTyped(c.postprocess, "postprocess");
  if (j.contains("actions")) {
    const json& actions = j.at("actions");
    Require(actions.is_array(), "actions: expected an array of objects");
    for (size_t i = 0; i < actions.size(); ++i) {
      RequireTyped(actions[i], ("actions[" + std::to_string(i) + "]").c_str());
      c.actions.push_back(actions[i]);
    }
  }
  if (j.contains("realtime")) c.realtime = ParseRealtime(j.at("realtime"));
  if (j.contains("validation")) c.validation = ParseValidation(j.at("validation"));
  if (j.contains("duty_cycle")) c.duty_cycle = ParseDutyCycle(j.at("duty_cycle"));
  Read(j, "max_frames", c.max_frames);
  return c;
}

}  // namespace

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(base_dir) / path).string();
}

Expected<PipelineConfig> ParsePipelineConfig(const json& j, const std::string& base_dir) {
  try {
    return Parse(j, base_dir);
  } catch (const Error& e) {
    return e;
  } catch (const json::exception& e) {
    // Type mismatches, e.g. "queue": "two".
    return Error(std::string("pipeline: ") + e.what());
  }
}

Expected<PipelineConfig> LoadPipelineConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error("cannot open pipeline file " + path);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return Error(path + ": not valid JSON: " + e.what());
  }
  Expected<PipelineConfig> c =
      ParsePipelineConfig(j, std::filesystem::path(path).parent_path().string());
  if (!c) return Error(path + ": " + c.message());
  return c;
}

}  // namespace outpost::pipeline
