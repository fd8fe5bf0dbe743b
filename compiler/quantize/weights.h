// Weight and bias conversion: symmetric int8 weights (per channel or per tensor), int32 biases,
// fp16 storage, and the expected output error of quantized weights (bias correction).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::quant {

struct SymmetricInt8 {
  std::vector<int8_t> values;  // in [-127, 127]
  std::vector<float> scales;   // one per index of `axis`, or one
  int axis = -1;               // -1: per tensor
};

// real = scale * q with scale = max|w| / 127 over each channel of `axis` (or the whole tensor
// when axis is -1); rounding half away from zero. An all-zero channel borrows the smallest
// scale of the others (any scale represents it exactly; a small one keeps the bias precise).
SymmetricInt8 QuantizeSymmetric(std::span<const float> w, const std::vector<int64_t>& shape,
                                int axis);

// The float values `q` stands for.
std::vector<float> Dequantize(const SymmetricInt8& q, const std::vector<int64_t>& shape);

// int32 bias with scale[c] = input_scale * weight_scale[c] (weight_scales: one per channel or
// one for all), zero point 0. A value beyond int32 saturates and adds a line to `warnings`.
std::vector<int32_t> QuantizeBias(std::span<const float> bias, float input_scale,
                                  const std::vector<float>& weight_scales,
                                  const std::string& name, std::vector<std::string>* warnings);

std::vector<uint16_t> ToFloat16(std::span<const float> v);

// Bias correction (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and
// Bias Correction", section 4.2): quantizing W to W' shifts each output channel's mean by
// (W' - W) . E[x]. Returns that shift per output channel for a CONV_2D (weights
// [O, I/groups, kH, kW]; zero padding's effect at the borders is ignored) or a FULLY_CONNECTED
// layer (weights [O, K]), given E[x] per input channel. Empty when the means do not match
// the layer's input channels.
std::vector<double> OutputMeanShift(const ir::Node& node, const ir::Tensor& weights,
                                    std::span<const float> quantized_weights,
                                    const std::vector<double>& input_channel_mean);

}  // namespace outpost::quant
