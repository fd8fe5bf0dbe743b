#include "tools/outpost/onnx_input_options.h"

#include "tools/outpost/cli_util.h"

namespace outpost::cli {

void AddOnnxInputOptions(CLI::App* app, OnnxInputArgs* args, const std::string& help_prefix) {
  app->add_option("--batch", args->batch,
                  help_prefix + "value of dynamic (symbolic) input dimensions, usually the batch "
                                "(default 1)");
  app->add_option("--input-shape", args->input_shapes,
                  help_prefix + "static shape of an input, NAME=D0,D1,... (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--mean", args->mean, help_prefix + "per-channel mean, e.g. 0.485,0.456,0.406");
  app->add_option("--std", args->std, help_prefix + "per-channel std, e.g. 0.229,0.224,0.225");
  app->add_option("--value-scale", args->value_scale,
                  help_prefix + "pixel scale applied before mean/std, e.g. 0.00392157 (1/255)");
  app->add_option("--layout", args->layout, help_prefix + "image input layout")
      ->check(CLI::IsMember({"NCHW", "NHWC"}));
  app->add_option("--color", args->color, help_prefix + "image input colour format")
      ->check(CLI::IsMember({"gray", "rgb", "bgr"}));
}

void ApplyOnnxInputArgs(const OnnxInputArgs& a, compiler::CompileOptions* o) {
  if (a.batch) {
    if (*a.batch < 1) throw UsageError("--batch must be at least 1");
    o->import.dynamic_dim = *a.batch;
  }
  for (const std::string& spec : a.input_shapes) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--input-shape expects NAME=D0,D1,..., got '" + spec + "'");
    std::vector<int64_t> dims = ParseIntList(spec.substr(eq + 1), "--input-shape");
    for (int64_t d : dims)
      if (d < 1) throw UsageError("--input-shape: dimensions must be positive in '" + spec + "'");
    o->import.input_shapes[spec.substr(0, eq)] = std::move(dims);
  }
  if (a.mean) o->mean = ParseFloatList(*a.mean, "--mean");
  if (a.std) {
    o->std = ParseFloatList(*a.std, "--std");
    for (float s : *o->std)
      if (s == 0.0f) throw UsageError("--std: values must be non-zero");
  }
  if (a.value_scale) o->value_scale = *a.value_scale;
  if (a.layout) o->layout = *a.layout == "NCHW" ? opm::Layout::NCHW : opm::Layout::NHWC;
  if (a.color)
    o->color = *a.color == "gray"  ? opm::ColorFormat::GRAY
               : *a.color == "rgb" ? opm::ColorFormat::RGB
                                   : opm::ColorFormat::BGR;
}

}  // namespace outpost::cli
