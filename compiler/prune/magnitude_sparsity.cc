#include "compiler/prune/magnitude_sparsity.h"

#include <algorithm>
#include <cmath>

#include "compiler/prune/reconstruction.h"
#include "runtime/tensor.h"

namespace outpost::prune {
namespace {

using opm::DType;
using opm::OpCode;

// Zeroes the `count` smallest magnitudes of `w`; ties at the threshold are broken by position,
// so exactly `count` weights become zero (already-zero weights count among them).
double ZeroSmallest(std::span<float> w, int64_t count) {
  if (count <= 0) return 0;
  std::vector<int64_t> order(w.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::nth_element(order.begin(), order.begin() + (count - 1), order.end(),
                   [&](int64_t a, int64_t b) {
                     const float ma = std::fabs(w[a]), mb = std::fabs(w[b]);
                     return ma < mb || (ma == mb && a < b);
                   });
  const double threshold = std::fabs(w[order[count - 1]]);
  for (int64_t k = 0; k < count; ++k) w[order[k]] = 0.0f;
  return threshold;
}

}  // namespace

Expected<SparsityReport> ApplyMagnitudeSparsity(ir::Graph& g, const SparsityOptions& options) {
  return Capture([&]() -> SparsityReport {
    if (!(options.sparsity >= 0.0 && options.sparsity < 1.0))
      throw Error("sparsity must be in [0, 1), got " + std::to_string(options.sparsity));
    for (const std::string& name : options.exclude) {
      const bool found = std::any_of(g.nodes.begin(), g.nodes.end(),
                                     [&](const ir::Node& n) { return n.name == name; });
      if (!found) throw Error("--exclude: no node named '" + name + "'");
    }
    SparsityReport r;
    r.sparsity = options.sparsity;
    for (ir::Node& n : g.nodes) {
      if (n.op != OpCode::CONV_2D && n.op != OpCode::FULLY_CONNECTED) continue;
      if (n.inputs.size() < 2 || n.inputs[1] < 0) continue;
      ir::Tensor& wt = g.tensors[n.inputs[1]];
      if (!wt.constant) continue;
      if (wt.dtype != DType::FLOAT32)
        throw Error("magnitude sparsity works on a float model; layer '" + n.name + "' is " +
                    outpost::DTypeName(wt.dtype) + " (make the float model sparse, then quantize it)");
      const auto* conv = n.op == OpCode::CONV_2D ? n.options.AsConv2DOptions() : nullptr;
      if (conv != nullptr && conv->groups > 1 && !options.depthwise) {
        r.skipped.push_back(n.name + " (grouped or depthwise convolution)");
        continue;
      }
      if (options.exclude.count(n.name)) {
        r.skipped.push_back(n.name + " (--exclude)");
        continue;
      }
      std::span<float> w = wt.mutable_values<float>();
      const int64_t total = static_cast<int64_t>(w.size());
      if (total < options.min_weights) {
        r.skipped.push_back(n.name + " (" + std::to_string(total) + " weights, fewer than " +
                            std::to_string(options.min_weights) + ")");
        continue;
      }
      SparseLayer layer;
      layer.node = n.name;
      layer.weights = total;
      layer.zeros_before = std::count(w.begin(), w.end(), 0.0f);
      float largest = 0;
      for (float v : w) largest = std::max(largest, std::fabs(v));
      const auto count = static_cast<int64_t>(std::llround(options.sparsity * double(total)));
      const double threshold = ZeroSmallest(w, count);
      layer.threshold = largest > 0 ? threshold / largest : 0;
      layer.zeros_after = std::count(w.begin(), w.end(), 0.0f);
      r.weights += layer.weights;
      r.zeros += layer.zeros_after;
      r.layers.push_back(std::move(layer));
    }
    if (r.layers.empty())
      throw Error("no convolution or fully connected layer has " +
                  std::to_string(options.min_weights) + " weights or more to make sparse");
    return r;
  });
}

Expected<Unit> RefitSparseLayers(const ir::Graph& dense, ir::Graph& sparse,
                                 SparsityReport* report, const quant::Dataset& data,
                                 const ReconstructionOptions& options,
                                 const PruneProgressFn& progress) {
  return Capture([&]() -> Unit {
    std::vector<RefitLayer> layers;
    for (const SparseLayer& l : report->layers) {
      int node = -1;
      for (size_t i = 0; i < sparse.nodes.size(); ++i)
        if (sparse.nodes[i].name == l.node) node = static_cast<int>(i);
      if (node < 0 || node >= static_cast<int>(dense.nodes.size()) ||
          dense.nodes[node].name != l.node)
        throw Error("sparse refit: layer '" + l.node + "' is not in both graphs");
      RefitLayer r;
      r.node = node;
      const ir::Tensor& w = sparse.tensors[sparse.nodes[node].inputs[1]];
      for (int64_t o = 0; o < w.shape[0]; ++o) r.kept_outputs.push_back(o);
      for (float v : w.values<float>()) r.mask.push_back(v != 0.0f ? 1 : 0);
      layers.push_back(std::move(r));
    }
    // Execution order: a layer is fitted on what the refitted layers before it produce.
    std::sort(layers.begin(), layers.end(),
              [](const RefitLayer& a, const RefitLayer& b) { return a.node < b.node; });
    report->fits = RefitLayers(dense, sparse, layers, data, options, progress).value();
    report->calibration_samples = static_cast<int64_t>(data.samples.size());
    return Unit{};
  });
}

}  // namespace outpost::prune
