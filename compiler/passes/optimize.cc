#include "compiler/passes/passes.h"

namespace outpost::passes {

PassStats Optimize(ir::Graph& graph) {
  PassStats stats;
  // Each pass can enable another (folding exposes BN patterns, BN folding exposes fusions), so
  // iterate to a fixed point; the graph shrinks on every productive round.
  for (;;) {
    const int dead = EliminateDeadNodes(graph);
    const int folded = FoldConstants(graph);
    const int bn = FoldBatchNorm(graph);
    const int fused = FuseActivations(graph);
    stats.dead_removed += dead;
    stats.folded += folded;
    stats.batchnorm_folded += bn;
    stats.activations_fused += fused;
    if (dead + folded + bn + fused == 0) break;
  }
  graph.Validate();
  return stats;
}

}  // namespace outpost::passes
