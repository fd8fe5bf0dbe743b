// Cross-layer equalization: pair discovery, then sweeps of per-channel rescaling until the
// scales settle. The arithmetic is done in double and written back as float, so the equalized
// graph differs from the original only by float rounding of the rescaled weights.
#include "compiler/quantize/cross_layer_equalization.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace outpost::quant {
namespace {

using opm::OpCode;

bool IsFloatConstant(const ir::Graph& g, int t) {
  return t >= 0 && g.tensors[t].constant && g.tensors[t].dtype == opm::DType::FLOAT32;
}

// A CONV_2D or FULLY_CONNECTED node with float weights (and bias) that equalization may rescale.
bool IsLayer(const ir::Graph& g, const ir::Node& n) {
  if (n.op != OpCode::CONV_2D && n.op != OpCode::FULLY_CONNECTED) return false;
  if (n.inputs.size() < 2 || n.outputs.size() != 1 || !IsFloatConstant(g, n.inputs[1]))
    return false;
  if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !IsFloatConstant(g, n.inputs[2])) return false;
  if (n.op == OpCode::CONV_2D && n.options.AsConv2DOptions() == nullptr) return false;
  if (n.op == OpCode::FULLY_CONNECTED && n.options.AsFullyConnectedOptions() == nullptr)
    return false;
  return g.tensors[n.outputs[0]].dtype == opm::DType::FLOAT32 && n.inputs[0] >= 0 &&
         !g.tensors[n.inputs[0]].constant;
}

// The fused activation of a layer (CONV_2D or FULLY_CONNECTED, options checked by IsLayer).
struct Fused {
  opm::Activation kind;
  float lo, hi;
};
Fused FusedOf(const ir::Node& n) {
  if (const auto* c = n.options.AsConv2DOptions()) return {c->activation, c->act_min, c->act_max};
  const auto* f = n.options.AsFullyConnectedOptions();
  return {f->activation, f->act_min, f->act_max};
}
void SetFusedRelu(ir::Node& n) {
  if (auto* c = n.options.AsConv2DOptions())
    c->activation = opm::Activation::RELU;
  else
    n.options.AsFullyConnectedOptions()->activation = opm::Activation::RELU;
}

// A clip that is ReLU followed by an upper bound (ReLU6 and its relatives).
bool IsReluWithUpperBound(float lo, float hi) { return lo == 0.0f && hi > 0.0f; }

// Ops that may sit between two layers: each acts on every channel separately (given the checks
// in FindPair) and commutes with a positive per-channel scale.
bool IsChannelwise(OpCode op) {
  switch (op) {
    case OpCode::RELU:
    case OpCode::LEAKY_RELU:
    case OpCode::PRELU:
    case OpCode::CLIP:
    case OpCode::MAX_POOL_2D:
    case OpCode::AVERAGE_POOL_2D:
    case OpCode::GLOBAL_AVERAGE_POOL:
    case OpCode::GLOBAL_MAX_POOL:
    case OpCode::PAD:
    case OpCode::RESHAPE:
      return true;
    default:
      return false;
  }
}

struct Pair {
  int first = -1;
  int second = -1;
  // Columns of the second layer's weights per channel of the first layer's output: 1, or H*W
  // when a flatten sits between a conv and a fully connected layer.
  int64_t inner = 1;
  bool convert_fused = false;      // the first layer's fused CLIP(0, b) becomes RELU
  std::vector<int> convert_clips;  // standalone CLIP(0, b) nodes that become RELU
};

