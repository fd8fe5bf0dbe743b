// The totals the Advisor's commands need from a compiled model (MACs, weight bytes, the
// runtime's arena, precision), shared by `outpost plan` and `outpost decide`.
#pragma once

#include <string>

#include "advisor/plan/plan.h"
#include "io/model_file.h"

namespace outpost::cli {

// Sums the per-op features and measures the arena with every kernel registered; the model's
// precision is that of the op doing most of its work. Throws Error when the arena cannot be
// measured.
advisor::PlanModel SummarizeModel(const io::LoadedModel& m, const std::string& name);

}  // namespace outpost::cli
