// Runs an IR graph on the host with the runtime itself: emit, load, interpret. Used where the
// compiler needs numbers (constant folding, self-test generation), so that the compiler and the
// device can never disagree about what an op computes.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::emit {

// `inputs` holds the bytes of each graph input in order. A graph without a plan is planned on a
// copy. Returns the bytes of each graph output. Throws Error with the runtime's message.
std::vector<std::vector<uint8_t>> RunGraph(const ir::Graph& graph,
                                           const std::vector<std::vector<uint8_t>>& inputs);

}  // namespace outpost::emit
