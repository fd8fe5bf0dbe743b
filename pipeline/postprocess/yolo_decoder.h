// YOLO-style heads, in the two shapes models are exported with.
//
// Grid head (anchor-based, raw): one output per level, [A * (5 + C), H, W] (batch 1, NCHW, as
// the detection convolution writes it); for anchor a the channels are a * (5 + C) + (tx, ty,
// tw, th, obj, class 0 .. C-1). Every value is a logit. For cell (x, y) of a level with stride
// s and anchor (aw, ah) in input pixels:
//
//   encoding "v5" (YOLOv5/v7):  cx = (2 σ(tx) - 0.5 + x) * s     w = aw * (2 σ(tw))^2
//   encoding "v3" (YOLOv3/v4):  cx = (σ(tx) + x) * s             w = aw * exp(min(tw, log(1000/16)))
//   (cy, h likewise from ty, th, y, ah)      score of class k = σ(obj) * σ(class k)
//
// Flat head (already decoded by the exported graph): [N, K] rows, or [K, N] when `transposed`
// (YOLOv8 exports [4 + C, N]); each box is (cx, cy, w, h) in input pixels followed by the
// objectness (when `objectness`, YOLOv5 exports) and C class scores. score = obj * class (or
// the class score alone for anchor-free heads), after `activation` when they are logits.
//
// Candidates are visited in the exporters' flattening order: level, anchor, row, column for a
// grid head; row order for a flat head; classes in order within a box.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "pipeline/postprocess/detection_decoder.h"
#include "pipeline/postprocess/score_activation.h"

namespace outpost::pipeline {

enum class YoloBoxEncoding { kV5, kV3 };

struct YoloLevel {
  int stride = 0;
  int grid_width = 0, grid_height = 0;
  std::vector<std::pair<float, float>> anchors;  // (w, h) in input pixels
};

struct YoloGridOptions {
  std::vector<YoloLevel> levels;
  int num_classes = 0;
  YoloBoxEncoding encoding = YoloBoxEncoding::kV5;
  // false: only the best class of each box (the exporters' default); true: every class above
  // the threshold.
  bool multi_label = false;
};

struct YoloFlatOptions {
  int num_boxes = 0;  // N
  int num_classes = 0;
  bool objectness = true;
  bool transposed = false;
  ScoreActivation activation = ScoreActivation::kNone;  // kNone or kSigmoid
  bool multi_label = false;
};

Expected<std::unique_ptr<DetectionDecoder>> MakeYoloGridDecoder(const YoloGridOptions& options);
Expected<std::unique_ptr<DetectionDecoder>> MakeYoloFlatDecoder(const YoloFlatOptions& options);

// One grid-head box from its four raw values (exposed for tests).
Box DecodeYoloGridBox(YoloBoxEncoding encoding, float tx, float ty, float tw, float th, int x,
                      int y, int stride, std::pair<float, float> anchor);

}  // namespace outpost::pipeline
