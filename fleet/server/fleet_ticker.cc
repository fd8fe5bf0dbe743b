#include "fleet/server/fleet_ticker.h"

#include <chrono>
#include <cstdio>

namespace outpost::fleet {

FleetTicker::FleetTicker(RolloutController& rollouts, AlertEvaluator& alerts, std::function<int64_t()> clock)
    : rollouts_(rollouts), alerts_(alerts), clock_(std::move(clock)) {}

FleetTicker::~FleetTicker() { Stop(); }

Expected<TickReport> FleetTicker::TickOnce() {
  std::lock_guard<std::mutex> lock(tick_mu_);
  TickReport report;
  // Rollouts first: an alert action may start a rollout, which then gets its first tick on
  // the next round rather than two in one.
  Expected<RolloutTickReport> r = rollouts_.Tick(clock_());
  if (!r.ok()) return r.error();
  report.rollouts = std::move(*r);
  Expected<AlertTickReport> a = alerts_.Tick(clock_());
  if (!a.ok()) return a.error();
  report.alerts = std::move(*a);
  return report;
}

void FleetTicker::Start(int64_t period_ms) {
  if (thread_.joinable() || period_ms <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, period_ms] { Loop(period_ms); });
}

void FleetTicker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FleetTicker::Loop(int64_t period_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Expected<TickReport> report = TickOnce();
    if (!report.ok()) {
      std::fprintf(stderr, "fleet server: background tick: %s\n", report.message().c_str());
    } else {
      for (const std::string& e : report->rollouts.errors) std::fprintf(stderr, "fleet server: rollout: %s\n", e.c_str());
      for (const std::string& e : report->alerts.errors) std::fprintf(stderr, "fleet server: alert: %s\n", e.c_str());
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(period_ms), [this] { return stopping_; });
  }
}

}  // namespace outpost::fleet
