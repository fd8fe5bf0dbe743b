// The options that say how an ONNX model's inputs are read (dynamic dimensions, static shapes,
// image preprocessing), shared by `outpost compile` and `outpost quantize` so that both accept
// and check them the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/compile.h"

namespace outpost::cli {

struct OnnxInputArgs {
  std::optional<int64_t> batch;
  std::vector<std::string> input_shapes;
  std::optional<std::string> mean;
  std::optional<std::string> std;
  std::optional<float> value_scale;
  std::optional<std::string> layout;
  std::optional<std::string> color;

  bool any() const {
    return batch || !input_shapes.empty() || mean || std || value_scale || layout || color;
  }
};

// Adds --batch, --input-shape, --mean, --std, --value-scale, --layout and --color to `app`.
// `help_prefix` starts every help line (e.g. "ONNX models: ").
void AddOnnxInputOptions(CLI::App* app, OnnxInputArgs* args, const std::string& help_prefix);

// Checks the values (throws UsageError) and writes them into `o`.
void ApplyOnnxInputArgs(const OnnxInputArgs& a, compiler::CompileOptions* o);

}  // namespace outpost::cli
