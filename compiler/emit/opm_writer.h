// Emits a planned IR graph as .opm bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::emit {

// The graph must be valid (Graph::Validate) and planned (graph.plan set, every activation
// tensor has an arena offset). Throws Error otherwise.
std::vector<uint8_t> EmitOpm(const ir::Graph& graph);

}  // namespace outpost::emit
