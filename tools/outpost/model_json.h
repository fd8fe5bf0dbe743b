// JSON descriptions of model parts, shared by inspect and bench.
#pragma once

#include <nlohmann/json.hpp>

#include "io/model_file.h"

namespace outpost::cli {

// {"index", "name", "shape", "dtype", "quantization"?: {...}, "constant"}
nlohmann::json TensorJson(const io::LoadedModel& model, int tensor);
// {"layout", "color", "value_scale", "mean", "std"} or null
nlohmann::json InputSpecJson(const io::LoadedModel& model, int input_index);
std::string TaskName(opm::Task task);
std::string LayoutName(opm::Layout layout);
std::string ColorName(opm::ColorFormat color);

}  // namespace outpost::cli
