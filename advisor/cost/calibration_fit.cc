// Leave-one-out scoring of the published calibration points (docs/advisor.md, "Other targets").
#include "advisor/cost/calibration_fit.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "advisor/cost/op_features.h"

namespace outpost::advisor {
namespace {

std::string GroupKey(const CalibrationPoint& p) {
  return p.target + "|" + p.engine + "|" + std::string(PrecisionName(*p.precision)) + "|" +
         std::to_string(p.threads.value_or(0)) + "|" + p.runtime;
}

// Effective MAC rate of a point: MACs / latency.
double RateOf(const CalibrationPoint& p) { return *p.macs.si() / (p.latency_ms * 1e-3); }

}  // namespace

std::vector<CalibrationResidual> ScoreCalibrationPoints(const CalibrationSet& set) {
  std::map<std::string, std::vector<const CalibrationPoint*>> groups;
  for (const CalibrationPoint& p : set.points)
    if (p.is_latency() && p.precision && p.macs.known()) groups[GroupKey(p)].push_back(&p);

  std::vector<CalibrationResidual> rows;
  for (const CalibrationPoint& p : set.points) {
    CalibrationResidual r;
    r.point = p.id;
    r.target = p.target;
    r.model = p.model;
    r.precision = p.precision ? std::string(PrecisionName(*p.precision)) : "n/s";
    r.threads = p.threads;
    r.measured_ms = p.latency_ms;
    if (!p.is_latency()) {
      r.status = "amortized throughput, not a batch-1 latency: not fitted";
    } else if (!p.precision) {
      r.status = "precision not published";
    } else if (Expected<std::vector<OpFeatures>> f = FeaturesFromTotals(p); !f) {
      r.status = "no MACs published and no graph here";
    } else {
      const std::vector<const CalibrationPoint*>& group = groups[GroupKey(p)];
      // Geometric mean of the other points' rates: rates are ratios, and one slow network
      // should not dominate the average.
      double log_sum = 0;
      int n = 0;
      for (const CalibrationPoint* q : group)
        if (q != &p) log_sum += std::log(RateOf(*q)), ++n;
      if (n == 0) {
        r.status = "only point of its group: fits exactly, no error estimate";
      } else {
        const double rate = std::exp(log_sum / n);
        r.predicted_ms = static_cast<double>((*f)[0].macs) / rate * 1e3;
        r.fitted_on = n;
        r.status = "leave-one-out";
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string FormatCalibrationTable(const std::vector<CalibrationResidual>& rows) {
  std::string out = "| point | target | model | prec. | thr. | measured ms | predicted ms | error | fitted on | status |\n"
                    "|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[512];
  int scored = 0;
  double log_err = 0, worst = 0;
  for (const CalibrationResidual& r : rows) {
    std::string pred = "–", err = "–";
    if (r.ratio()) {
      std::snprintf(buf, sizeof(buf), "%.2f", *r.predicted_ms);
      pred = buf;
      std::snprintf(buf, sizeof(buf), "%+.0f%%", (*r.ratio() - 1) * 100);
      err = buf;
      ++scored;
      const double e = std::fabs(std::log(*r.ratio()));
      log_err += e;
      worst = std::max(worst, e);
    }
    std::snprintf(buf, sizeof(buf), "| `%s` | `%s` | %s | %s | %s | %.4g | %s | %s | %d | %s |\n", r.point.c_str(),
                  r.target.c_str(), r.model.c_str(), r.precision.c_str(),
                  r.threads ? std::to_string(*r.threads).c_str() : "–", r.measured_ms, pred.c_str(), err.c_str(),
                  r.fitted_on, r.status.c_str());
    out += buf;
  }
  if (scored > 0) {
    std::snprintf(buf, sizeof(buf),
                  "\n%d of %zu points scored (leave-one-out); geometric-mean error factor %.2f, worst %.2f\n", scored,
                  rows.size(), std::exp(log_err / scored), std::exp(worst));
  } else {
    std::snprintf(buf, sizeof(buf), "\n0 of %zu points scored\n", rows.size());
  }
  out += buf;
  return out;
}

}  // namespace outpost::advisor
