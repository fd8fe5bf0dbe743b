// The float model a host-side optimization starts from (`outpost quantize`, `prune`,
// `optimize`): a float .opm from `outpost compile`, or an ONNX model compiled on the spot.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/ir/graph.h"
#include "tools/outpost/onnx_input_options.h"

namespace outpost::cli {

// Loads `path` (a .opm, recognized by its magic, or ONNX compiled with `inputs`). The memory
// plan and self-test are dropped: the optimized graph needs new ones. `float_opm_bytes`, when
// given, receives the size of the float .opm (without cached packed weights) that the result
// replaces. With `verbose`, compiler passes log to stderr. Throws UsageError for input options
// given with a .opm, Error for an unreadable or invalid model.
ir::Graph LoadFloatModel(const std::string& path, const OnnxInputArgs& inputs, bool verbose,
                         uint64_t* float_opm_bytes = nullptr);

}  // namespace outpost::cli
