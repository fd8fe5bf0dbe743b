#include "uplink/delivery_queue.h"

#include <utility>

namespace outpost::uplink {

DeliveryQueue::DeliveryQueue(size_t capacity, Deliver deliver)
    : capacity_(capacity == 0 ? 1 : capacity), deliver_(std::move(deliver)) {
  thread_ = std::thread([this] { Run(); });
}

DeliveryQueue::~DeliveryQueue() { Close(std::chrono::milliseconds(0)); }

bool DeliveryQueue::Push(std::string event) {
  std::lock_guard<std::mutex> lock(mu_);
  bool kept_all = true;
  if (events_.size() >= capacity_) {
    events_.pop_front();
    ++counters_.dropped;
    kept_all = false;
  }
  events_.push_back(std::move(event));
  wake_.notify_one();
  return kept_all;
}

void DeliveryQueue::Close(std::chrono::milliseconds grace) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    drained_.wait_for(lock, grace, [this] { return events_.empty() && !in_flight_; });
    closing_ = true;
    counters_.dropped += events_.size();
    events_.clear();
    wake_.notify_one();
  }
  // An event in flight finishes first: the receiver's own timeout bounds this wait.
  thread_.join();
}

DeliveryCounters DeliveryQueue::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void DeliveryQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return closing_ || !events_.empty(); });
    if (closing_) return;
    std::string event = std::move(events_.front());
    events_.pop_front();
    in_flight_ = true;
    lock.unlock();
    Expected<Unit> sent = deliver_(event);
    lock.lock();
    in_flight_ = false;
    if (sent) {
      ++counters_.delivered;
      counters_.bytes_delivered += event.size();
    } else {
      ++counters_.failed;
      counters_.last_error = sent.message();
    }
    if (events_.empty()) drained_.notify_all();
  }
}

}  // namespace outpost::uplink
