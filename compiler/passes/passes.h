// Graph passes. Each takes the graph, rewrites it in place and returns how many rewrites it
// made (0 means the graph is unchanged), so a driver can iterate to a fixed point and report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::passes {

// Evaluates every node whose inputs are all constant (with the runtime's own reference
// kernels) and replaces its outputs by constants. Nodes that produce a graph output are kept,
// since a graph output must be computed into the arena. DEQUANTIZE nodes are kept too: a
// DEQUANTIZE of a constant stores weights compactly (weight-only quantization) and the
// QDQ-folding pass reads the integers through it.
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

struct QdqOptions {
  // Whether the runtime has a kernel for (op, dtype of its first input); a rewrite to an
  // integer op happens only then. Empty: the reference and optimized kernels of this build.
  std::function<bool(opm::OpCode, opm::DType)> has_kernel;
};

// QDQ folding (qdq_folding.cc): turns DEQUANTIZE -> float op -> QUANTIZE patterns of
// quantization-aware models into integer ops with the model's own parameters, collapses
// DEQUANTIZE -> QUANTIZE pairs and moves DEQUANTIZE past data movement. FLOAT32 constants
// whose `quant` is set are dequantized constants: `quant` records the parameters they were
// dequantized with (the importer's DequantizeLinear of a constant), and their values are
// exactly scale * (q - zero_point) for integers q. Notes about the model (a bias whose scale
// is not input scale x weight scale, ...) are appended to `warnings`, which may be null.
int FoldQdq(ir::Graph& graph, const QdqOptions& options = {},
            std::vector<std::string>* warnings = nullptr);

// After the passes: merges QUANTIZE float -> INT8 -> UINT8 chains into one QUANTIZE, lets a
// DEQUANTIZE of a UINT8 tensor's INT8 view read the UINT8 tensor, drops the records of
// dequantized constants and checks every quantized tensor's parameters (positive
// finite scales, zero points in range, one per index of a per-axis axis), throwing Error that
// names the tensor. Returns the number of rewrites. Run EliminateDeadNodes after it.
int FinishQuantization(ir::Graph& graph);

struct PassStats {
  int folded = 0;
  int batchnorm_folded = 0;
  int activations_fused = 0;
  int dead_removed = 0;
  int qdq_folded = 0;
  std::vector<std::string> warnings;  // from QDQ folding: the model works, but look at this
};

struct OptimizeOptions {
  QdqOptions qdq;
};

// The standard pipeline, iterated to a fixed point, then FinishQuantization.
PassStats Optimize(ir::Graph& graph, const OptimizeOptions& options = {});

}  // namespace outpost::passes
