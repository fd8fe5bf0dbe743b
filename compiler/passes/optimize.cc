#include "compiler/passes/passes.h"

namespace outpost::passes {

PassStats Optimize(ir::Graph& graph, const OptimizeOptions& options) {
  PassStats stats;
  // Each pass can enable another (folding exposes BN patterns, BN folding exposes fusions), so
  // iterate to a fixed point; the graph shrinks on every productive round. QDQ folding comes
  // last in a round: it sees BatchNormalization already folded into the weights and RELU / CLIP
  // already fused, so that DEQUANTIZE -> conv -> QUANTIZE is one pattern; constant folding
  // leaves DEQUANTIZE alone, so quantized weights stay integers.
  for (;;) {
    const int dead = EliminateDeadNodes(graph);
    const int folded = FoldConstants(graph);
    const int bn = FoldBatchNorm(graph);
    const int fused = FuseActivations(graph);
    const int qdq = FoldQdq(graph, options.qdq, &stats.warnings);
    stats.dead_removed += dead;
    stats.folded += folded;
    stats.batchnorm_folded += bn;
    stats.activations_fused += fused;
    stats.qdq_folded += qdq;
    if (dead + folded + bn + fused + qdq == 0) break;
  }
  stats.qdq_folded += FinishQuantization(graph);
  stats.dead_removed += EliminateDeadNodes(graph);  // QUANTIZE views FinishQuantization bypassed
  graph.Validate();
  return stats;
}

}  // namespace outpost::passes
