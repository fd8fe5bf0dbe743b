#include "fleet/rollout/alert_evaluator.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "fleet/rollout/store_calls.h"
#include "fleet/store/random_id.h"

namespace outpost::fleet {

namespace {

constexpr int64_t kAlertScan = 100000;  // open or undelivered alerts looked at per Tick

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;
};

SplitUrl SplitHttpUrl(const std::string& url) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    throw Error("alert webhook: url '" + url + "' must start with http:// or https://");
  const size_t host_start = https ? 8 : 7;
  const size_t slash = url.find('/', host_start);
  SplitUrl s{url.substr(0, slash), slash == std::string::npos ? "/" : url.substr(slash)};
  if (s.origin.size() == host_start) throw Error("alert webhook: url '" + url + "' has no host");
  return s;
}

}  // namespace

AlertEvaluator::AlertEvaluator(FleetStore& store, RolloutController& rollouts,
                               std::string webhook_url, WebhookPolicy policy)
    : store_(store), rollouts_(rollouts), webhook_url_(std::move(webhook_url)), policy_(policy) {}

std::vector<AlertEvaluator::Reading> AlertEvaluator::Read(const AlertRuleSpec& rule,
                                                          int64_t now_ms) {
  std::vector<Reading> readings;
  if (rule.metric == AlertMetric::kOfflineMinutes) {
    for (const Device& d : AllDevices(store_, DeviceFilter{})) {
      if (!rule.model.empty() && d.model != rule.model) continue;
      if (!rule.version.empty() && d.version != rule.version) continue;
      // A device enrolled but never heard from since counts from its enrollment.
      const int64_t seen = d.last_seen_ms > 0 ? d.last_seen_ms : d.enrolled_ms;
      const double minutes = static_cast<double>(now_ms - seen) / 60000.0;
      readings.push_back({d.id, minutes, "last seen at " + std::to_string(seen) + " ms"});
    }
    return readings;
  }

  std::vector<std::string> versions;
  if (!rule.version.empty()) {
    versions.push_back(rule.version);
  } else {
    for (const ModelVersion& m : Take(store_.ListModelVersions(rule.model)))
      versions.push_back(m.version);
  }
  for (const std::string& version : versions) {
    const CohortHealth h =
        Take(store_.VersionHealth(rule.model, version, now_ms - rule.window_s * 1000, now_ms));
    if (h.records < rule.min_records) continue;
    std::optional<double> value;
    switch (rule.metric) {
      case AlertMetric::kAgreement:
        value = h.agreement;
        break;
      case AlertMetric::kErrorRate:
        value = h.error_rate;
        break;
      case AlertMetric::kDriftPsi:
        value = h.drift_psi;
        break;
      case AlertMetric::kLatencyP99Ms:
        value = h.latency_p99_ms;
        break;
      case AlertMetric::kTemperatureC:
        value = h.temperature_max_c;
        break;
      case AlertMetric::kOfflineMinutes:
        break;
    }
    if (!value) continue;
    readings.push_back({rule.model + "@" + version, *value,
                        std::to_string(h.records) + " records from " + std::to_string(h.devices) +
                            " devices over " + std::to_string(rule.window_s) + " s"});
  }
  return readings;
}

std::string AlertEvaluator::RunAction(const AlertRuleSpec& rule, const Alert& alert, int64_t now_ms,
                                      AlertTickReport& report) {
  const AlertRolloutAction& action = *rule.then_rollout;
  // The rule names the version the fleet must move to: a rollout of another version of the
  // model in the same group is superseded (aborted, its cohort rolled back) first.
  for (const Rollout& r : Take(store_.ListRollouts(true))) {
    if (r.model != action.model || r.group != action.group) continue;
    if (r.state != RolloutState::kRunning && r.state != RolloutState::kPaused) continue;
    if (r.version == action.version)
      return "rollout " + r.id + " of " + action.version + " already active";
    Expected<Rollout> aborted =
        rollouts_.Abort(r.id, "superseded by alert '" + rule.name + "' (" + alert.id + ")", now_ms);
    if (!aborted) {
      report.errors.push_back("alert " + alert.id + ": " + aborted.message());
      return "rollout not started: " + aborted.message();
    }
  }
  Expected<Rollout> started =
      rollouts_.Start(action.model, action.version, action.group,
                      action.plan.is_null() ? "" : action.plan.dump(), now_ms);
  if (!started) {
    report.errors.push_back("alert " + alert.id + ": rollout of " + action.model + " " +
                            action.version + " not started: " + started.message());
    return "rollout not started: " + started.message();
  }
  report.rollouts_started.push_back(started->id);
  return "started rollout " + started->id + " of " + action.model + " " + action.version;
}

