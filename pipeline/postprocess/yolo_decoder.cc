#include "pipeline/postprocess/yolo_decoder.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace outpost::pipeline {
namespace {

Box FromCenter(float cx, float cy, float w, float h) {
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

// Adds the candidates of one box whose class scores are cls(k) (already multiplied by the
// objectness). `box` is called at most once, and only when a score passes.
template <typename ScoreFn, typename BoxFn>
void AddBox(int num_classes, bool multi_label, ScoreFn cls, BoxFn box, CandidateBuffer& out) {
  if (multi_label) {
    bool decoded = false;
    Box b;
    for (int k = 0; k < num_classes; ++k) {
      const float s = cls(k);
      if (!out.Passes(s)) continue;
      if (!decoded) b = box();
      decoded = true;
      out.Add(b, s, k);
    }
    return;
  }
  int best = -1;
  float best_score = 0;
  for (int k = 0; k < num_classes; ++k) {
    const float s = cls(k);
    if (out.Passes(s) && (best < 0 || s > best_score)) best = k, best_score = s;
  }
  if (best >= 0) out.Add(box(), best_score, best);
}

class YoloGridDecoder final : public DetectionDecoder {
 public:
  explicit YoloGridDecoder(const YoloGridOptions& o) : o_(o) {}

  int num_outputs() const override { return static_cast<int>(o_.levels.size()); }
  size_t output_size(int i) const override {
    const YoloLevel& l = o_.levels[i];
    return l.anchors.size() * static_cast<size_t>(5 + o_.num_classes) *
           static_cast<size_t>(l.grid_width) * static_cast<size_t>(l.grid_height);
  }
  int num_classes() const override { return o_.num_classes; }
  size_t max_candidates() const override {
    size_t n = 0;
    for (int i = 0; i < num_outputs(); ++i) n += output_size(i) / (5 + o_.num_classes);
    return n * (o_.multi_label ? static_cast<size_t>(o_.num_classes) : 1);
  }

  void Decode(std::span<const std::span<const float>> outputs, CandidateBuffer& out) override {
    const float threshold = out.filter().score_threshold;
    for (size_t li = 0; li < o_.levels.size(); ++li) {
      const YoloLevel& l = o_.levels[li];
      const size_t plane = static_cast<size_t>(l.grid_width) * static_cast<size_t>(l.grid_height);
      const float* data = outputs[li].data();
      for (size_t a = 0; a < l.anchors.size(); ++a) {
        const float* ch = data + a * static_cast<size_t>(5 + o_.num_classes) * plane;
        for (int y = 0; y < l.grid_height; ++y) {
          for (int x = 0; x < l.grid_width; ++x) {
            const size_t at = static_cast<size_t>(y) * l.grid_width + x;
            const float obj = Sigmoid(ch[4 * plane + at]);
            // Every score is obj * σ(class) <= obj: most cells stop here, before any other
            // sigmoid. (A NaN objectness does not stop here and fails the threshold later.)
            if (obj <= threshold) continue;
            AddBox(
                o_.num_classes, o_.multi_label,
                [&](int k) { return obj * Sigmoid(ch[(5 + k) * plane + at]); },
                [&] {
                  return DecodeYoloGridBox(o_.encoding, ch[at], ch[plane + at],
                                           ch[2 * plane + at], ch[3 * plane + at], x, y,
                                           l.stride, l.anchors[a]);
                },
                out);
          }
        }
      }
    }
  }

 private:
  YoloGridOptions o_;
};

class YoloFlatDecoder final : public DetectionDecoder {
 public:
  explicit YoloFlatDecoder(const YoloFlatOptions& o)
      : o_(o), fields_(4 + (o.objectness ? 1 : 0) + o.num_classes) {}

  int num_outputs() const override { return 1; }
  size_t output_size(int) const override {
    return static_cast<size_t>(o_.num_boxes) * static_cast<size_t>(fields_);
  }
  int num_classes() const override { return o_.num_classes; }
  size_t max_candidates() const override {
    return static_cast<size_t>(o_.num_boxes) *
           (o_.multi_label ? static_cast<size_t>(o_.num_classes) : 1);
  }

  void Decode(std::span<const std::span<const float>> outputs, CandidateBuffer& out) override {
    const float* d = outputs[0].data();
    const size_t n = static_cast<size_t>(o_.num_boxes);
    const bool sig = o_.activation == ScoreActivation::kSigmoid;
    for (size_t i = 0; i < n; ++i) {
      // Field f of box i: rows are boxes, or (transposed) rows are fields.
      auto field = [&](int f) {
        return o_.transposed ? d[static_cast<size_t>(f) * n + i] : d[i * fields_ + f];
      };
      float obj = 1.0f;
      if (o_.objectness) {
        obj = sig ? Sigmoid(field(4)) : field(4);
        if (obj <= out.filter().score_threshold) continue;
      }
      const int first = o_.objectness ? 5 : 4;
      AddBox(
          o_.num_classes, o_.multi_label,
          [&](int k) {
            const float v = field(first + k);
            return obj * (sig ? Sigmoid(v) : v);
          },
          [&] { return FromCenter(field(0), field(1), field(2), field(3)); }, out);
    }
  }

 private:
  YoloFlatOptions o_;
  size_t fields_;
};

}  // namespace

Box DecodeYoloGridBox(YoloBoxEncoding e, float tx, float ty, float tw, float th, int x, int y,
                      int stride, std::pair<float, float> anchor) {
  const float s = static_cast<float>(stride);
  if (e == YoloBoxEncoding::kV5) {
    const float w = 2 * Sigmoid(tw), h = 2 * Sigmoid(th);
    return FromCenter((2 * Sigmoid(tx) - 0.5f + x) * s, (2 * Sigmoid(ty) - 0.5f + y) * s,
                      anchor.first * w * w, anchor.second * h * h);
  }
  return FromCenter((Sigmoid(tx) + x) * s, (Sigmoid(ty) + y) * s,
                    anchor.first * std::exp(std::min(tw, kMaxLogScale)),
                    anchor.second * std::exp(std::min(th, kMaxLogScale)));
}

Expected<std::unique_ptr<DetectionDecoder>> MakeYoloGridDecoder(const YoloGridOptions& o) {
  if (o.levels.empty()) return Error("yolo: no grid levels");
  if (o.num_classes < 1) return Error("yolo: num_classes must be at least 1");
  for (const YoloLevel& l : o.levels) {
    if (l.stride < 1 || l.grid_width < 1 || l.grid_height < 1 || l.anchors.empty())
      return Error("yolo: each level needs a stride, a grid size and at least one anchor");
    for (const auto& [w, h] : l.anchors)
      if (!(w > 0) || !(h > 0)) return Error("yolo: anchor sizes must be positive");
  }
  return std::unique_ptr<DetectionDecoder>(new YoloGridDecoder(o));
}

Expected<std::unique_ptr<DetectionDecoder>> MakeYoloFlatDecoder(const YoloFlatOptions& o) {
  if (o.num_boxes < 1) return Error("yolo: num_boxes must be at least 1");
  if (o.num_classes < 1) return Error("yolo: num_classes must be at least 1");
  if (o.activation == ScoreActivation::kSoftmax)
    return Error("yolo: scores are independent per class: use sigmoid or none");
  return std::unique_ptr<DetectionDecoder>(new YoloFlatDecoder(o));
}

}  // namespace outpost::pipeline
