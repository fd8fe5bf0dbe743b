// Objects handed back by a consumer thread for a producer thread to reuse, so that buffers
// inside them (a frame's outputs) are allocated once rather than for every item.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace outpost::pipeline {

template <typename T>
class SparePool {
 public:
  // A returned object (its contents are stale: the caller overwrites them), or a new one.
  T Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (spare_.empty()) return T();
    T item = std::move(spare_.back());
    spare_.pop_back();
    return item;
  }

  // Keeps `item` for a later Take, up to kMaxSpare objects (as many as can be in flight).
  void Give(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(item));
  }

 private:
  static constexpr size_t kMaxSpare = 16;
  std::mutex mutex_;
  std::vector<T> spare_;
};

}  // namespace outpost::pipeline
