// Non-maximum suppression, class-wise or class-agnostic, with the results of
// torchvision.ops.batched_nms / torchvision.ops.nms (tests/pipeline/nms_fixture_test.cc
// compares keep lists against fixtures that torchvision 0.14 wrote).
//
// Order and tie-break: candidates are visited by score, highest first; equal scores in
// candidate order (lower index first), which is torchvision's stable descending sort. A
// candidate is kept unless a box already kept *of the same class* has IoU > iou_threshold
// (strictly greater, the IoU computed in float and compared in double as torchvision does).
// The kept list comes out in visiting order, so it is also sorted by (score desc, index asc),
// the order batched_nms returns. NaN scores are skipped (torchvision would sort them first).
//
// Cost: O(n log n) for the sort plus, per candidate, one IoU per kept box of its class; the
// loop stops once max_detections are kept. Buffers are sized by Reserve and reused, so Run
// does not allocate.
#pragma once

#include <span>
#include <vector>

#include "common/expected.h"
#include "pipeline/postprocess/box.h"

namespace outpost::pipeline {

struct Candidate {
  Box box;
  float score = 0;
  int class_id = 0;
};

struct NmsOptions {
  double iou_threshold = 0.5;
  // Stop after this many kept boxes (<= 0: no limit).
  int max_detections = 0;
  // Only the best this many candidates take part (<= 0: all). Selected in linear time before
  // the sort, which bounds the cost when a noisy frame passes thousands of boxes.
  int max_candidates = 0;
  // All boxes compete regardless of class (torchvision.ops.nms).
  bool class_agnostic = false;
};

class Nms {
 public:
  // Sizes the buffers for up to `capacity` candidates with class ids in [0, num_classes).
  void Reserve(int capacity, int num_classes);
  int capacity() const { return static_cast<int>(order_.size()); }

  // Indices into `candidates` of the kept boxes, best first; valid until the next Run. Fails
  // when there are more candidates than reserved or a class id is out of range.
  Expected<std::span<const int>> Run(std::span<const Candidate> candidates,
                                     const NmsOptions& options);

 private:
  std::vector<int> order_;       // candidate indices, sorted
  std::vector<int> keep_;        // kept candidate indices, best first
  std::vector<int> next_;        // next_[k]: previous kept slot of the same class, or -1
  std::vector<int> class_head_;  // latest kept slot of each class, or -1
};

}  // namespace outpost::pipeline
