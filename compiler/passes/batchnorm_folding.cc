// BatchNorm folding. The importer lowers BatchNormalization to y = x * s + t with per-channel
// constants; when x comes straight from a convolution or fully connected layer, the affine
// transform folds into that layer: W'[o] = W[o] * s[o], b'[o] = b[o] * s[o] + t[o].
// Standalone per-channel MUL/ADD/SUB/DIV after such a layer fold the same way.
#include <optional>

#include "compiler/passes/passes.h"

namespace outpost::passes {
namespace {

using opm::OpCode;

bool IsLinearLayer(OpCode op) {
  return op == OpCode::CONV_2D || op == OpCode::CONV_TRANSPOSE_2D ||
         op == OpCode::FULLY_CONNECTED;
}

bool HasFusedActivation(ir::Node& n) {
  switch (n.op) {
    case OpCode::CONV_2D: return n.options.AsConv2DOptions()->activation != opm::Activation::NONE;
    case OpCode::CONV_TRANSPOSE_2D:
      return n.options.AsConvTranspose2DOptions()->activation != opm::Activation::NONE;
    case OpCode::FULLY_CONNECTED:
      return n.options.AsFullyConnectedOptions()->activation != opm::Activation::NONE;
    default: return true;
  }
}

bool HasFusedActivationOnBinary(ir::Node& n) {
  const auto* o = n.options.AsBinaryOptions();
  return o == nullptr || o->activation != opm::Activation::NONE;
}

// Per-channel values of constant `c` when it broadcasts against `y` ([N, C, ...]) along the
// channel axis only; a single value applies to every channel.
std::optional<std::vector<float>> PerChannel(const ir::Tensor& c, const ir::Tensor& y) {
  if (!c.constant || c.dtype != opm::DType::FLOAT32 || y.shape.size() < 2) return std::nullopt;
  if (c.shape.size() > y.shape.size()) return std::nullopt;
  const int64_t channels = y.shape[1];
  const size_t offset = y.shape.size() - c.shape.size();
  for (size_t i = 0; i < c.shape.size(); ++i) {
    const size_t axis = i + offset;
    if (c.shape[i] == 1) continue;
    if (axis != 1 || c.shape[i] != channels) return std::nullopt;
  }
  const auto v = c.values<float>();
  std::vector<float> out(channels);
  for (int64_t k = 0; k < channels; ++k) out[k] = v.size() == 1 ? v[0] : v[k];
  return out;
}

// The affine map a node applies to `x` (y = x * scale + shift), if it is one.
struct Affine {
  std::vector<float> scale, shift;
};

std::optional<Affine> AffineOf(ir::Graph& g, ir::Node& n, int x) {
  if (n.inputs.size() != 2 || HasFusedActivationOnBinary(n)) return std::nullopt;
  const bool x_first = n.inputs[0] == x;
  const int c = x_first ? n.inputs[1] : n.inputs[0];
  if (c < 0 || c == x) return std::nullopt;
  const ir::Tensor& y = g.tensors[n.outputs[0]];
  if (g.tensors[x].shape != y.shape) return std::nullopt;  // the constant must not widen x
  auto v = PerChannel(g.tensors[c], y);
  if (!v) return std::nullopt;
  const size_t ch = v->size();
  Affine a{std::vector<float>(ch, 1.0f), std::vector<float>(ch, 0.0f)};
  switch (n.op) {
    case OpCode::MUL: a.scale = *v; break;
    case OpCode::ADD: a.shift = *v; break;
    case OpCode::SUB:
      if (!x_first) return std::nullopt;
      for (size_t k = 0; k < ch; ++k) a.shift[k] = -(*v)[k];
      break;
    case OpCode::DIV:
      if (!x_first) return std::nullopt;
      for (size_t k = 0; k < ch; ++k) a.scale[k] = 1.0f / (*v)[k];
      break;
    default: return std::nullopt;
  }
  return a;
}

// Applies y = x * scale + shift to the layer's weights and bias (creating new constants).
void FoldInto(ir::Graph& g, ir::Node& layer, const Affine& a) {
  const ir::Tensor& w = g.tensors[layer.inputs[1]];
  std::vector<float> weights(w.values<float>().begin(), w.values<float>().end());
  const int64_t out_channels = static_cast<int64_t>(a.scale.size());
  if (layer.op == OpCode::CONV_TRANSPOSE_2D) {
    // Weights [C_in, M/groups, kH, kW]: output channel o = group * (M/groups) + m.
    const int groups = layer.options.AsConvTranspose2DOptions()->groups;
    const int64_t cin = w.shape[0], m_per_group = w.shape[1];
    const int64_t inner = w.num_elements() / (cin * m_per_group);
    const int64_t cin_per_group = cin / groups;
    for (int64_t c = 0; c < cin; ++c)
      for (int64_t m = 0; m < m_per_group; ++m) {
        const int64_t o = (c / cin_per_group) * m_per_group + m;
        for (int64_t k = 0; k < inner; ++k)
          weights[(c * m_per_group + m) * inner + k] *= a.scale[o];
      }
  } else {
    // Conv weights [M, C/groups, kH, kW] and FC weights [O, K]: output channel is axis 0.
    const int64_t inner = w.num_elements() / out_channels;
    for (int64_t o = 0; o < out_channels; ++o)
      for (int64_t k = 0; k < inner; ++k) weights[o * inner + k] *= a.scale[o];
  }
  std::vector<float> bias(out_channels, 0.0f);
  if (layer.inputs.size() > 2 && layer.inputs[2] >= 0) {
    const auto b = g.tensors[layer.inputs[2]].values<float>();
    bias.assign(b.begin(), b.end());
  }
  for (int64_t o = 0; o < out_channels; ++o) bias[o] = bias[o] * a.scale[o] + a.shift[o];
  const std::string base = layer.name.empty() ? "layer" : layer.name;
  const std::vector<int64_t> wshape = w.shape;
  layer.inputs[1] = g.AddConstant(g.UniqueName(base + ".weight_folded"), opm::DType::FLOAT32,
                                  wshape, weights);
  const int b = g.AddConstant(g.UniqueName(base + ".bias_folded"), opm::DType::FLOAT32,
                              {out_channels}, bias);
  if (layer.inputs.size() < 3) layer.inputs.resize(3, -1);
  layer.inputs[2] = b;
}

int OutputChannels(const ir::Graph& g, const ir::Node& layer) {
  return static_cast<int>(g.tensors[layer.outputs[0]].shape[1]);
}

}  // namespace

int FoldBatchNorm(ir::Graph& g) {
  int folded = 0;
  std::vector<bool> remove(g.nodes.size(), false);
  for (size_t p = 0; p < g.nodes.size(); ++p) {
    ir::Node& layer = g.nodes[p];
    if (remove[p] || !IsLinearLayer(layer.op) || HasFusedActivation(layer)) continue;
    if (layer.inputs.size() < 2 || layer.inputs[1] < 0 || !g.tensors[layer.inputs[1]].constant)
      continue;
    if (layer.inputs.size() > 2 && layer.inputs[2] >= 0 && !g.tensors[layer.inputs[2]].constant)
      continue;
    if (g.tensors[layer.inputs[1]].dtype != opm::DType::FLOAT32) continue;
    // Absorb a chain of per-channel affine nodes, each the sole reader of the previous output.
    for (;;) {
      const int y = layer.outputs[0];
      if (g.IsGraphOutput(y)) break;
      const std::vector<int> readers = g.Consumers(y);
      if (readers.size() != 1 || remove[readers[0]]) break;
      ir::Node& next = g.nodes[readers[0]];
      std::optional<Affine> a = AffineOf(g, next, y);
      if (!a || static_cast<int>(a->scale.size()) != OutputChannels(g, layer)) break;
      FoldInto(g, layer, *a);
      layer.outputs[0] = next.outputs[0];
      remove[readers[0]] = true;
      ++folded;
    }
  }
  if (folded) {
    g.RemoveNodes(remove);
    g.RemoveUnusedTensors();
  }
  return folded;
}

}  // namespace outpost::passes
