// SSD-style head: one box regression per prior (anchor) box, one score per class.
//
// Inputs: deltas [N, 4] and scores [N, C] (row-major, batch 1), N = priors.size().
// With prior p = (cx, cy, w, h) in model-input pixels, deltas (dx, dy, dw, dh) and
// variances v (the reciprocal of torchvision's BoxCoder weights (10, 10, 5, 5)):
//
//   cx = p.cx + dx * v0 * p.w        w = p.w * exp(min(dw * v2, log(1000/16)))
//   cy = p.cy + dy * v1 * p.h        h = p.h * exp(min(dh * v3, log(1000/16)))
//   box = (cx - w/2, cy - h/2, cx + w/2, cy + h/2)
//
// The clamp before exp is torchvision's (bbox_xform_clip): a wild delta gives a huge box, not
// an infinity. yx_order reads deltas as (dy, dx, dh, dw), the TensorFlow Object Detection API
// order. Class ids index the model's labels; background_class (usually 0) is never reported.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "pipeline/postprocess/detection_decoder.h"
#include "pipeline/postprocess/score_activation.h"

namespace outpost::pipeline {

struct Prior {
  float cx = 0, cy = 0, w = 0, h = 0;
};

struct SsdOptions {
  std::vector<Prior> priors;  // model-input pixels
  int num_classes = 0;        // C, background included
  std::array<float, 4> variances = {0.1f, 0.1f, 0.2f, 0.2f};
  int background_class = 0;  // -1: the head has none
  bool yx_order = false;
  // true: every class above the threshold gives a candidate (torchvision SSD); false: only the
  // best class of each prior.
  bool multi_label = true;
  ScoreActivation activation = ScoreActivation::kNone;
};

Expected<std::unique_ptr<DetectionDecoder>> MakeSsdDecoder(const SsdOptions& options);

// Decodes one prior's deltas (exposed for tests).
Box DecodeSsdBox(const Prior& p, const float* deltas, const std::array<float, 4>& variances,
                 bool yx_order);

}  // namespace outpost::pipeline
