// Human-readable facts about the operators of a verified model: shapes, key parameters and
// multiply-accumulate counts. Shared by `outpost inspect` and the per-op profiles, so both agree
// on what an op costs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/model.h"

namespace outpost::io {

struct OpInfo {
  int index = 0;
  std::string op;           // opcode name, e.g. "CONV_2D"
  std::string name;         // the node name from the source model (may be empty)
  std::vector<int> inputs;  // tensor indices, -1 for an absent optional input
  std::vector<int> outputs;
  // Key parameters in display order, e.g. {"kernel", "3x3"}, {"stride", "1x1"}.
  std::vector<std::pair<std::string, std::string>> params;
  uint64_t macs = 0;
};

// Multiply-accumulates of operator `op` (convolutions, fully connected, matmul; 0 for others).
// Uses the same rule as the compiler's cost count.
uint64_t OperatorMacs(const Model& model, int op);

OpInfo DescribeOperator(const Model& model, int op);

// "kernel=3x3 stride=2x2 pads=1,1,1,1 act=RELU"
std::string JoinParams(const std::vector<std::pair<std::string, std::string>>& params);

std::vector<int32_t> TensorShape(const Model& model, int tensor);

struct ModelTotals {
  int ops = 0;
  uint64_t params = 0;        // elements of constant tensors read by operators
  uint64_t weight_bytes = 0;  // bytes of those constants
  uint64_t macs = 0;          // sum of OperatorMacs
};

ModelTotals ComputeTotals(const Model& model);

}  // namespace outpost::io
