// What `outpost prune` and `outpost optimize` share: measuring a candidate graph on this host
// and writing the chosen one as a deployable .opm.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::cli {

// Median latency in ms of one inference of `g` on this host (one thread, the runtime's kernels),
// over `runs` runs after a few warm-up runs, on `sample` (the input's float values).
double MedianLatencyMs(const ir::Graph& g, const std::vector<float>& sample, int runs = 30);

struct WrittenModel {
  uint64_t file_bytes = 0;
  uint64_t arena_bytes = 0;
  bool reference = false;  // a drift reference from the calibration data was embedded
};

// Plans memory, embeds a self-test (golden input: the first calibration sample, else seeded
// random) and, with data, a drift reference; checks that the runtime loads the result and
// writes it atomically. `g` is updated in place (plan, self-test, metadata).
WrittenModel WriteOptimizedModel(ir::Graph& g, const quant::Dataset* calibration,
                                 const std::string& path);

// Loads labelled validation data for `g` (IDX, image folder or .npy, as --calib takes) with a
// progress line; warnings go to stderr.
quant::Dataset LoadLabelledData(const std::string& data, const std::string& labels,
                                int64_t limit, const ir::Graph& g, const std::string& what);

// Top-1 accuracy in percent, with a progress line labelled `what`.
double MeasureAccuracy(const ir::Graph& g, const quant::Dataset& data, const std::string& what);

}  // namespace outpost::cli