// Follows the output of layer `first` to the next layer; on failure sets `why`.
std::optional<Pair> FindPair(const ir::Graph& g, int first, bool relu6_to_relu, std::string& why) {
  const ir::Node& layer = g.nodes[first];
  Pair p;
  p.first = first;
  const Fused f = FusedOf(layer);
  switch (f.kind) {
    case opm::Activation::NONE:
    case opm::Activation::RELU:
      break;
    case opm::Activation::CLIP:
      if (!IsReluWithUpperBound(f.lo, f.hi)) {
        why = "fused CLIP is not ReLU-like";
        return std::nullopt;
      }
      if (!std::isinf(f.hi)) {
        if (!relu6_to_relu) {
          why = "fused ReLU6-like CLIP (not scale-invariant; see relu6_to_relu)";
          return std::nullopt;
        }
        p.convert_fused = true;
      }
      break;
    default:
      why = "fused activation is not positively homogeneous";
      return std::nullopt;
  }
  int t = layer.outputs[0];
  const int64_t channels = g.tensors[t].shape.size() >= 2 ? g.tensors[t].shape[1] : 0;
  if (channels < 1) {
    why = "output has no channel axis";
    return std::nullopt;
  }
  bool flattened = false;
  for (;;) {
    if (g.IsGraphOutput(t)) {
      why = "output '" + g.tensors[t].name + "' is a graph output";
      return std::nullopt;
    }
    const std::vector<int> readers = g.Consumers(t);
    if (readers.size() != 1) {
      why = "'" + g.tensors[t].name + "' has " + std::to_string(readers.size()) + " readers";
      return std::nullopt;
    }
    const int c = readers[0];
    const ir::Node& n = g.nodes[c];
    if (!IsLayer(g, n) && !IsChannelwise(n.op)) {
      why = "reaches " + std::string(opm::EnumNameOpCode(n.op)) + " '" + n.name + "'";
      return std::nullopt;
    }
    if (n.inputs.empty() || n.inputs[0] != t ||
        std::count(n.inputs.begin(), n.inputs.end(), t) != 1) {
      why = "'" + n.name + "' reads it other than as its data input";
      return std::nullopt;
    }
    if (IsLayer(g, n)) {
      if (n.op == OpCode::CONV_2D) {
        if (flattened) {
          why = "a flatten precedes conv '" + n.name + "'";
          return std::nullopt;
        }
        const ir::Tensor& w = g.tensors[n.inputs[1]];
        const int groups = n.options.AsConv2DOptions()->groups;
        if (w.shape.size() != 4 || groups < 1 || channels % groups != 0 ||
            w.shape[1] * groups != channels || w.shape[0] % groups != 0) {
          why = "conv '" + n.name + "' has unexpected weight shape";
          return std::nullopt;
        }
      } else {
        const ir::Tensor& w = g.tensors[n.inputs[1]];
        if (w.shape.size() != 2 || w.shape[1] % channels != 0) {
          why = "fully connected '" + n.name + "' does not take the channels in blocks";
          return std::nullopt;
        }
        p.inner = w.shape[1] / channels;
        if (p.inner != 1 && !flattened) {
          why = "fully connected '" + n.name + "' input width does not match the channels";
          return std::nullopt;
        }
      }
      p.second = c;
      return p;
    }
    if (n.outputs.size() != 1) {
      why = "'" + n.name + "' has several outputs";
      return std::nullopt;
    }
    const ir::Tensor& out = g.tensors[n.outputs[0]];
    if (out.dtype != opm::DType::FLOAT32) {
      why = "'" + out.name + "' is not float";
      return std::nullopt;
    }
    bool per_channel = !flattened && out.shape.size() >= 2 && out.shape[1] == channels;
    switch (n.op) {
      case OpCode::RELU:
      case OpCode::LEAKY_RELU:
      case OpCode::MAX_POOL_2D:
      case OpCode::AVERAGE_POOL_2D:
      case OpCode::GLOBAL_AVERAGE_POOL:
      case OpCode::GLOBAL_MAX_POOL:
        break;
      case OpCode::PRELU: {
        // The slope must be a per-channel (or single) constant: PReLU then commutes with s > 0.
        const int slope = n.inputs.size() > 1 ? n.inputs[1] : -1;
        if (!IsFloatConstant(g, slope)) per_channel = false;
        break;
      }
      case OpCode::PAD: {
        const auto* o = n.options.AsPadOptions();
        if (o == nullptr || (o->mode == opm::PadMode::CONSTANT && o->value != 0.0f) ||
            n.inputs.size() != 1)
          per_channel = false;
        // Padding (or cropping) the channel axis would move channels.
        if (o != nullptr && o->pads.size() >= 4 &&
            (o->pads[1] != 0 || o->pads[1 + o->pads.size() / 2] != 0))
          per_channel = false;
        break;
      }
      case OpCode::CLIP: {
        const auto* o = n.options.AsClipOptions();
        if (o == nullptr || !IsReluWithUpperBound(o->min, o->max)) {
          why = "'" + n.name + "' clips below 0";
          return std::nullopt;
        }
        if (!std::isinf(o->max)) {
          if (!relu6_to_relu) {
            why = "ReLU6-like CLIP '" + n.name + "' (not scale-invariant; see relu6_to_relu)";
            return std::nullopt;
          }
          p.convert_clips.push_back(c);
        }
        break;
      }
      case OpCode::RESHAPE: {
        // Only a flatten [N, C, ...] -> [N, C * rest] keeps each channel's values together.
        const ir::Tensor& in = g.tensors[t];
        per_channel = !flattened && in.shape.size() >= 2 && out.shape.size() == 2 &&
                      out.shape[0] == in.shape[0] &&
                      out.shape[1] == in.num_elements() / in.shape[0];
        flattened = true;
        break;
      }
      default:
        why = "reaches " + std::string(opm::EnumNameOpCode(n.op)) + " '" + n.name + "'";
        return std::nullopt;
    }
    if (!per_channel) {
      why = "'" + n.name + "' mixes or moves channels";
      return std::nullopt;
    }
    t = n.outputs[0];
  }
}

