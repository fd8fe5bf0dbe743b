#include "compiler/prune/layer_rows.h"

#include <algorithm>
#include <numeric>

namespace outpost::prune {
namespace {

// splitmix64: a small, well-mixed generator, so that position picks do not depend on the
// standard library's distributions (which differ between implementations).
uint64_t Mix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

LayerRows::LayerRows(const ir::Graph& g, int node) {
  const ir::Node& n = g.nodes[node];
  const ir::Tensor& x = g.tensors[n.inputs[0]];
  const ir::Tensor& wt = g.tensors[n.inputs[1]];
  if (n.op != opm::OpCode::CONV_2D) {
    width_ = x.shape[1];
    return;
  }
  conv_ = true;
  const auto* o = n.options.AsConv2DOptions();
  const ir::Tensor& y = g.tensors[n.outputs[0]];
  c_ = x.shape[1];
  h_ = x.shape[2];
  w_ = x.shape[3];
  kh_ = wt.shape[2];
  kw_ = wt.shape[3];
  sh_ = o->stride_h;
  sw_ = o->stride_w;
  dh_ = o->dilation_h;
  dw_ = o->dilation_w;
  pt_ = o->pad_top;
  pl_ = o->pad_left;
  ow_ = y.shape[3];
  positions_ = y.shape[2] * y.shape[3];
  width_ = c_ * kh_ * kw_;
}

std::vector<int64_t> LayerRows::Pick(int64_t sample, int64_t per_sample, uint64_t seed) const {
  std::vector<int64_t> all(static_cast<size_t>(positions_));
  std::iota(all.begin(), all.end(), 0);
  if (per_sample >= positions_) return all;
  uint64_t state = seed * 0x2545F4914F6CDD1Dull + static_cast<uint64_t>(sample);
  // Partial Fisher-Yates: the first per_sample entries become a uniform random subset.
  for (int64_t i = 0; i < per_sample; ++i) {
    const int64_t j = i + static_cast<int64_t>(Mix(state) % static_cast<uint64_t>(positions_ - i));
    std::swap(all[i], all[j]);
  }
  all.resize(static_cast<size_t>(per_sample));
  return all;
}

void LayerRows::Row(const float* x, int64_t p, float* row) const {
  if (!conv_) {
    std::copy(x, x + width_, row);
    return;
  }
  const int64_t oy = p / ow_, ox = p % ow_;
  for (int64_t c = 0; c < c_; ++c) {
    const float* plane = x + c * h_ * w_;
    for (int64_t ky = 0; ky < kh_; ++ky) {
      const int64_t iy = oy * sh_ - pt_ + ky * dh_;
      for (int64_t kx = 0; kx < kw_; ++kx) {
        const int64_t ix = ox * sw_ - pl_ + kx * dw_;
        *row++ = (iy >= 0 && iy < h_ && ix >= 0 && ix < w_) ? plane[iy * w_ + ix] : 0.0f;
      }
    }
  }
}

DenseWeights ReadDense(const ir::Graph& g, int node) {
  const ir::Node& n = g.nodes[node];
  const ir::Tensor& wt = g.tensors[n.inputs[1]];
  DenseWeights d;
  d.out = wt.shape[0];
  d.width = wt.num_elements() / d.out;
  const auto w = wt.values<float>();
  d.w.assign(w.begin(), w.end());
  d.b.assign(static_cast<size_t>(d.out), 0.0f);
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    const auto b = g.tensors[n.inputs[2]].values<float>();
    std::copy(b.begin(), b.end(), d.b.begin());
  }
  return d;
}

}  // namespace outpost::prune
