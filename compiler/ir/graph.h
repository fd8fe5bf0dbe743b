// The compiler's graph IR: tensors, nodes in execution order, model information.
//
// Nodes use the runtime's opcodes and option tables (FlatBuffers object API) directly, so the
// IR can always be emitted and every node can be executed by the runtime, which is how constant
// folding evaluates it. Shapes are static: the importer fixes every dimension.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "opm_generated.h"

namespace outpost::ir {

using opm::DType;
using opm::OpCode;

size_t DTypeBytes(DType t);
std::string ShapeString(const std::vector<int64_t>& shape);
int64_t NumElements(const std::vector<int64_t>& shape);

struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = -1;  // -1: per tensor
  bool present() const { return !scale.empty(); }
};

struct Tensor {
  std::string name;
  DType dtype = DType::FLOAT32;
  std::vector<int64_t> shape;
  bool constant = false;
  std::vector<uint8_t> data;  // constant contents, little-endian, dense row-major
  Quantization quant;
  int64_t arena_offset = -1;  // set by the memory planner

  int64_t num_elements() const { return NumElements(shape); }
  size_t bytes() const { return static_cast<size_t>(num_elements()) * DTypeBytes(dtype); }

  template <typename T>
  std::span<const T> values() const {
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  template <typename T>
  std::span<T> mutable_values() {
    return {reinterpret_cast<T*>(data.data()), data.size() / sizeof(T)};
  }
};

struct Node {
  OpCode op = OpCode::RELU;
  std::string name;
  std::vector<int> inputs;  // tensor indices; -1 marks an absent optional input
  std::vector<int> outputs;
  opm::OpOptionsUnion options;  // e.g. options.AsConv2DOptions(); null when absent
};

// How raw data becomes a model input (images: value_scale, mean and std per channel).
struct InputSpec {
  int tensor = -1;
  opm::Layout layout = opm::Layout::ANY;
  opm::ColorFormat color = opm::ColorFormat::NONE;
  float value_scale = 1.0f;
  std::vector<float> mean;
  std::vector<float> std;
};

struct ModelInfo {
  std::string name;
  std::string producer;
  opm::Task task = opm::Task::GENERIC;
  std::vector<std::string> labels;
  std::vector<InputSpec> input_specs;
  std::map<std::string, std::string> metadata;
  size_t source_node_count = 0;  // nodes in the imported model (for reports; not emitted)
};

struct MemoryPlan {
  uint64_t arena_bytes = 0;
  uint64_t lower_bound_bytes = 0;
  uint32_t alignment = 16;
};

// Golden data travelling with the model (inputs and outputs in graph order).
struct SelfTest {
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<std::vector<uint8_t>> outputs;
  float atol = 0;
  float rtol = 0;
};

class Graph {
 public:
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;  // execution order
  std::vector<int> inputs;
  std::vector<int> outputs;
  ModelInfo info;
  std::optional<MemoryPlan> plan;
  std::optional<SelfTest> self_test;

  int AddTensor(Tensor t);
  int AddActivation(const std::string& name, DType dtype, std::vector<int64_t> shape);
  int AddConstant(const std::string& name, DType dtype, std::vector<int64_t> shape,
                  std::vector<uint8_t> data);
  template <typename T>
  int AddConstant(const std::string& name, DType dtype, std::vector<int64_t> shape,
                  const std::vector<T>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return AddConstant(name, dtype, std::move(shape), std::move(bytes));
  }
  int AddNode(Node n);

  // A name not used by any tensor yet, derived from `base`.
  std::string UniqueName(const std::string& base);

  // Index of the node producing `tensor`, or -1 (graph input or constant).
  int Producer(int tensor) const;
  // Indices of nodes reading `tensor`, in execution order.
  std::vector<int> Consumers(int tensor) const;
  bool IsGraphOutput(int tensor) const;
  bool IsGraphInput(int tensor) const;

  // Rewrites every use of tensor `from` (node inputs, graph outputs) to `to`.
  void ReplaceUses(int from, int to);
  // Drops nodes whose flag is set, keeping order.
  void RemoveNodes(const std::vector<bool>& remove);
  // Drops tensors nothing refers to and renumbers the rest.
  void RemoveUnusedTensors();

  // Checks the structural invariants the emitter and runtime rely on: indices in range, each
  // tensor produced once, every read after its write (execution order), outputs not constant.
  // Throws Error naming the first violation.
  void Validate() const;

  uint64_t CountMacs() const;
};

}  // namespace outpost::ir