// Gives `node` its own copy of constant input `slot` when another node also reads it, so
// rescaling cannot change a different layer.
void MakePrivate(ir::Graph& g, int node, int slot) {
  const int t = g.nodes[node].inputs[slot];
  if (t < 0) return;
  int users = 0;
  for (const ir::Node& n : g.nodes) users += std::count(n.inputs.begin(), n.inputs.end(), t);
  if (users <= 1 && !g.IsGraphOutput(t)) return;
  ir::Tensor copy = g.tensors[t];
  copy.name = g.UniqueName(copy.name + ".equalized");
  g.nodes[node].inputs[slot] = g.AddTensor(std::move(copy));
}

// Largest |w| per output channel (axis 0) of a layer's weights.
std::vector<double> OutputRanges(const ir::Tensor& w) {
  const auto v = w.values<float>();
  const int64_t out = w.shape[0], inner = w.num_elements() / out;
  std::vector<double> r(out, 0.0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < inner; ++k) r[o] = std::max(r[o], std::fabs(double(v[o * inner + k])));
  return r;
}

// Calls fn(index) for every weight of the second layer that multiplies input channel `ch`.
template <typename Fn>
void ForInputChannel(const ir::Graph& g, const Pair& p, int64_t ch, Fn&& fn) {
  const ir::Node& n = g.nodes[p.second];
  const ir::Tensor& w = g.tensors[n.inputs[1]];
  if (n.op == OpCode::FULLY_CONNECTED) {
    const int64_t out = w.shape[0], k = w.shape[1];
    for (int64_t o = 0; o < out; ++o)
      for (int64_t j = 0; j < p.inner; ++j) fn(o * k + ch * p.inner + j);
    return;
  }
  // Conv weights [O, C/groups, kH, kW]: input channel ch is local channel ch % (C/groups) of
  // group ch / (C/groups), read by that group's outputs only.
  const int groups = n.options.AsConv2DOptions()->groups;
  const int64_t out = w.shape[0], cg = w.shape[1], taps = w.shape[2] * w.shape[3];
  const int64_t og = out / groups, group = ch / cg, local = ch % cg;
  for (int64_t o = group * og; o < (group + 1) * og; ++o)
    for (int64_t k = 0; k < taps; ++k) fn((o * cg + local) * taps + k);
}

