#include "pipeline/runner/run_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace outpost::pipeline {
namespace {

using nlohmann::json;

json LatencyJson(const LatencySummary& s) {
  return {{"count", s.count},   {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms},
          {"p95_ms", s.p95_ms}, {"p99_ms", s.p99_ms},   {"per_second", s.per_second}};
}

void Row(std::ostream& out, const std::string& name, const std::string& value) {
  out << "  " << name << std::string(name.size() < 22 ? 22 - name.size() : 1, ' ') << value
      << "\n";
}

}  // namespace

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

json ToJson(const RunReport& r) {
  const RunCounters& c = r.counters;
  json counters = {{"captured", c.captured},
                   {"processed", c.processed},
                   {"dropped", c.dropped},
                   {"stale", c.stale},
                   {"rejected", c.rejected},
                   {"rejected_by_reason", c.rejected_by_reason},
                   {"skipped", c.skipped},
                   {"missed_deadlines", c.missed_deadlines},
                   {"source_errors", c.source_errors},
                   {"source_error_messages", c.source_error_messages},
                   {"inference_errors", c.inference_errors},
                   {"postprocess_errors", c.postprocess_errors},
                   {"action_errors", c.action_errors},
                   {"action_error_messages", c.action_error_messages},
                   {"events_sent", c.events_sent},
                   {"bytes_captured", c.bytes_captured},
                   {"bytes_sent", c.bytes_sent}};
  json stages = json::object();
  for (const LatencySummary& s : r.stages) stages[s.name] = LatencyJson(s);
  json queues = json::array();
  for (const QueueSummary& q : r.queues)
    queues.push_back({{"name", q.name},
                      {"capacity", q.capacity},
                      {"policy", q.policy},
                      {"dropped", q.dropped},
                      {"max_depth", q.max_depth},
                      {"mean_depth", q.mean_depth}});
  json ops = json::array();
  for (const OpTime& o : r.top_ops)
    ops.push_back({{"op", o.op},
                   {"name", o.name},
                   {"total_ms", o.total_ms},
                   {"mean_us", o.mean_us},
                   {"share", o.share}});
  json j = {{"source", r.source},
            {"model", r.model},
            {"actions", r.actions},
            {"stop_reason", r.stop_reason},
            {"deadline_ms", r.deadline_ms},
            {"wall_s", r.wall_s},
            {"fps", r.fps},
            {"counters", std::move(counters)},
            {"stages", std::move(stages)},
            {"end_to_end", LatencyJson(r.end_to_end)},
            {"queues", std::move(queues)},
            {"bottleneck", {{"stage", r.bottleneck}, {"reason", r.bottleneck_reason}}},
            {"top_ops", std::move(ops)}};
  if (r.accuracy) {
    json classes = json::object();
    for (const auto& [name, ap] : r.accuracy->class_ap50) classes[name] = ap;
    j["accuracy"] = {{"frames", r.accuracy->frames},
                     {"map50", r.accuracy->map50},
                     {"map50_95", r.accuracy->map50_95},
                     {"class_ap50", std::move(classes)}};
  }
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

void PrintReport(const RunReport& r, std::ostream& out) {
  const RunCounters& c = r.counters;
  out << "pipeline: " << r.source << " -> " << r.model << "\n";
  out << "stopped:  " << r.stop_reason << " after " << Fixed(r.wall_s, 2) << " s, "
      << Fixed(r.fps, 1) << " frames/s processed\n\n";
  out << "frames:\n";
  Row(out, "captured", std::to_string(c.captured));
  Row(out, "processed", std::to_string(c.processed));
  Row(out, "dropped (queue full)", std::to_string(c.dropped));
  Row(out, "stale", std::to_string(c.stale));
  std::string reasons;
  for (const auto& [reason, n] : c.rejected_by_reason)
    reasons += (reasons.empty() ? " (" : ", ") + reason + " " + std::to_string(n);
  Row(out, "rejected", std::to_string(c.rejected) + (reasons.empty() ? "" : reasons + ")"));
  const uint64_t gated = c.processed + c.skipped;
  Row(out, "skipped (motion gate)",
      std::to_string(c.skipped) +
          (gated ? " (" + Fixed(100.0 * static_cast<double>(c.skipped) / gated, 1) + "%)" : ""));
  Row(out, "missed deadlines",
      std::to_string(c.missed_deadlines) +
          (r.deadline_ms > 0 ? " (deadline " + Fixed(r.deadline_ms, 1) + " ms)" : " (no deadline)"));
  Row(out, "source errors", std::to_string(c.source_errors));
  for (const auto& [m, n] : c.source_error_messages) out << "    " << n << " x " << m << "\n";
  if (c.inference_errors) Row(out, "inference errors", std::to_string(c.inference_errors));
  if (c.postprocess_errors) Row(out, "postprocess errors", std::to_string(c.postprocess_errors));
  Row(out, "action errors", std::to_string(c.action_errors));
  for (const auto& [m, n] : c.action_error_messages) out << "    " << n << " x " << m << "\n";
  Row(out, "events sent", std::to_string(c.events_sent));
  Row(out, "bytes captured", std::to_string(c.bytes_captured));
  Row(out, "bytes sent",
      std::to_string(c.bytes_sent) +
          (c.bytes_captured
               ? " (" + Fixed(100.0 * static_cast<double>(c.bytes_sent) / c.bytes_captured, 3) +
                     "% of captured)"
               : ""));

  out << "\nlatency (ms):       count      mean       p50       p95       p99    per s\n";
  auto line = [&](const LatencySummary& s) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "  %-14s %9llu %9.3f %9.3f %9.3f %9.3f %8.1f\n",
                  s.name.c_str(), static_cast<unsigned long long>(s.count), s.mean_ms, s.p50_ms,
                  s.p95_ms, s.p99_ms, s.per_second);
    out << buf;
  };
  for (const LatencySummary& s : r.stages) line(s);
  line(r.end_to_end);

  out << "\nqueues:             capacity  policy        dropped  max depth  mean depth\n";
  for (const QueueSummary& q : r.queues) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "  %-18s %8zu  %-12s %8llu %10zu %11.2f\n", q.name.c_str(),
                  q.capacity, q.policy.c_str(), static_cast<unsigned long long>(q.dropped),
                  q.max_depth, q.mean_depth);
    out << buf;
  }
  out << "\nbottleneck: " << r.bottleneck << ": " << r.bottleneck_reason << "\n";
  if (!r.top_ops.empty()) {
    out << "\nslowest operators (all inferences):\n";
    for (const OpTime& o : r.top_ops) {
      char buf[256];
      std::snprintf(buf, sizeof(buf), "  %-18s %-28s %10.3f ms %9.1f us/run %6.1f%%\n",
                    o.op.c_str(), o.name.c_str(), o.total_ms, o.mean_us, 100.0 * o.share);
      out << buf;
    }
  }
  if (r.accuracy) {
    out << "\ndetection accuracy against the source's truth (" << r.accuracy->frames
        << " processed frames): mAP@0.5 " << Fixed(100.0 * r.accuracy->map50, 1)
        << "%, mAP@[.5:.95] " << Fixed(100.0 * r.accuracy->map50_95, 1) << "%\n";
    for (const auto& [name, ap] : r.accuracy->class_ap50)
      out << "  AP@0.5 " << name << ": " << Fixed(100.0 * ap, 1) << "%\n";
  }
  if (!r.error.empty()) out << "\nerror: " << r.error << "\n";
}

std::string FormatStatus(const LiveStatus& s) {
  return "fps " + Fixed(s.fps, 1) + " | e2e p50 " + Fixed(s.e2e_p50_ms, 1) + " ms p99 " +
         Fixed(s.e2e_p99_ms, 1) + " | infer " + Fixed(s.infer_ms, 1) + " ms | dropped " +
         std::to_string(s.dropped) + " | rejected " + std::to_string(s.rejected) + " | skipped " +
         Fixed(100.0 * s.skipped_fraction, 0) + "%";
}

}  // namespace outpost::pipeline
