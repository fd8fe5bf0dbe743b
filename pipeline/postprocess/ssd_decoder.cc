#include "pipeline/postprocess/ssd_decoder.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "io/classification.h"

namespace outpost::pipeline {
namespace {

class SsdDecoder final : public DetectionDecoder {
 public:
  explicit SsdDecoder(const SsdOptions& o)
      : o_(o), probs_(static_cast<size_t>(o.num_classes)) {}

  int num_outputs() const override { return 2; }
  size_t output_size(int i) const override {
    return o_.priors.size() * (i == 0 ? 4 : static_cast<size_t>(o_.num_classes));
  }
  int num_classes() const override { return o_.num_classes; }
  size_t max_candidates() const override {
    return o_.priors.size() * (o_.multi_label ? static_cast<size_t>(o_.num_classes) : 1);
  }

  void Decode(std::span<const std::span<const float>> outputs, CandidateBuffer& out) override {
    const float* deltas = outputs[0].data();
    const float* scores = outputs[1].data();
    const size_t c = static_cast<size_t>(o_.num_classes);
    for (size_t i = 0; i < o_.priors.size(); ++i) {
      const std::span<const float> row(scores + i * c, c);
      const float* p = Activate(row);
      Box box;
      bool decoded = false;
      int best = -1;
      for (int k = 0; k < o_.num_classes; ++k) {
        if (k == o_.background_class || !out.Passes(p[k])) continue;
        if (!o_.multi_label) {
          if (best < 0 || p[k] > p[best]) best = k;
          continue;
        }
        if (!decoded) box = DecodeSsdBox(o_.priors[i], deltas + i * 4, o_.variances, o_.yx_order);
        decoded = true;
        out.Add(box, p[k], k);
      }
      if (best >= 0)
        out.Add(DecodeSsdBox(o_.priors[i], deltas + i * 4, o_.variances, o_.yx_order), p[best],
                best);
    }
  }

 private:
  const float* Activate(std::span<const float> row) {
    switch (o_.activation) {
      case ScoreActivation::kNone:
        return row.data();
      case ScoreActivation::kSoftmax:
        io::SoftmaxInto(row, probs_);
        return probs_.data();
      case ScoreActivation::kSigmoid:
        for (size_t k = 0; k < row.size(); ++k) probs_[k] = Sigmoid(row[k]);
        return probs_.data();
    }
    return row.data();
  }

  SsdOptions o_;
  std::vector<float> probs_;  // one prior's activated scores
};

}  // namespace

Box DecodeSsdBox(const Prior& p, const float* d, const std::array<float, 4>& v, bool yx_order) {
  const float dx = d[yx_order ? 1 : 0], dy = d[yx_order ? 0 : 1];
  const float dw = d[yx_order ? 3 : 2], dh = d[yx_order ? 2 : 3];
  // std::min keeps a NaN delta NaN (fmin would not), so the box is dropped as invalid.
  const float cx = p.cx + dx * v[0] * p.w;
  const float cy = p.cy + dy * v[1] * p.h;
  const float w = p.w * std::exp(std::min(dw * v[2], kMaxLogScale));
  const float h = p.h * std::exp(std::min(dh * v[3], kMaxLogScale));
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

Expected<std::unique_ptr<DetectionDecoder>> MakeSsdDecoder(const SsdOptions& o) {
  if (o.priors.empty()) return Error("ssd: no prior boxes");
  if (o.num_classes < 1) return Error("ssd: num_classes must be at least 1");
  if (o.background_class >= o.num_classes)
    return Error("ssd: background_class " + std::to_string(o.background_class) + " is not below " +
                 std::to_string(o.num_classes) + " classes");
  for (const Prior& p : o.priors)
    if (!(p.w > 0) || !(p.h > 0)) return Error("ssd: a prior box has no positive size");
  return std::unique_ptr<DetectionDecoder>(new SsdDecoder(o));
}

}  // namespace outpost::pipeline
