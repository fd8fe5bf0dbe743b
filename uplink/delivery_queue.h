// A bounded queue of events with one delivery thread, for actions whose receiver may be slow
// or gone (an HTTP webhook). The pipeline's post-processing thread only enqueues, so a
// receiver that hangs costs events, never frames: when the queue is full the oldest event is
// dropped and counted, as a camera drops its oldest frame.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/expected.h"

namespace outpost::uplink {

struct DeliveryCounters {
  uint64_t delivered = 0;
  uint64_t failed = 0;   // the receiver refused or could not be reached
  uint64_t dropped = 0;  // pushed out of a full queue, or left over at Close
  uint64_t bytes_delivered = 0;
  std::string last_error;
};

class DeliveryQueue {
 public:
  // `deliver` runs on the delivery thread, one event at a time.
  using Deliver = std::function<Expected<Unit>(const std::string& event)>;

  DeliveryQueue(size_t capacity, Deliver deliver);
  ~DeliveryQueue();  // Close()s with no grace period
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Never blocks. Returns false when the queue was full and its oldest event was dropped.
  bool Push(std::string event);

  // Waits up to `grace` for the queue to drain, then stops the thread; events still queued
  // are counted as dropped.
  void Close(std::chrono::milliseconds grace);

  DeliveryCounters counters() const;

 private:
  void Run();

  const size_t capacity_;
  Deliver deliver_;
  mutable std::mutex mu_;
  std::condition_variable wake_;     // an event arrived or closing
  std::condition_variable drained_;  // the queue became empty and nothing is in flight
  std::deque<std::string> events_;
  bool in_flight_ = false;
  bool closing_ = false;
  DeliveryCounters counters_;
  std::thread thread_;
};

}  // namespace outpost::uplink
