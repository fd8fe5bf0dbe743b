#include <cmath>
#include <nlohmann/json.hpp>

#include "pipeline/postprocess/postprocess_result.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

// nlohmann would write NaN as null anyway; being explicit keeps that a decision, not an
// accident of the library version.
json Number(float v) { return std::isfinite(v) ? json(v) : json(nullptr); }

void PutLabel(json& j, std::string_view label) {
  if (!label.empty()) j["label"] = std::string(label);
}

struct ToJsonVisitor {
  json operator()(const ClassificationResult& r) const {
    json list = json::array();
    for (const ClassScore& c : r.classes) {
      json e = {{"class", c.class_id}, {"score", Number(c.score)}};
      PutLabel(e, c.label);
      list.push_back(std::move(e));
    }
    return {{"type", "classification"}, {"classes", std::move(list)}};
  }
  json operator()(const DetectionResult& r) const {
    json list = json::array();
    for (const Detection& d : r.detections) {
      json e = {{"class", d.class_id},
                {"score", Number(d.score)},
                {"box", {Number(d.box.x1), Number(d.box.y1), Number(d.box.x2), Number(d.box.y2)}}};
      PutLabel(e, d.label);
      list.push_back(std::move(e));
    }
    return {{"type", "detection"}, {"detections", std::move(list)}};
  }
  json operator()(const AnomalyScore& r) const {
    return {{"type", "anomaly"},       {"error", Number(r.error)},
            {"threshold", Number(r.threshold)}, {"anomalous", r.anomalous},
            {"warming_up", r.warming_up},       {"z_score", Number(r.z_score)}};
  }
  json operator()(const KeywordResult& r) const {
    json j = {{"type", "keyword"},
              {"class", r.class_id},
              {"score", Number(r.score)},
              {"detected", r.detected},
              {"time_ms", r.time_ms}};
    PutLabel(j, r.label);
    return j;
  }
};

}  // namespace

nlohmann::json ToJson(const PostprocessResult& result) {
  return std::visit(ToJsonVisitor{}, result);
}

}  // namespace outpost::pipeline
