// Graph passes. Each takes the graph, rewrites it in place and returns how many rewrites it
// made (0 means the graph is unchanged), so a driver can iterate to a fixed point and report.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::passes {

// Evaluates every node whose inputs are all constant (with the runtime's own reference
// kernels) and replaces its outputs by constants. Nodes that produce a graph output are kept,
// since a graph output must be computed into the arena.
int FoldConstants(ir::Graph& graph);

// Runs node `node` of `graph` on its (constant) inputs with the runtime's reference kernels and
// returns its outputs as constant tensors. Throws Error if an input is not constant or the
// runtime refuses the node.
std::vector<ir::Tensor> EvaluateNode(const ir::Graph& graph, const ir::Node& node);

// Folds a per-output-channel affine transform that follows a convolution or fully connected
// layer into its weights and bias: y = (conv(x) * s) + t  ->  conv'(x). This is how
// BatchNormalization (imported as MUL by scale then ADD of shift) disappears.
int FoldBatchNorm(ir::Graph& graph);

// Fuses RELU, CLIP (and RELU6) and HARD_SWISH into the preceding CONV_2D, CONV_TRANSPOSE_2D,
// FULLY_CONNECTED or ADD/SUB/MUL/DIV when that node is the activation's only producer and
// the intermediate tensor has no other reader.
int FuseActivations(ir::Graph& graph);

// Removes nodes none of whose outputs reach a graph output, then unused tensors.
int EliminateDeadNodes(ir::Graph& graph);

struct PassStats {
  int folded = 0;
  int batchnorm_folded = 0;
  int activations_fused = 0;
  int dead_removed = 0;
};

// The standard pipeline, iterated to a fixed point.
PassStats Optimize(ir::Graph& graph);

}  // namespace outpost::passes
