// Object detection post-processing for one frame:
//
//   decode the head (SSD or YOLO, see ssd_decoder.h / yolo_decoder.h), keep candidates whose
//   score > score_threshold and whose clipped box is not empty -> class-wise NMS (nms.h) ->
//   map the kept boxes from model-input pixels to the camera frame (FrameTransform) and clip.
//
// Every buffer is sized in Create from the head's shape, so Run does not allocate.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "pipeline/postprocess/box.h"
#include "pipeline/postprocess/detection_decoder.h"
#include "pipeline/postprocess/nms.h"
#include "pipeline/postprocess/ssd_decoder.h"
#include "pipeline/postprocess/yolo_decoder.h"

namespace outpost::pipeline {

struct Detection {
  Box box;  // frame pixels, (x1, y1, x2, y2)
  float score = 0;
  int class_id = 0;
  std::string_view label;  // the model's label for class_id (empty without labels)
};

enum class DetectionFormat { kSsd, kYoloGrid, kYoloFlat };

struct DetectionOptions {
  DetectionFormat format = DetectionFormat::kYoloFlat;
  SsdOptions ssd;             // format kSsd
  YoloGridOptions yolo_grid;  // format kYoloGrid
  YoloFlatOptions yolo_flat;  // format kYoloFlat
  float score_threshold = 0.25f;
  float min_size = 0.0f;  // in input pixels, after clipping to the input
  bool clip = true;
  NmsOptions nms = {0.45, 100, 0, false};
};

class DetectionStage {
 public:
  // `input_width` x `input_height`: the model input the boxes are relative to. `labels` name
  // class ids (from the model, io::ModelLabels); may be empty.
  static Expected<std::unique_ptr<DetectionStage>> Create(const DetectionOptions& options,
                                                          int input_width, int input_height,
                                                          std::vector<std::string> labels);

  // Model outputs the head reads, and the values each must hold.
  int num_outputs() const { return decoder_->num_outputs(); }
  size_t output_size(int i) const { return decoder_->output_size(i); }

  // Detections of one frame, best first; valid until the next Run. Fails only on outputs of
  // the wrong count or size.
  Expected<std::span<const Detection>> Run(std::span<const std::span<const float>> outputs,
                                           const FrameTransform& frame);

  const std::vector<std::string>& labels() const { return labels_; }

 private:
  DetectionStage() = default;

  DetectionOptions options_;
  std::unique_ptr<DetectionDecoder> decoder_;
  CandidateBuffer candidates_;
  Nms nms_;
  std::vector<Detection> detections_;
  std::vector<std::string> labels_;
};

}  // namespace outpost::pipeline
