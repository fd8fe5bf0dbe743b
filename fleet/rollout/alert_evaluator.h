// Evaluates the alert rules against the fleet store: opens an alert when a rule's condition
// holds for a subject (the store keeps one open alert per rule and subject), resolves it when
// the condition is seen to have cleared, runs a rule's rollout action when its alert opens,
// and POSTs each new alert as JSON to a webhook.
//
// Delivery is at least once: an alert is marked delivered only after the receiver answered
// 2xx, and every Tick retries the undelivered ones, so a receiver that is down loses nothing.
// Two server processes may both post an alert before either marks it; receivers dedupe on the
// alert's "id".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/expected.h"
#include "fleet/rollout/alert_rules.h"
#include "fleet/rollout/rollout_controller.h"
#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

struct WebhookPolicy {
  int timeout_ms = 2000;  // connect, read and write, per attempt
  int attempts = 3;       // per alert and Tick
  int backoff_ms = 100;   // doubled after each failed attempt
};

struct AlertTickReport {
  int64_t rules = 0;  // enabled rules evaluated
  int64_t opened = 0;
  int64_t resolved = 0;
  int64_t delivered = 0;
  int64_t undelivered = 0;                    // still waiting for the webhook
  std::vector<std::string> rollouts_started;  // ids
  std::vector<std::string> errors;  // a rule that could not be read or evaluated, a failed action
};

class AlertEvaluator {
 public:
  // An empty `webhook_url` keeps alerts in the store only.
  AlertEvaluator(FleetStore& store, RolloutController& rollouts, std::string webhook_url,
                 WebhookPolicy policy = {});

  Expected<AlertTickReport> Tick(int64_t now_ms);

 private:
  // One subject's reading of a rule's metric. A subject with no reading (too few records, a
  // metric not reported) is left out: its alert neither opens nor resolves.
  struct Reading {
    std::string subject;
    double value = 0;
    std::string context;  // over what it was measured, for the message
  };
  std::vector<Reading> Read(const AlertRuleSpec& rule, int64_t now_ms);
  std::string RunAction(const AlertRuleSpec& rule, const Alert& alert, int64_t now_ms,
                        AlertTickReport& report);
  void Deliver(const std::map<std::string, std::string>& rule_names, AlertTickReport& report);

  FleetStore& store_;
  RolloutController& rollouts_;
  std::string webhook_url_;
  WebhookPolicy policy_;
  // The outcome of each alert's action, added to its webhook body (kept until delivered).
  std::map<std::string, std::string> action_outcomes_;
};

}  // namespace outpost::fleet
