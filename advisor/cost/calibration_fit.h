// Scoring the cost model against the published calibration points (calibration.json).
//
// Other targets are known only by a few whole-network latencies, and no graph of most of those
// networks is here: a point contributes its published MACs (FeaturesFromTotals), and the fit
// has one free number per group of comparable points (same target, engine, precision, threads
// and runtime): the effective MAC rate. With so few points a richer model would only fit noise.
// Each point's error is leave-one-out where its group has other points (the rate is fitted on
// them, then the point is predicted); a point alone in its group fits exactly and has no error
// estimate, which the table says rather than printing 0%.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"

namespace outpost::advisor {

struct CalibrationResidual {
  std::string point;  // calibration point id
  std::string target, model, precision;
  std::optional<int> threads;
  double measured_ms = 0;
  std::optional<double> predicted_ms;  // empty when the point cannot be predicted
  int fitted_on = 0;                   // points the rate was fitted on (0: not predicted)
  std::string status;                  // "leave-one-out", "only point of its group", or why not predicted

  std::optional<double> ratio() const {
    if (!predicted_ms) return std::nullopt;
    return *predicted_ms / measured_ms;
  }
};

std::vector<CalibrationResidual> ScoreCalibrationPoints(const CalibrationSet& points);

// A Markdown table of the residuals, one row per point, plus a summary line.
std::string FormatCalibrationTable(const std::vector<CalibrationResidual>& rows);

}  // namespace outpost::advisor
