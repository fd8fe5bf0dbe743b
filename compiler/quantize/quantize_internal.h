// Pieces of QuantizeGraph() shared between its files.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quantize/graph_prep.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// The weight-only modes (weight_only.cc): activations float, weights stored as fp16 or int8
// constants read through DEQUANTIZE.
ir::Graph BuildWeightOnlyGraph(const ir::Graph& float_graph, const CalibrationResult& stats,
                               const QuantizeOptions& options, const KernelQuery& has_kernel,
                               QuantizeReport& report);

// Bias correction (bias_correction.cc): subtracts from `bias` (one float per output channel)
// the mean output shift that replacing the float weights of `node` by `quantized_weights`
// causes, using the channel means calibration recorded for the node's input `input_name`.
// Returns false (and adds a warning) when those means are missing or do not fit the layer.
bool CorrectBias(const ir::Node& node, const ir::Tensor& weights,
                 std::span<const float> quantized_weights, const CalibrationResult& stats,
                 const std::string& input_name, std::vector<float>& bias,
                 std::vector<std::string>& warnings);

// Sum of the bytes of every constant tensor.
uint64_t ConstantBytes(const ir::Graph& graph);

// Whether `options` selects `node` for quantization; `why` says why not.
bool Selected(const QuantizeOptions& options, const std::string& node, std::string* why);

}  // namespace outpost::quant
