// ApplyChannelPruning(): slices every constant that is indexed by a pruned channel and shrinks
// the activation shapes. Every position list is computed from the original graph first, so the
// order in which nodes are rewritten does not matter.
#include <cstring>

#include "compiler/prune/channel_groups.h"

namespace outpost::prune {
namespace {

using opm::OpCode;

// Copies the float tensor `k` keeping only positions `pos` (increasing) of axis `axis`.
void SliceAxis(ir::Tensor& k, int axis, const std::vector<int64_t>& pos) {
  const int64_t dim = k.shape[axis];
  if (static_cast<int64_t>(pos.size()) == dim) return;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= k.shape[i];
  for (size_t i = axis + 1; i < k.shape.size(); ++i) inner *= k.shape[i];
  const auto src = k.values<float>();
  std::vector<float> dst;
  dst.reserve(static_cast<size_t>(outer) * pos.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t p : pos) {
      const float* row = src.data() + (o * dim + p) * inner;
      dst.insert(dst.end(), row, row + inner);
    }
  k.shape[axis] = static_cast<int64_t>(pos.size());
  k.data.resize(dst.size() * sizeof(float));
  if (!dst.empty()) std::memcpy(k.data.data(), dst.data(), k.data.size());
}

class Slicer {
 public:
  Slicer(const ir::Graph& original, ir::Graph& g) : g_(g) {
    users_.assign(original.tensors.size(), 0);
    for (const ir::Node& n : original.nodes)
      for (int t : n.inputs)
        if (t >= 0) ++users_[t];
    for (int t : original.outputs) ++users_[t];
  }

  // The constant in `slot` of node `node`, private to that node (a copy when shared).
  ir::Tensor& Own(int node, int slot) {
    int& t = g_.nodes[node].inputs[slot];
    if (static_cast<size_t>(t) < users_.size() && users_[t] > 1) {
      ir::Tensor copy = g_.tensors[t];
      copy.name = g_.UniqueName(copy.name + ".pruned");
      t = g_.AddTensor(std::move(copy));
    }
    return g_.tensors[t];
  }

  void Slice(int node, int slot, int axis, const std::vector<int64_t>& pos) {
    const int t = g_.nodes[node].inputs[slot];
    if (t < 0 || static_cast<int64_t>(pos.size()) == g_.tensors[t].shape[axis]) return;
    SliceAxis(Own(node, slot), axis, pos);
  }

 private:
  ir::Graph& g_;
  std::vector<int> users_;
};

}  // namespace

Expected<ir::Graph> ApplyChannelPruning(const ir::Graph& original, const ChannelAnalysis& a,
                                        const KeepMap& keep) {
  return Capture([&]() -> ir::Graph {
    for (size_t s = 0; s < keep.size(); ++s) {
      if (keep[s].empty()) continue;
      const ChannelSpace& sp = a.spaces.at(s);
      if (sp.frozen || sp.producers.empty())
        throw Error("channels of '" + SpaceName(original, a, static_cast<int>(s)) +
                    "' cannot be pruned: " + (sp.frozen ? sp.frozen_why : "not a group"));
      for (size_t i = 0; i < keep[s].size(); ++i)
        if (keep[s][i] < 0 || keep[s][i] >= sp.channels || (i > 0 && keep[s][i] <= keep[s][i - 1]))
          throw Error("keep list of '" + SpaceName(original, a, static_cast<int>(s)) +
                      "' is not increasing within [0, " + std::to_string(sp.channels) + ")");
    }

    ir::Graph g = original;
    const size_t tensor_count = original.tensors.size();
    std::vector<std::vector<int64_t>> pos(tensor_count);
    std::vector<bool> changed(tensor_count, false);
    for (size_t t = 0; t < tensor_count; ++t) {
      const ir::Tensor& x = original.tensors[t];
      if (x.constant || x.shape.size() < 2) continue;
      pos[t] = KeptPositions(a, keep, static_cast<int>(t), x.shape[1]);
      changed[t] = static_cast<int64_t>(pos[t].size()) != x.shape[1];
    }

    Slicer slicer(original, g);
    for (size_t ni = 0; ni < original.nodes.size(); ++ni) {
      const ir::Node& n = original.nodes[ni];
      const int node = static_cast<int>(ni);
      if (n.outputs.size() != 1) continue;
      const int out = n.outputs[0];
      const int in = n.inputs.empty() ? -1 : n.inputs[0];
      const bool out_changed = changed[out];
      const bool in_changed = in >= 0 && changed[in];
      if (!out_changed && !in_changed) continue;
      const int slots = static_cast<int>(n.inputs.size());
      switch (n.op) {
        case OpCode::CONV_2D:
          if (a.depthwise[ni]) {
            slicer.Slice(node, 1, 0, pos[out]);
            if (slots > 2) slicer.Slice(node, 2, 0, pos[out]);
            g.nodes[ni].options.AsConv2DOptions()->groups = static_cast<int>(pos[out].size());
          } else {
            slicer.Slice(node, 1, 0, pos[out]);
            slicer.Slice(node, 1, 1, pos[in]);
            if (slots > 2) slicer.Slice(node, 2, 0, pos[out]);
          }
          break;
        case OpCode::FULLY_CONNECTED:
          slicer.Slice(node, 1, 0, pos[out]);
          slicer.Slice(node, 1, 1, pos[in]);
          if (slots > 2) slicer.Slice(node, 2, 0, pos[out]);
          break;
        case OpCode::RESHAPE:
          // The runtime reads the output's shape; a kept ONNX shape operand is updated so that
          // an exported model stays consistent.
          if (slots > 1 && n.inputs[1] >= 0 && original.tensors[n.inputs[1]].constant &&
              original.tensors[n.inputs[1]].dtype == opm::DType::INT64) {
            ir::Tensor& k = slicer.Own(node, 1);
            auto v = k.mutable_values<int64_t>();
            if (v.size() == original.tensors[out].shape.size() && v[1] > 0)
              v[1] = static_cast<int64_t>(pos[out].size());
          }
          break;
        default:
          // Per-channel constants of PRELU and element-wise ops: the axis aligned with axis 1.
          for (int slot = 0; slot < slots; ++slot) {
            const int k = n.inputs[slot];
            if (k < 0 || !original.tensors[k].constant) continue;
            const ir::Tensor& kt = original.tensors[k];
            const int rank_out = static_cast<int>(original.tensors[out].shape.size());
            const int axis = static_cast<int>(kt.shape.size()) - (rank_out - 1);
            if (axis < 0 || kt.shape[axis] != original.tensors[out].shape[1] ||
                kt.shape[axis] == 1 || kt.dtype != opm::DType::FLOAT32)
              continue;
            slicer.Slice(node, slot, axis, pos[out]);
          }
          break;
      }
    }
    for (size_t t = 0; t < tensor_count; ++t)
      if (changed[t]) g.tensors[t].shape[1] = static_cast<int64_t>(pos[t].size());
    g.plan.reset();
    g.self_test.reset();
    g.Validate();
    return g;
  });
}

}  // namespace outpost::prune
