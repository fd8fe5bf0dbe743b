// Least-squares refit of pruned layers (internal to the pruner).
#pragma once

#include <cstdint>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/prune/pruner.h"

namespace outpost::prune {

struct RefitLayer {
  int node = -1;                       // same index in both graphs
  std::vector<int64_t> kept_outputs;   // original output channels that the pruned layer keeps
  // Which weights of the pruned layer are free, [kept outputs, width] row-major, 1 = free; the
  // others stay exactly zero (magnitude sparsity). Empty: every weight is free.
  std::vector<uint8_t> mask;
};

// For each layer, in execution order: runs the pruned graph as refitted so far over the
// calibration data, and solves the ridge-regularized least-squares problem
//
//   min_W,b || [X_pruned 1] [W b]^T - Y ||^2 + lambda ||W||^2,  Y = X_original W_original^T + b
//
// where the rows are sampled input patches (convolution) or inputs (fully connected) and Y is
// the original layer's output before its activation, on the original graph's inputs. The
// pruned layer's weights and bias (added when absent) are replaced. Errors: data the graphs
// cannot run, a system that cannot be solved even with a larger ridge.
Expected<std::vector<LayerFit>> RefitLayers(const ir::Graph& original, ir::Graph& pruned,
                                            const std::vector<RefitLayer>& layers,
                                            const quant::Dataset& data,
                                            const ReconstructionOptions& options,
                                            const PruneProgressFn& progress);

// Solves, for each output o (column of x), the masked ridge problem
//   min over x_S of  x_S^T (A_SS + ridge I) x_S - 2 x_S^T B_S,o
// where S is the weights `mask` frees for o plus the bias (the last unknown), by
// Jacobi-preconditioned conjugate gradients started from x (n x m, row-major, zero outside S).
// The ridge applies to the first n - 1 unknowns only.
void SolveMaskedRidge(const std::vector<double>& a, int64_t n, const std::vector<double>& b,
                      int64_t m, double ridge, const std::vector<uint8_t>& mask,
                      std::vector<double>& x, int max_iterations = 300);

// Solves (A + ridge*I) X = B in place for symmetric positive semi-definite A (n x n, row-major)
// and m right-hand sides B (n x m, row-major), ridge applied to the first `ridge_count`
// diagonal entries. Returns false when the factorization fails.
bool SolveRidge(std::vector<double> a, int64_t n, std::vector<double>& b, int64_t m, double ridge,
                int64_t ridge_count);

}  // namespace outpost::prune
