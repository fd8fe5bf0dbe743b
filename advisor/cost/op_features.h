// What the latency cost model needs to know about each operator of a model: its class, its
// multiply-accumulates, the bytes it reads (weights and activations) and writes, and the
// precision it computes in. Taken from a verified .opm; MACs come from io::OperatorMacs so that
// `outpost inspect`, the per-op profile and the Advisor count the same work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "advisor/catalog/hardware_catalog.h"
#include "common/expected.h"
#include "runtime/model.h"

namespace outpost::advisor {

// Op classes of the cost model: each gets its own effective MAC rate (or, for the MAC-free
// ones, is bounded by bytes moved and per-op overhead).
enum class OpClass {
  kConv,            // dense convolution (groups 1, or grouped but not depthwise), transposed conv
  kDepthwise,       // convolution with one group per input channel
  kFullyConnected,  // fully connected and matmul
  kElementwise,     // element-wise arithmetic, activations, pooling, reductions
  kOther,           // data movement and the rest: reshape, concat, transpose, pad, resize, softmax, (de)quantize
};
inline constexpr int kNumOpClasses = 5;
std::string_view OpClassName(OpClass c);

struct OpFeatures {
  int index = 0;
  std::string op;  // opcode name, e.g. "CONV_2D"
  OpClass op_class = OpClass::kOther;
  uint64_t macs = 0;
  uint64_t weight_bytes = 0;      // constant inputs (weights, biases, lookup tables)
  uint64_t activation_bytes = 0;  // non-constant inputs
  uint64_t output_bytes = 0;
  Precision precision = Precision::kFp32;  // of the op's first non-constant input

  uint64_t bytes_read() const { return weight_bytes + activation_bytes; }
  uint64_t bytes_moved() const { return bytes_read() + output_bytes; }
};

// The features of every operator of `model`, in execution order.
std::vector<OpFeatures> ExtractOpFeatures(const Model& model);

// Features of a whole network known only by its published totals (a calibration point with
// MACs and params but no graph here): one conv-class op carrying all MACs and the weights read
// once. Cruder than a graph, and used only where no graph exists. Error when the MACs are
// unknown.
Expected<std::vector<OpFeatures>> FeaturesFromTotals(const CalibrationPoint& point);

}  // namespace outpost::advisor
