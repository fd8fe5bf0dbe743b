// AnalyzeChannels(): one pass over the nodes in execution order, giving every activation's
// channel axis its segments; spaces that must change together are merged (union-find).
#include "compiler/prune/channel_groups.h"

#include <algorithm>
#include <numeric>

#include "compiler/quantize/graph_prep.h"

namespace outpost::prune {
namespace {

using opm::OpCode;

bool IsActivation(const ir::Graph& g, int t) { return t >= 0 && !g.tensors[t].constant; }
bool IsFloatConst(const ir::Graph& g, int t) {
  return t >= 0 && g.tensors[t].constant && g.tensors[t].dtype == opm::DType::FLOAT32;
}

// Ops that act on each channel separately and keep the channel axis where it is.
bool IsChannelwiseUnary(OpCode op) {
  switch (op) {
    case OpCode::RELU:
    case OpCode::LEAKY_RELU:
    case OpCode::CLIP:
    case OpCode::SIGMOID:
    case OpCode::TANH:
    case OpCode::HARD_SIGMOID:
    case OpCode::HARD_SWISH:
    case OpCode::MAX_POOL_2D:
    case OpCode::AVERAGE_POOL_2D:
    case OpCode::GLOBAL_AVERAGE_POOL:
    case OpCode::GLOBAL_MAX_POOL:
    case OpCode::RESIZE:
      return true;
    default:
      return false;
  }
}

bool IsBinary(OpCode op) {
  return op == OpCode::ADD || op == OpCode::SUB || op == OpCode::MUL || op == OpCode::DIV;
}

class Analyzer {
 public:
  explicit Analyzer(const ir::Graph& g) : g_(g) {
    a_.segments.resize(g.tensors.size());
    a_.depthwise.assign(g.nodes.size(), false);
  }

  ChannelAnalysis Run() {
    for (int t : g_.inputs) NewFrozen(t, "graph input '" + g_.tensors[t].name + "'");
    for (size_t n = 0; n < g_.nodes.size(); ++n) Visit(static_cast<int>(n));
    for (int t : g_.outputs) Freeze(t, "feeds graph output '" + g_.tensors[t].name + "'");
    Finish();
    return std::move(a_);
  }

 private:
  int Root(int s) {
    while (parent_[s] != s) s = parent_[s] = parent_[parent_[s]];
    return s;
  }

  int NewSpace(int64_t channels) {
    parent_.push_back(static_cast<int>(parent_.size()));
    a_.spaces.push_back({});
    a_.spaces.back().channels = channels;
    return static_cast<int>(parent_.size()) - 1;
  }

  void FreezeSpace(int s, const std::string& why) {
    ChannelSpace& sp = a_.spaces[Root(s)];
    if (!sp.frozen) sp.frozen_why = why;
    sp.frozen = true;
  }

  void Freeze(int t, const std::string& why) {
    if (t < 0) return;
    for (const Segment& seg : a_.segments[t]) FreezeSpace(seg.space, why);
  }

  // Gives tensor `t` (rank >= 2) one new frozen space.
  void NewFrozen(int t, const std::string& why) {
    const ir::Tensor& x = g_.tensors[t];
    if (x.shape.size() < 2) return;
    const int s = NewSpace(x.shape[1]);
    FreezeSpace(s, why);
    a_.segments[t] = {{s, x.shape[1], 1}};
  }

  void Merge(int s1, int s2) {
    s1 = Root(s1);
    s2 = Root(s2);
    if (s1 == s2) return;
    ChannelSpace& keep = a_.spaces[s1];
    ChannelSpace& gone = a_.spaces[s2];
    if (gone.frozen && !keep.frozen) keep.frozen_why = gone.frozen_why;
    keep.frozen = keep.frozen || gone.frozen;
    keep.producers.insert(keep.producers.end(), gone.producers.begin(), gone.producers.end());
    keep.consumers.insert(keep.consumers.end(), gone.consumers.begin(), gone.consumers.end());
    parent_[s2] = s1;
  }

  // Whether two segment lists describe the same layout (same channel counts and widths).
  static bool SameLayout(const std::vector<Segment>& x, const std::vector<Segment>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].channels != y[i].channels || x[i].inner != y[i].inner) return false;
    return true;
  }

