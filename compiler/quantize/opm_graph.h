// Recovering the graph IR from a compiled .opm model, so that `outpost quantize` can start
// from the float model `outpost compile` wrote as well as from its ONNX source.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/expected.h"
#include "compiler/ir/graph.h"

namespace outpost::quant {

// Verifies `bytes` with the runtime's model checks, then rebuilds what EmitOpm wrote: tensors
// (constant data, quantization), operators with their options, graph inputs and outputs,
// input specs, task, labels, metadata. The memory plan and self-test are dropped: a changed
// graph needs new ones. `name` prefixes errors (usually the path).
Expected<ir::Graph> GraphFromOpm(std::span<const uint8_t> bytes, const std::string& name);

// True when `bytes` start with the .opm file magic.
bool IsOpm(std::span<const uint8_t> bytes);

}  // namespace outpost::quant
