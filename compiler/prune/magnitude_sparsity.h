// Unstructured magnitude sparsity (docs/compression.md): in every large enough convolution and
// fully connected layer, the given share of weights with the smallest magnitude is set to zero,
// the same share per layer (the uniform schedule TensorFlow Model Optimization uses). MACs do
// not change; what shrinks is the stored model: the writer keeps such weights as a bitmap plus
// their nonzero values (schema/opm.fbs, BufferEncoding), and int8 quantization keeps the zeros,
// since symmetric weight quantization maps 0 to 0. With calibration data the weights that stay
// are refitted by least squares (RefitSparseLayers), as the channel pruner refits its layers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/prune/pruner.h"

namespace outpost::prune {

struct SparsityOptions {
  double sparsity = 0.5;          // share of each layer's weights set to zero, in [0, 1)
  // Layers with fewer weights are left dense: the first convolution of a CNN is both small and
  // the most sensitive (TFMOT's guides leave it too), and a bitmap would not pay for itself.
  int64_t min_weights = 1024;
  bool depthwise = false;         // depthwise kernels (9 weights per channel) are left dense
  std::set<std::string> exclude;  // layers (node names) left dense
};

struct SparseLayer {
  std::string node;
  int64_t weights = 0;
  int64_t zeros_before = 0;
  int64_t zeros_after = 0;
  // Largest magnitude set to zero, relative to the layer's largest magnitude.
  double threshold = 0;
};

struct SparsityReport {
  double sparsity = 0;
  int64_t weights = 0;  // in the layers made sparse
  int64_t zeros = 0;    // zeros in those layers afterwards
  std::vector<SparseLayer> layers;
  std::vector<std::string> skipped;  // "name (why)"
  // With calibration data: each sparse layer's refit (RefitSparseLayers).
  std::vector<LayerFit> fits;
  int64_t calibration_samples = 0;
};

// Sets weights of `g` (a float graph) to zero in place. Errors: a quantized graph, a sparsity
// out of range, an --exclude naming no node, no layer large enough.
Expected<SparsityReport> ApplyMagnitudeSparsity(ir::Graph& g, const SparsityOptions& options);

// Refits the weights each sparse layer of `sparse` kept, and its bias, by least squares on the
// calibration data, the zeros staying zeros: in execution order, each layer's output on the
// inputs the refitted layers before it give is fitted to the output `dense` (the graph before
// ApplyMagnitudeSparsity) computes on its own inputs (He et al. 2017's refit, with each output
// restricted to its own nonzero weights). Fills report->fits.
Expected<Unit> RefitSparseLayers(const ir::Graph& dense, ir::Graph& sparse,
                                 SparsityReport* report, const quant::Dataset& data,
                                 const ReconstructionOptions& options,
                                 const PruneProgressFn& progress = {});

}  // namespace outpost::prune