  // The node is not understood: its inputs' channels stay, its outputs get frozen spaces.
  void Opaque(const ir::Node& n, const std::string& why) {
    for (int t : n.inputs)
      if (IsActivation(g_, t)) Freeze(t, why);
    for (int t : n.outputs) NewFrozen(t, why);
  }

  std::string Reaches(const ir::Node& n) {
    return std::string("reaches ") + opm::EnumNameOpCode(n.op) + " '" + n.name + "'";
  }

  // Input and output keep their spaces one to one.
  void PassThrough(const ir::Node& n) {
    a_.segments[n.outputs[0]] = a_.segments[n.inputs[0]];
  }

  // A constant operand of a channel-wise op: fine when it broadcasts over the channels (size 1
  // on the axis aligned with axis 1 of `out`) or matches the channels exactly (then it is
  // sliced with them).
  bool ConstantAligns(int c, int out) {
    const ir::Tensor& k = g_.tensors[c];
    const ir::Tensor& y = g_.tensors[out];
    const int axis = static_cast<int>(k.shape.size()) - (static_cast<int>(y.shape.size()) - 1);
    if (axis < 0) return true;  // the constant has no dimension on the channel axis
    return k.shape[axis] == 1 || k.shape[axis] == y.shape[1];
  }

  void Visit(int index) {
    const ir::Node& n = g_.nodes[index];
    // A constant first operand of an element-wise op (k * x): the activation is the second.
    if (IsBinary(n.op) && n.inputs.size() == 2 && n.outputs.size() == 1 &&
        IsFloatConst(g_, n.inputs[0]) && IsActivation(g_, n.inputs[1])) {
      const int out = n.outputs[0];
      if (!a_.segments[n.inputs[1]].empty() &&
          g_.tensors[n.inputs[1]].shape == g_.tensors[out].shape &&
          ConstantAligns(n.inputs[0], out)) {
        a_.segments[out] = a_.segments[n.inputs[1]];
      } else {
        Opaque(n, Reaches(n));
      }
      return;
    }
    // Single-output ops only below; anything with several outputs is opaque.
    if (n.outputs.size() != 1 || n.inputs.empty() || !IsActivation(g_, n.inputs[0])) {
      Opaque(n, Reaches(n));
      return;
    }
    const int in = n.inputs[0];
    const int out = n.outputs[0];
    const ir::Tensor& x = g_.tensors[in];
    const ir::Tensor& y = g_.tensors[out];
    const std::vector<Segment>& xs = a_.segments[in];
    const bool x_has_channels = !xs.empty();

    switch (n.op) {
      case OpCode::CONV_2D: {
        const auto* o = n.options.AsConv2DOptions();
        const int w = n.inputs.size() > 1 ? n.inputs[1] : -1;
        const int b = n.inputs.size() > 2 ? n.inputs[2] : -1;
        if (o == nullptr || !IsFloatConst(g_, w) || (b >= 0 && !IsFloatConst(g_, b)) ||
            x.shape.size() != 4 || y.shape.size() != 4 || !x_has_channels) {
          Opaque(n, Reaches(n));
          return;
        }
        const ir::Tensor& wt = g_.tensors[w];
        for (const Segment& s : xs)
          if (s.inner != 1) {
            Opaque(n, Reaches(n));
            return;
          }
        if (o->groups == 1) {
          const int s = NewSpace(y.shape[1]);
          a_.spaces[s].producers.push_back(index);
          a_.segments[out] = {{s, y.shape[1], 1}};
          for (const Segment& seg : xs) a_.spaces[Root(seg.space)].consumers.push_back(index);
          return;
        }
        if (o->groups == x.shape[1] && y.shape[1] == x.shape[1] && wt.shape.size() == 4 &&
            wt.shape[1] == 1) {
          a_.depthwise[index] = true;
          PassThrough(n);
          return;
        }
        Opaque(n, Reaches(n) + " (grouped convolution)");
        return;
      }
      case OpCode::FULLY_CONNECTED: {
        const int w = n.inputs.size() > 1 ? n.inputs[1] : -1;
        const int b = n.inputs.size() > 2 ? n.inputs[2] : -1;
        if (!IsFloatConst(g_, w) || (b >= 0 && !IsFloatConst(g_, b)) || x.shape.size() != 2 ||
            y.shape.size() != 2 || !x_has_channels) {
          Opaque(n, Reaches(n));
          return;
        }
        const int s = NewSpace(y.shape[1]);
        a_.spaces[s].producers.push_back(index);
        a_.segments[out] = {{s, y.shape[1], 1}};
        for (const Segment& seg : xs) a_.spaces[Root(seg.space)].consumers.push_back(index);
        return;
      }
      case OpCode::PRELU: {
        const int slope = n.inputs.size() > 1 ? n.inputs[1] : -1;
        if (!IsFloatConst(g_, slope) || !ConstantAligns(slope, out) || x.shape != y.shape) {
          Opaque(n, Reaches(n));
          return;
        }
        PassThrough(n);
        return;
      }
      case OpCode::PAD: {
        const auto* o = n.options.AsPadOptions();
        const bool channel_pad =
            o == nullptr || o->pads.size() != 2 * x.shape.size() || o->pads[1] != 0 ||
            o->pads[1 + x.shape.size()] != 0 || o->pads[0] != 0 || o->pads[x.shape.size()] != 0;
        if (channel_pad || n.inputs.size() > 1) {
          Opaque(n, Reaches(n) + " (pads the channel axis)");
          return;
        }
        PassThrough(n);
        return;
      }
      case OpCode::RESHAPE: {
        if (!x_has_channels || y.shape.size() < 2 || x.shape[0] != y.shape[0]) {
          Opaque(n, Reaches(n));
          return;
        }
        const int64_t x_rest = x.num_elements() / (x.shape[0] * x.shape[1]);
        if (y.shape.size() == 2 && y.shape[1] == x.shape[1] * x_rest) {
          // A flatten: each channel becomes x_rest consecutive columns.
          std::vector<Segment> segs = xs;
          for (Segment& s : segs) s.inner *= x_rest;
          a_.segments[out] = segs;
          return;
        }
        if (y.shape[1] == x.shape[1] &&
            y.num_elements() / (y.shape[0] * y.shape[1]) == x_rest) {
          bool spatial = true;  // [N, C*inner] -> [N, C, ...] only when each channel is whole
          for (const Segment& s : xs) spatial = spatial && (s.inner == 1 || s.inner == x_rest);
          if (spatial) {
            std::vector<Segment> segs = xs;
            for (Segment& s : segs) s.inner = 1;
            if (x.shape.size() == 2 && x_rest == 1) {
              a_.segments[out] = segs;
              return;
            }
            if (x.shape.size() >= 3 && y.shape.size() >= 3) {
              a_.segments[out] = xs;
              return;
            }
          }
        }
        Opaque(n, Reaches(n) + " (moves values across channels)");
        return;
      }
      case OpCode::CONCAT: {
        const auto* o = n.options.AsConcatOptions();
        const int rank = static_cast<int>(y.shape.size());
        const int axis = o == nullptr ? -1 : (o->axis < 0 ? o->axis + rank : o->axis);
        std::vector<Segment> segs;
        bool ok = o != nullptr && rank >= 2;
        for (int t : n.inputs) {
          if (!ok) break;
          if (!IsActivation(g_, t)) {
            NewFrozen(t, Reaches(n) + " (constant operand)");
          }
          const std::vector<Segment>& ts = a_.segments[t];
          if (ts.empty()) ok = false;
          if (axis == 1) {
            segs.insert(segs.end(), ts.begin(), ts.end());
          } else if (segs.empty()) {
            segs = ts;
          } else if (SameLayout(segs, ts)) {
            for (size_t i = 0; i < ts.size(); ++i) Merge(segs[i].space, ts[i].space);
          } else {
            ok = false;
          }
        }
        if (!ok || axis < 0) {
          Opaque(n, Reaches(n));
          return;
        }
        a_.segments[out] = segs;
        return;
      }
      default:
        break;
    }

    if (IsChannelwiseUnary(n.op)) {
      if (!x_has_channels || y.shape.size() != x.shape.size() || y.shape[1] != x.shape[1]) {
        Opaque(n, Reaches(n));
        return;
      }
      // RESIZE may carry constant scales/sizes (per axis, not per channel); others take one input.
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (IsActivation(g_, n.inputs[i])) {
          Opaque(n, Reaches(n));
          return;
        }
      PassThrough(n);
      return;
    }

    if (IsBinary(n.op) && n.inputs.size() == 2 && x_has_channels) {
      const int other = n.inputs[1];
      if (IsFloatConst(g_, other)) {
        if (x.shape == y.shape && ConstantAligns(other, out)) {
          PassThrough(n);
          return;
        }
      } else if (IsActivation(g_, other)) {
        const ir::Tensor& z = g_.tensors[other];
        const std::vector<Segment>& zs = a_.segments[other];
        if (x.shape == z.shape && x.shape == y.shape && SameLayout(xs, zs)) {
          for (size_t i = 0; i < xs.size(); ++i) Merge(xs[i].space, zs[i].space);
          PassThrough(n);
          return;
        }
      }
    }
    Opaque(n, Reaches(n));
  }

