#include "pipeline/postprocess/postprocess_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "pipeline/config/json_options.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;

SoftmaxMode Softmax(const json& j) {
  return Choice(j, "softmax", SoftmaxMode::kAuto,
                {{"auto", SoftmaxMode::kAuto}, {"always", SoftmaxMode::kAlways},
                 {"never", SoftmaxMode::kNever}});
}

ScoreActivation Activation(const json& j, ScoreActivation fallback) {
  return Choice(j, "activation", fallback,
                {{"none", ScoreActivation::kNone}, {"sigmoid", ScoreActivation::kSigmoid},
                 {"softmax", ScoreActivation::kSoftmax}});
}

ClassificationOptions ParseClassification(const json& j) {
  CheckKeys(j, "classification", {"type", "top_k", "softmax", "min_score"});
  ClassificationOptions o;
  Read(j, "top_k", o.top_k);
  o.softmax = Softmax(j);
  Read(j, "min_score", o.min_score);
  return o;
}

DetectionOptions ParseDetection(const json& j) {
  CheckKeys(j, "detection",
            {"type", "format", "num_classes", "score_threshold", "iou", "max_detections",
             "max_candidates", "class_agnostic", "min_size", "clip", "multi_label", "activation",
             "priors", "variances", "background_class", "yx_order", "head", "encoding", "levels",
             "num_boxes", "objectness", "transposed"});
  DetectionOptions o;
  const std::string format = j.value("format", std::string("yolo"));
  Read(j, "score_threshold", o.score_threshold);
  Read(j, "iou", o.nms.iou_threshold);
  Read(j, "max_detections", o.nms.max_detections);
  Read(j, "max_candidates", o.nms.max_candidates);
  Read(j, "class_agnostic", o.nms.class_agnostic);
  Read(j, "min_size", o.min_size);
  Read(j, "clip", o.clip);
  const int classes = j.at("num_classes").get<int>();
  if (format == "ssd") {
    o.format = DetectionFormat::kSsd;
    SsdOptions& s = o.ssd;
    s.num_classes = classes;
    for (const json& p : j.at("priors")) {
      const auto v = p.get<std::vector<float>>();
      if (v.size() != 4) throw Error("priors: each prior is [cx, cy, w, h]");
      s.priors.push_back({v[0], v[1], v[2], v[3]});
    }
    Read(j, "variances", s.variances);
    Read(j, "background_class", s.background_class);
    Read(j, "yx_order", s.yx_order);
    Read(j, "multi_label", s.multi_label);
    s.activation = Activation(j, ScoreActivation::kNone);
    return o;
  }
  if (format != "yolo") throw Error("format: '" + format + "' is not one of ssd, yolo");
  const std::string head = j.value("head", std::string("flat"));
  if (head == "grid") {
    o.format = DetectionFormat::kYoloGrid;
    YoloGridOptions& g = o.yolo_grid;
    g.num_classes = classes;
    g.encoding = Choice(j, "encoding", YoloBoxEncoding::kV5,
                        {{"v5", YoloBoxEncoding::kV5}, {"v3", YoloBoxEncoding::kV3}});
    Read(j, "multi_label", g.multi_label);
    for (const json& l : j.at("levels")) {
      CheckKeys(l, "levels", {"stride", "grid", "anchors"});
      YoloLevel level;
      level.stride = l.at("stride").get<int>();
      const auto grid = l.at("grid").get<std::vector<int>>();
      if (grid.size() != 2) throw Error("levels: grid is [width, height]");
      level.grid_width = grid[0];
      level.grid_height = grid[1];
      level.anchors = l.at("anchors").get<std::vector<std::pair<float, float>>>();
      g.levels.push_back(std::move(level));
    }
    return o;
  }
  if (head != "flat") throw Error("head: '" + head + "' is not one of grid, flat");
  o.format = DetectionFormat::kYoloFlat;
  YoloFlatOptions& f = o.yolo_flat;
  f.num_classes = classes;
  f.num_boxes = j.at("num_boxes").get<int>();
  Read(j, "objectness", f.objectness);
  Read(j, "transposed", f.transposed);
  Read(j, "multi_label", f.multi_label);
  f.activation = Activation(j, ScoreActivation::kNone);
  return o;
}

AnomalyOptions ParseAnomaly(const json& j) {
  CheckKeys(j, "anomaly", {"type", "metric", "threshold", "baseline"});
  AnomalyOptions o;
  o.metric = Choice(j, "metric", ReconstructionMetric::kMse,
                    {{"mse", ReconstructionMetric::kMse}, {"mae", ReconstructionMetric::kMae}});
  Read(j, "threshold", o.threshold);
  if (j.contains("baseline")) {
    const json& b = j.at("baseline");
    CheckKeys(b, "baseline", {"warmup_frames", "sigmas"});
    o.warmup_frames = b.at("warmup_frames").get<int>();
    Read(b, "sigmas", o.sigmas);
  } else if (!j.contains("threshold")) {
    throw Error("anomaly: give a threshold or a baseline");
  }
  return o;
}

KeywordOptions ParseKeyword(const json& j, std::span<const std::string> labels) {
  CheckKeys(j, "keyword", {"type", "window_frames", "min_frames", "threshold", "suppression_ms",
                           "ignore", "softmax"});
  KeywordOptions o;
  Read(j, "window_frames", o.window_frames);
  Read(j, "min_frames", o.min_frames);
  Read(j, "threshold", o.threshold);
  Read(j, "suppression_ms", o.suppression_ms);
  o.softmax = Softmax(j);
  if (j.contains("ignore")) {
    for (const json& c : j.at("ignore")) {
      if (c.is_number_integer()) {
        o.ignore.push_back(c.get<int>());
        continue;
      }
      const std::string name = c.get<std::string>();
      const auto it = std::find(labels.begin(), labels.end(), name);
      if (it == labels.end()) throw Error("ignore: the model has no label '" + name + "'");
      o.ignore.push_back(static_cast<int>(it - labels.begin()));
    }
  } else {
    // micro_speech's names for its two non-keyword classes.
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == "_silence_" || labels[i] == "_unknown_" || labels[i] == "silence" ||
          labels[i] == "unknown")
        o.ignore.push_back(static_cast<int>(i));
  }
  return o;
}

}  // namespace

Expected<PostprocessConfig> ParsePostprocessConfig(const json& j,
                                                   std::span<const std::string> labels) {
  try {
    if (!j.is_object() || !j.contains("type"))
      throw Error("expected an object with a \"type\"");
    PostprocessConfig c;
    c.type = Choice(j, "type", PostprocessType::kClassification,
                    {{"classification", PostprocessType::kClassification},
                     {"detection", PostprocessType::kDetection},
                     {"anomaly", PostprocessType::kAnomaly},
                     {"keyword", PostprocessType::kKeyword}});
    switch (c.type) {
      case PostprocessType::kClassification: c.classification = ParseClassification(j); break;
      case PostprocessType::kDetection: c.detection = ParseDetection(j); break;
      case PostprocessType::kAnomaly: c.anomaly = ParseAnomaly(j); break;
      case PostprocessType::kKeyword: c.keyword = ParseKeyword(j, labels); break;
    }
    return c;
  } catch (const Error& e) {
    return Error(std::string("postprocess: ") + e.what());
  } catch (const json::exception& e) {
    // Type mismatches and missing required keys, e.g. "iou": "high".
    return Error(std::string("postprocess: ") + e.what());
  }
}

}  // namespace outpost::pipeline