void AlertEvaluator::Deliver(const std::map<std::string, std::string>& rule_names,
                             AlertTickReport& report) {
  std::vector<Alert> pending;
  for (Alert& a : Take(store_.ListAlerts(false, kAlertScan)))
    if (!a.delivered) pending.push_back(std::move(a));
  if (pending.empty()) return;
  if (webhook_url_.empty()) {
    report.undelivered = static_cast<int64_t>(pending.size());
    return;
  }
  std::sort(pending.begin(), pending.end(), [](const Alert& a, const Alert& b) {
    return a.fired_ms != b.fired_ms ? a.fired_ms < b.fired_ms : a.id < b.id;
  });

  const SplitUrl url = SplitHttpUrl(webhook_url_);
  httplib::Client client(url.origin);
  const auto timeout = std::chrono::milliseconds(policy_.timeout_ms);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);

  for (size_t i = 0; i < pending.size(); ++i) {
    const Alert& a = pending[i];
    nlohmann::json body = {{"id", a.id},
                           {"rule_id", a.rule_id},
                           {"subject", a.subject},
                           {"message", a.message},
                           {"value", a.value},
                           {"fired_ms", a.fired_ms},
                           {"state", a.resolved_ms ? "resolved" : "open"}};
    if (const auto it = rule_names.find(a.rule_id); it != rule_names.end())
      body["rule"] = it->second;
    if (a.resolved_ms) body["resolved_ms"] = a.resolved_ms;
    if (const auto it = action_outcomes_.find(a.id); it != action_outcomes_.end())
      body["action"] = it->second;
    const std::string text = body.dump();

    std::string failure;
    for (int attempt = 0; attempt < std::max(1, policy_.attempts); ++attempt) {
      if (attempt > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(policy_.backoff_ms << (attempt - 1)));
      httplib::Result r = client.Post(url.path, text, "application/json");
      if (!r) {
        failure = "cannot reach " + webhook_url_ + ": " + httplib::to_string(r.error());
        continue;
      }
      if (r->status >= 200 && r->status < 300) {
        failure.clear();
        break;
      }
      failure = webhook_url_ + " answered HTTP " + std::to_string(r->status);
    }
    if (!failure.empty()) {
      // The receiver is down or refusing: the rest wait for the next Tick rather than each
      // spending the whole retry budget now.
      report.undelivered += static_cast<int64_t>(pending.size() - i);
      report.errors.push_back("alert webhook: " + failure);
      return;
    }
    Take(store_.MarkAlertDelivered(a.id));
    action_outcomes_.erase(a.id);
    ++report.delivered;
  }
}

Expected<AlertTickReport> AlertEvaluator::Tick(int64_t now_ms) {
  return Capture([&] {
    AlertTickReport report;
    std::map<std::pair<std::string, std::string>, std::string> open;  // (rule, subject) -> alert id
    for (const Alert& a : Take(store_.ListAlerts(true, kAlertScan)))
      open[{a.rule_id, a.subject}] = a.id;

    std::map<std::string, std::string> rule_names;
    std::set<std::string> enabled;
    for (const AlertRule& stored : Take(store_.ListAlertRules())) {
      rule_names[stored.id] = stored.name;
      if (!stored.enabled) continue;
      enabled.insert(stored.id);
      try {
        Expected<AlertRuleSpec> parsed = ParseAlertRule(stored.rule_json);
        if (!parsed) throw parsed.error();
        const AlertRuleSpec& rule = *parsed;
        ++report.rules;
        for (const Reading& reading : Read(rule, now_ms)) {
          const bool firing = Compare(rule.op, reading.value, rule.threshold);
          const auto it = open.find({stored.id, reading.subject});
          if (firing && it == open.end()) {
            Alert alert;
            alert.id = RandomId("al-");
            alert.rule_id = stored.id;
            alert.subject = reading.subject;
            alert.value = reading.value;
            alert.fired_ms = now_ms;
            alert.message = rule.name + ": " + reading.subject + " " +
                            AlertMetricName(rule.metric) + " " + Number(reading.value) + " " +
                            AlertOpName(rule.op) + " " + Number(rule.threshold) + " (" +
                            reading.context + ")";
            std::optional<Alert> opened = Take(store_.OpenAlert(alert));
            if (!opened) continue;  // another process opened it first
            ++report.opened;
            if (rule.then_rollout)
              action_outcomes_[opened->id] = RunAction(rule, *opened, now_ms, report);
          } else if (!firing && it != open.end()) {
            Take(store_.ResolveAlert(it->second, now_ms));
            ++report.resolved;
          }
        }
      } catch (const Error& e) {
        report.errors.push_back("alert rule " + stored.id + " (" + stored.name + "): " + e.what());
      }
    }
    // A rule deleted or disabled no longer watches its subjects: its open alerts are closed.
    for (const auto& [key, id] : open)
      if (!enabled.count(key.first)) {
        Take(store_.ResolveAlert(id, now_ms));
        ++report.resolved;
      }
    Deliver(rule_names, report);
    return report;
  });
}

}  // namespace outpost::fleet