  // Rewrites segment spaces to their representatives and lists groups.
  void Finish() {
    for (auto& segs : a_.segments)
      for (Segment& s : segs) s.space = Root(s.space);
    std::vector<std::pair<int, int>> order;  // (first producer, space)
    for (size_t s = 0; s < a_.spaces.size(); ++s) {
      if (Root(static_cast<int>(s)) != static_cast<int>(s)) continue;
      ChannelSpace& sp = a_.spaces[s];
      if (sp.producers.empty()) continue;
      std::sort(sp.producers.begin(), sp.producers.end());
      std::sort(sp.consumers.begin(), sp.consumers.end());
      sp.consumers.erase(std::unique(sp.consumers.begin(), sp.consumers.end()),
                         sp.consumers.end());
      order.emplace_back(sp.producers.front(), static_cast<int>(s));
    }
    std::sort(order.begin(), order.end());
    for (const auto& [first, s] : order)
      (a_.spaces[s].frozen ? a_.frozen : a_.groups).push_back(s);
  }

  const ir::Graph& g_;
  ChannelAnalysis a_;
  std::vector<int> parent_;
};

}  // namespace

Expected<ChannelAnalysis> AnalyzeChannels(const ir::Graph& float_graph) {
  return Capture([&]() -> ChannelAnalysis {
    try {
      quant::CheckIsFloatGraph(float_graph);
    } catch (const Error& e) {
      // The quantizer's advice ("quantize the float model") is the wrong way round here.
      std::string m = e.what();
      m = m.substr(0, m.rfind(": ")) + ": prune the float model, then quantize the result";
      throw Error(m);
    }
    return Analyzer(float_graph).Run();
  });
}

std::vector<int64_t> KeptPositions(const ChannelAnalysis& a, const KeepMap& keep, int t,
                                   int64_t axis_size) {
  std::vector<int64_t> pos;
  const std::vector<Segment>& segs = a.segments[t];
  if (segs.empty()) {
    pos.resize(static_cast<size_t>(axis_size));
    std::iota(pos.begin(), pos.end(), 0);
    return pos;
  }
  int64_t base = 0;
  for (const Segment& s : segs) {
    const std::vector<int64_t>* kept =
        static_cast<size_t>(s.space) < keep.size() && !keep[s.space].empty() ? &keep[s.space]
                                                                                : nullptr;
    const int64_t count = kept ? static_cast<int64_t>(kept->size()) : s.channels;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t c = kept ? (*kept)[i] : i;
      for (int64_t j = 0; j < s.inner; ++j) pos.push_back(base + c * s.inner + j);
    }
    base += s.channels * s.inner;
  }
  return pos;
}

std::string SpaceName(const ir::Graph& g, const ChannelAnalysis& a, int space) {
  const ChannelSpace& s = a.spaces[space];
  if (s.producers.empty()) return "(space " + std::to_string(space) + ")";
  return g.nodes[s.producers.front()].name;
}

}  // namespace outpost::prune
