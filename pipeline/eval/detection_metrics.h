// Detection accuracy over many frames: per-class average precision (AP) and its mean (mAP),
// at IoU 0.5 (PASCAL VOC) and averaged over IoU 0.50, 0.55, ..., 0.95 (COCO's headline).
//
// Matching, per frame and per IoU threshold t, as pycocotools does: detections are visited by
// score, highest first (equal scores in the order given); each takes the still unmatched truth
// box of its class with the highest IoU >= t and becomes a true positive, otherwise a false
// positive. Each truth box is matched at most once, so a duplicate is a false positive.
//
// AP is the area under the precision-recall curve with all-point interpolation (VOC 2010+):
// precision is made monotone (each point takes the best precision at any higher recall) and
// summed over every recall step. pycocotools samples the same curve at 101 recall points
// instead, which differs by about a point at most on curves with few detections.
//
// A class with no truth box in any frame has no AP and does not count in the mean (COCO's
// rule); its detections are false positives for no one. A class with truth boxes and no
// detections has AP 0.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "pipeline/core/frame.h"
#include "pipeline/postprocess/detection_stage.h"

namespace outpost::pipeline {

class DetectionMetrics {
 public:
  static constexpr int kIouThresholds = 10;  // 0.50, 0.55, ..., 0.95

  explicit DetectionMetrics(int num_classes);

  // One frame: its detections (any order; class ids outside [0, num_classes) are ignored) and
  // its truth boxes, both in frame pixels.
  void AddFrame(std::span<const Detection> detections, std::span<const TruthBox> truth);

  int num_classes() const { return num_classes_; }
  int frames() const { return frames_; }
  int truth_count(int class_id) const { return classes_[class_id].truth; }
  // Whether the class had truth boxes, i.e. has an AP.
  bool has_ap(int class_id) const { return classes_[class_id].truth > 0; }

  // AP of one class at threshold index i (IoU 0.5 + 0.05 i); 0 when !has_ap.
  double ClassAp(int class_id, int i = 0) const;
  // Mean over the classes with truth boxes; 0 when there are none.
  double MeanAp(int i = 0) const;
  // AP of one class averaged over the ten thresholds, and its mean over classes.
  double ClassApCoco(int class_id) const;
  double MeanApCoco() const;

  static double IouThreshold(int i) { return 0.5 + 0.05 * i; }

 private:
  struct Scored {
    float score;
    bool tp[kIouThresholds];
  };
  struct ClassStats {
    int truth = 0;
    std::vector<Scored> detections;
  };

  int num_classes_;
  int frames_ = 0;
  std::vector<ClassStats> classes_;
  // Per-frame scratch, kept to avoid allocating each frame.
  std::vector<int> order_;
  std::vector<std::pair<int, size_t>> slots_;  // detection -> (class, index in its list)
  std::vector<char> matched_;
};

// All-point interpolated AP of detections (score, is true positive) against `truth` boxes;
// exposed for tests.
double AveragePrecision(std::vector<std::pair<float, bool>> detections, int truth);

}  // namespace outpost::pipeline
