// Top-1 accuracy of a classifier graph on labelled data, computed with the runtime's kernels:
// the figure `outpost prune` and `outpost optimize` report after each step.
#pragma once

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// Percent of samples whose largest output (output 0) is the label. Errors: unlabelled or empty
// data, a sample of the wrong size, a graph the runtime cannot run.
Expected<double> Top1Accuracy(const ir::Graph& graph, const Dataset& data,
                              const ProgressFn& progress = {});

}  // namespace outpost::quant
