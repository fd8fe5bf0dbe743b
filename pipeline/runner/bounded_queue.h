// A bounded queue between two stage threads. When full, a push either waits for room (file
// sources: nothing is lost) or drops the oldest queued item (live sources: the newest frame is
// the one worth processing). Counts drops and samples its depth at every push for the report.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

namespace outpost::pipeline {

enum class QueueFullPolicy { kBlock, kDropOldest };

struct QueueStats {
  uint64_t pushed = 0;
  uint64_t dropped = 0;
  size_t max_depth = 0;
  double mean_depth = 0;  // depth seen by each push, after adding its item
};

template <typename T>
class BoundedQueue {
 public:
  BoundedQueue(size_t capacity, QueueFullPolicy policy)
      : capacity_(capacity < 1 ? 1 : capacity), policy_(policy) {}

  // Adds `item`; false (item not queued) once the queue is closed.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (policy_ == QueueFullPolicy::kBlock)
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    if (items_.size() >= capacity_) {
      items_.pop_front();
      ++dropped_;
    }
    items_.push_back(std::move(item));
    ++pushed_;
    depth_sum_ += items_.size();
    if (items_.size() > max_depth_) max_depth_ = items_.size();
    not_empty_.notify_one();
    return true;
  }

  // Waits for an item; false when the queue is closed and empty.
  bool Pop(T& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    out = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }

  // No more pushes; Pop drains what is queued, then returns false. Wakes blocked pushers.
  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }
  QueueFullPolicy policy() const { return policy_; }

  QueueStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    QueueStats s;
    s.pushed = pushed_;
    s.dropped = dropped_;
    s.max_depth = max_depth_;
    s.mean_depth = pushed_ ? static_cast<double>(depth_sum_) / static_cast<double>(pushed_) : 0;
    return s;
  }

 private:
  const size_t capacity_;
  const QueueFullPolicy policy_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  uint64_t pushed_ = 0;
  uint64_t dropped_ = 0;
  uint64_t depth_sum_ = 0;
  size_t max_depth_ = 0;
};

}  // namespace outpost::pipeline
