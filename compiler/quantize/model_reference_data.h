// The drift reference of a compiled model (io/model_reference.h), made from reference data
// loaded as calibration data is (compiler/quantize/dataset.h): `outpost compile --reference`
// and `outpost quantize --calib` store it in the model they write.
#pragma once

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"
#include "io/model_reference.h"

namespace outpost::quant {

// Runs the planned `graph` (emitted and loaded as the runtime will run it) on every sample of
// `data` and stores the reference under io::kReferenceKey in graph.info.metadata, replacing
// any earlier one. Returns the reference stored.
Expected<io::ModelReference> AddModelReference(ir::Graph& graph, const Dataset& data);

}  // namespace outpost::quant
