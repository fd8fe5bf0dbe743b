// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight
// Equalization and Bias Correction"): for a conv/fully-connected layer followed (through a
// ReLU-like, positively homogeneous activation) by another, scale output channel i of the first
// by 1/s_i and input channel i of the second by s_i with s_i = sqrt(r1_i / r2_i) (r: the
// channel's weight range), which leaves the float function unchanged and evens out per-channel
// weight ranges so per-tensor (and per-channel) int8 loses less.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::quant {

struct EqualizationReport {
  std::vector<std::pair<std::string, std::string>> pairs;  // (first node, second node) equalized
  int iterations = 0;
};

// Returns the equalized float graph (same function up to float rounding).
ir::Graph EqualizeCrossLayer(const ir::Graph& float_graph, EqualizationReport* report = nullptr);

}  // namespace outpost::quant
