// Offline memory planning: assigns every activation tensor an offset in one arena.
//
// Tensors that must share storage are grouped into buffers first: RESHAPE outputs alias their
// input (the kernel is then a no-op) and element-wise ops write in place over an input that
// dies at that op. Buffers are then placed greedily, largest first, at the lowest offset that
// does not overlap any placed buffer whose lifetime intersects (the scheme of TFLite Micro's
// GreedyMemoryPlanner). The lower bound is the largest sum of buffer bytes live at one step.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::plan {

struct PlanOptions {
  uint32_t alignment = 16;
  bool in_place = true;       // element-wise ops may overwrite a dying input
  bool alias_reshape = true;  // reshape outputs share their input's storage
};

struct BufferInfo {
  std::vector<int> tensors;  // tensors sharing this storage
  uint64_t bytes = 0;
  int first_step = 0;  // node index that writes it (-1: graph input, live from the start)
  int last_step = 0;   // last node index that reads it (num nodes: graph output)
  uint64_t offset = 0;
};

struct PlanResult {
  uint64_t arena_bytes = 0;
  uint64_t lower_bound_bytes = 0;
  std::vector<BufferInfo> buffers;
};

// Plans `graph` in place: sets Tensor::arena_offset and graph.plan. Returns the details.
PlanResult PlanMemory(ir::Graph& graph, const PlanOptions& options = {});

// Whether node `op` may write its output over input 0 (element-wise, same size).
bool SupportsInPlace(const ir::Node& node, const ir::Graph& graph);

}  // namespace outpost::plan
