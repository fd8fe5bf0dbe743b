#include "pipeline/postprocess/detection_stage.h"

#include <algorithm>

namespace outpost::pipeline {

Expected<std::unique_ptr<DetectionStage>> DetectionStage::Create(const DetectionOptions& o,
                                                                 int input_width,
                                                                 int input_height,
                                                                 std::vector<std::string> labels) {
  if (input_width < 1 || input_height < 1) return Error("detection: input size must be positive");
  if (!(o.nms.iou_threshold >= 0)) return Error("detection: iou must be >= 0");
  Expected<std::unique_ptr<DetectionDecoder>> decoder =
      o.format == DetectionFormat::kSsd       ? MakeSsdDecoder(o.ssd)
      : o.format == DetectionFormat::kYoloGrid ? MakeYoloGridDecoder(o.yolo_grid)
                                               : MakeYoloFlatDecoder(o.yolo_flat);
  if (!decoder) return decoder.error();
  std::unique_ptr<DetectionStage> s(new DetectionStage());
  s->options_ = o;
  s->decoder_ = std::move(*decoder);
  const size_t capacity = s->decoder_->max_candidates();
  s->candidates_.Reserve(capacity);
  s->candidates_.set_filter({o.score_threshold, o.min_size, o.clip,
                             static_cast<float>(input_width), static_cast<float>(input_height)});
  s->nms_.Reserve(static_cast<int>(capacity), s->decoder_->num_classes());
  const size_t most = o.nms.max_detections > 0
                          ? std::min(capacity, static_cast<size_t>(o.nms.max_detections))
                          : capacity;
  s->detections_.resize(most);
  s->labels_ = std::move(labels);
  return s;
}

Expected<std::span<const Detection>> DetectionStage::Run(
    std::span<const std::span<const float>> outputs, const FrameTransform& frame) {
  if (static_cast<int>(outputs.size()) != decoder_->num_outputs())
    return Error("detection: expected " + std::to_string(decoder_->num_outputs()) +
                 " model outputs, got " + std::to_string(outputs.size()));
  for (int i = 0; i < decoder_->num_outputs(); ++i)
    if (outputs[i].size() != decoder_->output_size(i))
      return Error("detection: output " + std::to_string(i) + " has " +
                   std::to_string(outputs[i].size()) + " values, the head needs " +
                   std::to_string(decoder_->output_size(i)));
  candidates_.Clear();
  decoder_->Decode(outputs, candidates_);
  const std::span<const Candidate> c = candidates_.view();
  Expected<std::span<const int>> keep = nms_.Run(c, options_.nms);
  if (!keep) return keep.error();
  size_t n = 0;
  for (int i : *keep) {
    Detection& d = detections_[n++];
    d.box = frame.ToFrame(c[i].box);
    d.score = c[i].score;
    d.class_id = c[i].class_id;
    d.label = static_cast<size_t>(d.class_id) < labels_.size()
                  ? std::string_view(labels_[d.class_id])
                  : std::string_view();
  }
  return std::span<const Detection>(detections_.data(), n);
}

}  // namespace outpost::pipeline
