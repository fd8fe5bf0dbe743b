#include "pipeline/postprocess/nms.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace outpost::pipeline {

void Nms::Reserve(int capacity, int num_classes) {
  order_.assign(static_cast<size_t>(std::max(capacity, 0)), 0);
  keep_.assign(order_.size(), 0);
  next_.assign(order_.size(), -1);
  class_head_.assign(static_cast<size_t>(std::max(num_classes, 1)), -1);
}

Expected<std::span<const int>> Nms::Run(std::span<const Candidate> c,
                                        const NmsOptions& options) {
  if (c.size() > order_.size())
    return Error("nms: " + std::to_string(c.size()) + " candidates, buffers sized for " +
                 std::to_string(order_.size()));
  const int num_classes = static_cast<int>(class_head_.size());
  int n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (std::isnan(c[i].score)) continue;
    if (!options.class_agnostic && (c[i].class_id < 0 || c[i].class_id >= num_classes))
      return Error("nms: class id " + std::to_string(c[i].class_id) + " outside [0, " +
                   std::to_string(num_classes) + ")");
    order_[n++] = static_cast<int>(i);
  }
  const auto better = [&](int a, int b) {
    return c[a].score > c[b].score || (c[a].score == c[b].score && a < b);
  };
  const auto first = order_.begin(), last = order_.begin() + n;
  auto sorted_end = last;
  if (options.max_candidates > 0 && options.max_candidates < n) {
    sorted_end = first + options.max_candidates;
    std::nth_element(first, sorted_end, last, better);
  }
  std::sort(first, sorted_end, better);
  std::fill(class_head_.begin(), class_head_.end(), -1);

  const int limit = options.max_detections > 0 ? options.max_detections : n;
  int kept = 0;
  for (auto it = first; it != sorted_end && kept < limit; ++it) {
    const int i = *it;
    const int cls = options.class_agnostic ? 0 : c[i].class_id;
    bool keep = true;
    for (int k = class_head_[cls]; k >= 0; k = next_[k]) {
      // The kept box is the first operand, as in torchvision, so the float sums match.
      if (static_cast<double>(IoU(c[keep_[k]].box, c[i].box)) > options.iou_threshold) {
        keep = false;
        break;
      }
    }
    if (!keep) continue;
    keep_[kept] = i;
    next_[kept] = class_head_[cls];
    class_head_[cls] = kept;
    ++kept;
  }
  return std::span<const int>(keep_.data(), static_cast<size_t>(kept));
}

}  // namespace outpost::pipeline