// One equalization step of a pair; returns the largest |s_i - 1| applied.
double EqualizePair(ir::Graph& g, const Pair& p) {
  ir::Node& first = g.nodes[p.first];
  ir::Tensor& w1 = g.tensors[first.inputs[1]];
  ir::Tensor& w2 = g.tensors[g.nodes[p.second].inputs[1]];
  const std::vector<double> r1 = OutputRanges(w1);
  const int64_t channels = w1.shape[0];
  auto v2 = w2.mutable_values<float>();
  std::vector<double> s(channels, 1.0);
  for (int64_t c = 0; c < channels; ++c) {
    double r2 = 0;
    ForInputChannel(g, p, c, [&](int64_t i) { r2 = std::max(r2, std::fabs(double(v2[i]))); });
    // A channel that one side ignores (range 0) keeps its scale: the formula would give 0 or inf.
    if (r1[c] > 0 && r2 > 0 && std::isfinite(r1[c]) && std::isfinite(r2))
      s[c] = std::sqrt(r1[c] / r2);
  }
  double change = 0;
  auto v1 = w1.mutable_values<float>();
  const int64_t inner = w1.num_elements() / channels;
  float* bias = first.inputs.size() > 2 && first.inputs[2] >= 0
                    ? g.tensors[first.inputs[2]].mutable_values<float>().data()
                    : nullptr;
  for (int64_t c = 0; c < channels; ++c) {
    if (s[c] == 1.0) continue;
    change = std::max(change, std::fabs(s[c] - 1.0));
    for (int64_t k = 0; k < inner; ++k)
      v1[c * inner + k] = static_cast<float>(double(v1[c * inner + k]) / s[c]);
    if (bias) bias[c] = static_cast<float>(double(bias[c]) / s[c]);
    ForInputChannel(g, p, c, [&](int64_t i) { v2[i] = static_cast<float>(double(v2[i]) * s[c]); });
  }
  return change;
}

}  // namespace

ir::Graph EqualizeCrossLayer(const ir::Graph& float_graph, EqualizationReport* report) {
  return EqualizeCrossLayer(float_graph, EqualizationOptions{}, report);
}

ir::Graph EqualizeCrossLayer(const ir::Graph& float_graph, const EqualizationOptions& options,
                             EqualizationReport* report) {
  ir::Graph g = float_graph;
  EqualizationReport local;
  EqualizationReport& r = report ? *report : local;
  r = {};

  std::vector<Pair> pairs;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (!IsLayer(g, g.nodes[n])) continue;
    std::string why;
    std::optional<Pair> p = FindPair(g, static_cast<int>(n), options.relu6_to_relu, why);
    if (!p) {
      if (why.find("graph output") == std::string::npos)
        r.skipped.emplace_back(g.nodes[n].name, why);
      continue;
    }
    pairs.push_back(*p);
  }
  if (pairs.empty()) return g;

  std::set<int> layers;
  for (const Pair& p : pairs) {
    layers.insert(p.first);
    layers.insert(p.second);
  }
  for (int n : layers) {
    MakePrivate(g, n, 1);
    if (g.nodes[n].inputs.size() > 2) MakePrivate(g, n, 2);
  }
  for (const Pair& p : pairs) {
    r.pairs.emplace_back(g.nodes[p.first].name, g.nodes[p.second].name);
    if (p.convert_fused) {
      SetFusedRelu(g.nodes[p.first]);
      r.relu6_replaced.push_back(g.nodes[p.first].name);
    }
    for (int c : p.convert_clips) {
      g.nodes[c].op = OpCode::RELU;
      g.nodes[c].options.Reset();
      r.relu6_replaced.push_back(g.nodes[c].name);
    }
  }

  for (int it = 0; it < options.max_iterations; ++it) {
    double change = 0;
    for (const Pair& p : pairs) change = std::max(change, EqualizePair(g, p));
    r.iterations = it + 1;
    if (change <= options.tolerance) break;
  }
  g.RemoveUnusedTensors();
  return g;
}

}  // namespace outpost::quant
