// The server's background work: every tick it moves the staged rollouts along (cohorts, gates,
// halts and rollbacks) and evaluates the alert rules (opening, resolving, webhook delivery).
// Both are safe to run in several server processes at once over one database (compare-and-set
// on every rollout change; one open alert per rule and subject), so every replica ticks.
//
// The thread sleeps on a condition variable between ticks: an idle server uses no CPU, and
// Stop() wakes it at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "common/expected.h"
#include "fleet/rollout/alert_evaluator.h"
#include "fleet/rollout/rollout_controller.h"

namespace outpost::fleet {

struct TickReport {
  RolloutTickReport rollouts;
  AlertTickReport alerts;
};

class FleetTicker {
 public:
  FleetTicker(RolloutController& rollouts, AlertEvaluator& alerts, std::function<int64_t()> clock);
  ~FleetTicker();

  // One tick now, on the caller's thread (tests, and the background loop).
  Expected<TickReport> TickOnce();

  // Ticks every `period_ms` on a thread of its own until Stop(). Errors are logged.
  void Start(int64_t period_ms);
  void Stop();

 private:
  void Loop(int64_t period_ms);

  RolloutController& rollouts_;
  AlertEvaluator& alerts_;
  std::function<int64_t()> clock_;
  std::mutex tick_mu_;  // one tick at a time in this process
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace outpost::fleet
