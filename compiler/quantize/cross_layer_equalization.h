// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight
// Equalization and Bias Correction"): for a conv/fully-connected layer followed (through a
// ReLU-like, positively homogeneous activation) by another, scale output channel i of the first
// by 1/s_i and input channel i of the second by s_i with s_i = sqrt(r1_i / r2_i) (r: the
// channel's weight range), which leaves the float function unchanged and evens out per-channel
// weight ranges so per-tensor (and per-channel) int8 loses less.
//
// Pairs found: CONV_2D (any groups, depthwise included) or FULLY_CONNECTED followed by CONV_2D
// or FULLY_CONNECTED, where the first layer's output reaches the second through ops that act on
// each channel separately and commute with a positive per-channel scale: a fused or standalone
// RELU, LEAKY_RELU, PRELU, max / average / global pooling, PAD with value 0, and a flatten
// RESHAPE just before a fully connected layer. Every tensor on the way must have that single
// reader. ReLU6 (CLIP(0, b)) does not commute with a per-channel scale (channel i would need
// CLIP(0, b / s_i)); such pairs are skipped unless `relu6_to_relu` is set, which replaces those
// clips by RELU, as Nagel et al. do for MobileNetV2. That changes the function wherever a value
// exceeded b; the accuracy gate measures the effect against the original model.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::quant {

struct EqualizationOptions {
  // Replace a ReLU6-like CLIP(0, b) between two layers by RELU so the pair can be equalized.
  bool relu6_to_relu = false;
  // Sweeps over all pairs stop when no scale differs from 1 by more than `tolerance` (a chain
  // A -> B -> C needs several sweeps: equalizing (B, C) changes B's ranges again).
  int max_iterations = 100;
  double tolerance = 1e-6;
};

struct EqualizationReport {
  std::vector<std::pair<std::string, std::string>> pairs;  // (first node, second node) equalized
  int iterations = 0;
  // Nodes whose ReLU6-like clip became RELU (relu6_to_relu).
  std::vector<std::string> relu6_replaced;
  // Layers that had a candidate successor but could not be paired, with the reason.
  std::vector<std::pair<std::string, std::string>> skipped;
};

// Returns the equalized float graph (same function up to float rounding).
ir::Graph EqualizeCrossLayer(const ir::Graph& float_graph, EqualizationReport* report = nullptr);
// As above; with options.relu6_to_relu the function changes where a ReLU6 saturated.
ir::Graph EqualizeCrossLayer(const ir::Graph& float_graph, const EqualizationOptions& options,
                             EqualizationReport* report = nullptr);

}  // namespace outpost::quant
