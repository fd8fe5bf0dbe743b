#include "pipeline/postprocess/keyword_stage.h"

#include <algorithm>
#include <limits>

#include "io/classification.h"

namespace outpost::pipeline {

Expected<KeywordStage> KeywordStage::Create(const KeywordOptions& o, int num_classes,
                                            std::vector<std::string> labels) {
  if (num_classes < 1) return Error("keyword: the output has no classes");
  if (o.window_frames < 1) return Error("keyword: window_frames must be at least 1");
  if (o.min_frames < 1 || o.min_frames > o.window_frames)
    return Error("keyword: min_frames must be in [1, window_frames]");
  if (o.suppression_ms < 0) return Error("keyword: suppression_ms must be >= 0");
  for (int c : o.ignore)
    if (c < 0 || c >= num_classes)
      return Error("keyword: ignored class " + std::to_string(c) + " is not an output class");
  KeywordStage s;
  s.options_ = o;
  s.classes_ = num_classes;
  s.labels_ = std::move(labels);
  s.ring_.assign(static_cast<size_t>(o.window_frames) * num_classes, 0.0f);
  s.average_.assign(static_cast<size_t>(num_classes), 0.0f);
  return s;
}

void KeywordStage::Reset() {
  next_ = filled_ = 0;
  any_frame_ = false;
  previous_ = -1;
}

bool KeywordStage::Ignored(int c) const {
  return std::find(options_.ignore.begin(), options_.ignore.end(), c) != options_.ignore.end();
}

Expected<KeywordResult> KeywordStage::Run(std::span<const float> posteriors, int64_t time_ms) {
  if (static_cast<int>(posteriors.size()) != classes_)
    return Error("keyword: expected " + std::to_string(classes_) + " posteriors, got " +
                 std::to_string(posteriors.size()));
  if (any_frame_ && time_ms < last_time_)
    return Error("keyword: frame time " + std::to_string(time_ms) + " ms is before the previous " +
                 std::to_string(last_time_) + " ms");
  any_frame_ = true;
  last_time_ = time_ms;

  const std::span<float> slot(ring_.data() + static_cast<size_t>(next_) * classes_,
                              static_cast<size_t>(classes_));
  const bool softmax =
      options_.softmax == SoftmaxMode::kAlways ||
      (options_.softmax == SoftmaxMode::kAuto && !io::LooksLikeProbabilities(posteriors));
  if (softmax)
    io::SoftmaxInto(posteriors, slot);
  else
    std::copy(posteriors.begin(), posteriors.end(), slot.begin());
  next_ = (next_ + 1) % options_.window_frames;
  filled_ = std::min(filled_ + 1, options_.window_frames);

  KeywordResult r;
  r.time_ms = time_ms;
  if (filled_ < options_.min_frames) {
    // As RecognizeCommands: too few results to trust; repeat the previous command, score 0.
    r.class_id = previous_;
  } else {
    // Summed afresh each frame (window x classes adds) rather than kept as a running sum,
    // which would drift in float over hours of audio.
    std::fill(average_.begin(), average_.end(), 0.0f);
    for (int f = 0; f < filled_; ++f)
      for (int c = 0; c < classes_; ++c) average_[c] += ring_[static_cast<size_t>(f) * classes_ + c];
    float best = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < classes_; ++c) {
      average_[c] /= static_cast<float>(filled_);
      if (average_[c] > best) best = average_[c], r.class_id = c;  // NaN never wins
    }
    r.score = r.class_id >= 0 ? best : 0.0f;
    const bool refractory = previous_ >= 0 && !Ignored(previous_) &&
                            time_ms - previous_time_ <= options_.suppression_ms;
    if (r.class_id >= 0 && r.score > options_.threshold &&
        (r.class_id != previous_ || !refractory)) {
      previous_ = r.class_id;
      previous_time_ = time_ms;
      r.detected = !Ignored(r.class_id);
    }
  }
  if (r.class_id >= 0 && static_cast<size_t>(r.class_id) < labels_.size())
    r.label = labels_[r.class_id];
  return r;
}

}  // namespace outpost::pipeline
