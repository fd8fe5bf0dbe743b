// Which results become events: all of them, or (on a constrained link) only changes.
//
// "on_change" sends the first result, then a result only when it differs in what matters to
// the task: classification, the top-1 class; detection, the set of classes with their counts
// (boxes moving a few pixels are not news); anomaly, crossing the threshold either way; keyword,
// a detected command (every detection is an event, silence never is).
#pragma once

#include <map>

#include "pipeline/config/pipeline_config.h"
#include "pipeline/postprocess/postprocess_result.h"

namespace outpost::pipeline {

class UplinkPolicy {
 public:
  explicit UplinkPolicy(UplinkMode mode) : mode_(mode) {}

  // Whether `result` is sent; remembers it as the last sent when it is.
  bool ShouldSend(const PostprocessResult& result);

 private:
  struct State {
    int top1 = -1;
    std::map<int, int> class_counts;
    bool anomalous = false;
  };
  static State Summarize(const PostprocessResult& result);

  UplinkMode mode_;
  bool sent_any_ = false;
  State last_;
};

}  // namespace outpost::pipeline
