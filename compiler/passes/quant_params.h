// Quantization parameters (ir::Quantization): comparison, checks, messages and how they follow
// a tensor through data movement. Shared by the ONNX importer (QuantizeLinear, QLinearConv,
// ...) and the QDQ-folding pass; docs/quantization.md has the scheme.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::passes {

// Whether two parameter sets map integers to the same reals: same granularity and axis, equal
// zero points, scales equal within a relative 1e-6 (an exporter that writes one float32
// constant twice gives equal scales; one that recomputes a product may differ in the last bit).
bool SameQuantization(const ir::Quantization& a, const ir::Quantization& b);

// The shortest decimal that reads back as `v` ("0.1", not "0.100000001"), for messages.
std::string ScaleText(float v);

// "scale 0.0123 and zero point -5", or "per-axis scales (axis 0, 32 values, 0.001 to 0.02)
// and zero points 0", for messages.
std::string DescribeQuantization(const ir::Quantization& q);

// Throws Error naming `tensor` unless every scale is positive and finite, every zero point
// lies in `dtype`'s range (INT8, UINT8; INT32 takes zero point 0 only), and a per-axis set has
// one value per index of its axis in `shape`.
void CheckQuantization(const ir::Quantization& q, ir::DType dtype,
                       const std::vector<int64_t>& shape, const std::string& tensor);

// The same parameters with every zero point moved by `delta` (UINT8 -> INT8 is -128).
ir::Quantization ShiftZeroPoints(ir::Quantization q, int64_t delta);

// The scale and zero point that apply to index `c` of the quantized axis (any c for per-tensor).
float ScaleAt(const ir::Quantization& q, int64_t c);
int64_t ZeroPointAt(const ir::Quantization& q, int64_t c);

// Parameters of a tensor transposed by `perm` (output axis k is input axis perm[k]).
ir::Quantization TransposedQuantization(const ir::Quantization& q, const std::vector<int>& perm);
// Parameters of a tensor reshaped from `in` to `out`: per-tensor ones carry over; a per-axis
// set carries over when its axis survives (an output axis of the same length with as many
// elements before it), otherwise nullopt.
std::optional<ir::Quantization> ReshapedQuantization(const ir::Quantization& q,
                                                     const std::vector<int64_t>& in,
                                                     const std::vector<int64_t>& out);

// ONNX QuantizeLinear of one value: round(x / scale) half to even, plus the zero point,
// saturated to [lo, hi]. NaN becomes the zero point.
int64_t QuantizeValue(float x, float scale, int64_t zero_point, int64_t lo, int64_t hi);

// The range of an integer dtype (INT8, UINT8, INT32).
int64_t DTypeMin(ir::DType dtype);
int64_t DTypeMax(ir::DType dtype);

}  // namespace outpost::passes
