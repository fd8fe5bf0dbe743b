// Turning a quantized graph into a deployable one, as `outpost compile` does for float models:
// an offline memory plan and an embedded self-test.
#pragma once

#include <cstdint>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"

namespace outpost::quant {

// Plans `graph`'s memory and records a self-test: the golden input is `sample` (preprocessed
// float values of the only input, e.g. a calibration sample, so the check exercises the real
// operating range) or, when null, a seeded random input (pixels through the input spec for an
// image input); the golden output is what the runtime computes for it. Running the graph also
// proves that the runtime accepts every operator. Integer outputs must match exactly; float
// outputs within an absolute tolerance of two steps of the int8 tensor they were dequantized
// from (optimized float kernels around a mixed-precision graph may flip a rounding).
Expected<Unit> PlanAndSelfTest(ir::Graph& graph, const std::vector<float>* sample,
                               uint64_t seed = 1);

}  // namespace outpost::quant
