// Telemetry: idempotent batch insert, cohort health and the dashboard's series.
#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "fleet/store/store_internal.h"

namespace outpost::fleet {
using namespace internal;
namespace {

// Rows per INSERT statement: 14 parameters each stays far below both databases' limits
// (SQLite 32766, PostgreSQL 65535).
constexpr size_t kRowsPerStatement = 200;

// Nearest-rank percentile (the smallest value with at least p of the values at or below it).
double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace

Expected<InsertCounts> FleetStore::InsertTelemetry(const std::vector<TelemetryRecord>& records) {
  return Capture([&] {
    // Rows in key order: two servers inserting overlapping batches lock them in the same order,
    // so they wait for each other instead of deadlocking.
    std::vector<const TelemetryRecord*> sorted;
    sorted.reserve(records.size());
    for (const auto& r : records) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](const TelemetryRecord* a, const TelemetryRecord* b) {
      return std::tie(a->device_id, a->seq) < std::tie(b->device_id, b->seq);
    });
    return InTransaction(*db_, [&](SqlConnection& c) {
      InsertCounts counts;  // reset on every attempt: a retried transaction starts over
      for (size_t start = 0; start < sorted.size(); start += kRowsPerStatement) {
        const size_t end = std::min(sorted.size(), start + kRowsPerStatement);
        std::string sql =
            "INSERT INTO telemetry (device_id, seq, time_ms, model, version, inferences, errors, latency_p50_ms, "
            "latency_p99_ms, agreement, drift_psi, temperature_c, rss_bytes, body_json) VALUES ";
        std::vector<SqlValue> params;
        params.reserve((end - start) * 14);
        for (size_t i = start; i < end; ++i) {
          const TelemetryRecord& t = *sorted[i];
          sql += i == start ? "" : ", ";
          sql += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
          params.insert(params.end(),
                        {t.device_id, t.seq, t.time_ms, t.model, t.version, t.inferences, t.errors, t.latency_p50_ms,
                         t.latency_p99_ms, Optional(t.agreement), Optional(t.drift_psi), Optional(t.temperature_c),
                         t.rss_bytes, t.body_json.empty() ? std::string("{}") : t.body_json});
        }
        sql += " ON CONFLICT DO NOTHING";
        counts.inserted += Run(c, sql, params).changed;
      }
      counts.duplicates = static_cast<int64_t>(records.size()) - counts.inserted;
      return counts;
    });
  });
}

Expected<int64_t> FleetStore::CountTelemetry(const std::string& device_id) {
  return Capture([&] {
    if (device_id.empty()) return Query(*db_, "SELECT COUNT(*) FROM telemetry").rows.at(0).integer(0);
    return Query(*db_, "SELECT COUNT(*) FROM telemetry WHERE device_id = ?", {device_id}).rows.at(0).integer(0);
  });
}

Expected<int64_t> FleetStore::LastTelemetrySeq(const std::string& device_id) {
  return Capture([&] {
    return Query(*db_, "SELECT MAX(seq) FROM telemetry WHERE device_id = ?", {device_id}).rows.at(0).integer(0);
  });
}

Expected<CohortHealth> FleetStore::VersionHealth(const std::string& model, const std::string& version,
                                                 int64_t since_ms, int64_t until_ms,
                                                 const std::vector<std::string>& device_ids) {
  return Capture([&] {
    auto result = Query(*db_,
                        "SELECT device_id, inferences, errors, latency_p99_ms, agreement, drift_psi, temperature_c "
                        "FROM telemetry WHERE model = ? AND version = ? AND time_ms >= ? AND time_ms < ?",
                        {model, version, since_ms, until_ms});
    // The cohort is filtered here rather than with IN (...): a cohort may hold more devices
    // than a statement takes parameters.
    const std::unordered_set<std::string> only(device_ids.begin(), device_ids.end());
    CohortHealth h;
    std::unordered_set<std::string> devices;
    std::vector<double> p99s;
    double agreement_sum = 0, drift_sum = 0;
    int64_t agreement_n = 0, drift_n = 0;
    for (const auto& row : result.rows) {
      std::string device = row.text(0);
      if (!only.empty() && !only.count(device)) continue;
      devices.insert(std::move(device));
      ++h.records;
      h.inferences += row.integer(1);
      h.errors += row.integer(2);
      p99s.push_back(row.real(3));
      if (!row.is_null(4)) agreement_sum += row.real(4), ++agreement_n;
      if (!row.is_null(5)) drift_sum += row.real(5), ++drift_n;
      if (!row.is_null(6)) h.temperature_max_c = std::max(h.temperature_max_c.value_or(row.real(6)), row.real(6));
    }
    h.devices = static_cast<int64_t>(devices.size());
    h.error_rate = h.inferences > 0 ? static_cast<double>(h.errors) / static_cast<double>(h.inferences) : 0;
    h.latency_p99_ms = Percentile(std::move(p99s), 0.99);
    if (agreement_n) h.agreement = agreement_sum / static_cast<double>(agreement_n);
    if (drift_n) h.drift_psi = drift_sum / static_cast<double>(drift_n);
    return h;
  });
}

// Buckets are aligned to multiples of bucket_ms since the epoch, so points from successive
// calls line up.
Expected<std::vector<FleetStore::SeriesPoint>> FleetStore::VersionSeries(const std::string& model, int64_t since_ms,
                                                                         int64_t bucket_ms) {
  return Capture([&] {
    if (bucket_ms <= 0) throw Error("the series bucket must be a positive number of milliseconds");
    auto result = Query(*db_, "SELECT time_ms, version, latency_p99_ms, drift_psi FROM telemetry "
                              "WHERE model = ? AND time_ms >= ?",
                        {model, since_ms});
    struct Acc {
      std::vector<double> p99s;
      double drift_sum = 0;
      int64_t drift_n = 0;
    };
    std::map<std::pair<int64_t, std::string>, Acc> buckets;
    for (const auto& row : result.rows) {
      const int64_t t = row.integer(0);
      const int64_t bucket = t - ((t % bucket_ms) + bucket_ms) % bucket_ms;
      Acc& a = buckets[{bucket, row.text(1)}];
      a.p99s.push_back(row.real(2));
      if (!row.is_null(3)) a.drift_sum += row.real(3), ++a.drift_n;
    }
    std::vector<SeriesPoint> points;
    for (auto& [key, a] : buckets) {
      SeriesPoint p;
      p.bucket_ms = key.first;
      p.version = key.second;
      p.records = static_cast<int64_t>(a.p99s.size());
      p.latency_p99_ms = Percentile(std::move(a.p99s), 0.99);
      if (a.drift_n) p.drift_psi = a.drift_sum / static_cast<double>(a.drift_n);
      points.push_back(std::move(p));
    }
    return points;
  });
}

}  // namespace outpost::fleet
