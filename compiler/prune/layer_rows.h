// The calibration "rows" of a dense layer: for a convolution, its input patch (im2col) at a
// sampled output position; for a fully connected layer, its whole input. Pruning criteria and
// the least-squares refit both work on these rows, taken at the same positions in the original
// and in the pruned graph.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::prune {

class LayerRows {
 public:
  // `node` is a dense CONV_2D (groups 1) or FULLY_CONNECTED of `g`.
  LayerRows(const ir::Graph& g, int node);

  int64_t width() const { return width_; }  // values per row: C*kh*kw, or K
  int64_t positions() const { return positions_; }  // output positions per sample (1 for FC)
  bool is_conv() const { return conv_; }

  // The output positions used for sample `sample`: `per_sample` distinct positions, the same
  // for every graph with this layer's geometry (seeded by `seed` and the sample index).
  std::vector<int64_t> Pick(int64_t sample, int64_t per_sample, uint64_t seed) const;

  // Writes the row for output position `p` of input `x` (the layer's whole input tensor) to
  // `row` (width() values).
  void Row(const float* x, int64_t p, float* row) const;

 private:
  bool conv_ = false;
  int64_t width_ = 0;
  int64_t positions_ = 1;
  int64_t c_ = 0, h_ = 0, w_ = 0, ow_ = 1, kh_ = 1, kw_ = 1;
  int64_t sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1, pt_ = 0, pl_ = 0;
};

// Dense weights of layer `node` as [O, width] rows and its bias (zeros when absent).
struct DenseWeights {
  int64_t out = 0;
  int64_t width = 0;
  std::vector<float> w;
  std::vector<float> b;
};
DenseWeights ReadDense(const ir::Graph& g, int node);

}  // namespace outpost::prune
