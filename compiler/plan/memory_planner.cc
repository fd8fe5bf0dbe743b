#include "compiler/plan/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace outpost::plan {
namespace {

using ir::Graph;
using ir::Node;
using opm::OpCode;

uint64_t AlignUp(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// Union-find over tensor indices: tensors in one set share storage.
struct Groups {
  std::vector<int> parent;
  explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int Find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void Join(int a, int b) { parent[Find(b)] = Find(a); }
};

}  // namespace

bool SupportsInPlace(const Node& node, const Graph& graph) {
  if (node.inputs.empty() || node.inputs[0] < 0 || node.outputs.size() != 1) return false;
  const ir::Tensor& in = graph.tensors[node.inputs[0]];
  const ir::Tensor& out = graph.tensors[node.outputs[0]];
  if (in.dtype != out.dtype || in.shape != out.shape) return false;
  switch (node.op) {
    // Each output element depends only on the same input element (and, for binary ops, on a
    // broadcast operand), and kernels read element k before writing it.
    case OpCode::RELU:
    case OpCode::LEAKY_RELU:
    case OpCode::CLIP:
    case OpCode::SIGMOID:
    case OpCode::TANH:
    case OpCode::HARD_SIGMOID:
    case OpCode::HARD_SWISH:
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL:
    case OpCode::DIV:
    case OpCode::PRELU: return true;
    default: return false;
  }
}

PlanResult PlanMemory(Graph& graph, const PlanOptions& options) {
  const int n = static_cast<int>(graph.nodes.size());
  const int nt = static_cast<int>(graph.tensors.size());
  if (options.alignment == 0 || (options.alignment & (options.alignment - 1)) != 0)
    throw Error("plan: alignment must be a power of two");

  // Lifetimes in node steps: written at `def` (-1 for graph inputs), last read at `last`
  // (n for graph outputs, which must survive the whole invocation).
  std::vector<int> def(nt, -1), last(nt, -1);
  std::vector<bool> activation(nt, false);
  for (int i = 0; i < nt; ++i) activation[i] = !graph.tensors[i].constant;
  for (int s = 0; s < n; ++s) {
    for (int o : graph.nodes[s].outputs) def[o] = last[o] = s;
    for (int i : graph.nodes[s].inputs)
      if (i >= 0) last[i] = std::max(last[i], s);
  }
  for (int i : graph.inputs) last[i] = std::max(last[i], def[i]);
  for (int o : graph.outputs) last[o] = n;

  Groups groups(nt);
  auto group_last = [&](int root) {
    int l = -1;
    for (int t = 0; t < nt; ++t)
      if (activation[t] && groups.Find(t) == root) l = std::max(l, last[t]);
    return l;
  };
  auto group_has_input = [&](int root) {
    for (int t : graph.inputs)
      if (groups.Find(t) == root) return true;
    return false;
  };

  for (int s = 0; s < n; ++s) {
    const Node& node = graph.nodes[s];
    if (node.inputs.empty() || node.inputs[0] < 0 || !activation[node.inputs[0]]) continue;
    const int in = node.inputs[0];
    const int out = node.outputs[0];
    if (options.alias_reshape && node.op == OpCode::RESHAPE &&
        graph.tensors[in].bytes() == graph.tensors[out].bytes()) {
      groups.Join(in, out);
      continue;
    }
    if (!options.in_place || !SupportsInPlace(node, graph)) continue;
    const int root = groups.Find(in);
    if (group_last(root) > s || group_has_input(root)) continue;
    // Another operand sharing the storage under a different shape would be read after it is
    // overwritten.
    bool conflict = false;
    for (size_t k = 1; k < node.inputs.size(); ++k) {
      const int other = node.inputs[k];
      if (other >= 0 && other != in && activation[other] && groups.Find(other) == root)
        conflict = true;
    }
    if (!conflict) groups.Join(in, out);
  }

  PlanResult result;
  std::vector<int> buffer_of(nt, -1);
  for (int t = 0; t < nt; ++t) {
    if (!activation[t]) continue;
    const int root = groups.Find(t);
    if (buffer_of[root] < 0) {
      buffer_of[root] = static_cast<int>(result.buffers.size());
      BufferInfo b;
      b.first_step = def[t];
      b.last_step = last[t];
      result.buffers.push_back(b);
    }
    BufferInfo& b = result.buffers[buffer_of[root]];
    b.tensors.push_back(t);
    b.bytes = std::max<uint64_t>(b.bytes, graph.tensors[t].bytes());
    b.first_step = std::min(b.first_step, def[t]);
    b.last_step = std::max(b.last_step, last[t]);
    buffer_of[t] = buffer_of[root];
  }

  // Lower bound: no plan can use less than the bytes simultaneously live at the busiest step.
  for (int s = -1; s <= n; ++s) {
    uint64_t live = 0;
    for (const BufferInfo& b : result.buffers)
      if (b.first_step <= s && s <= b.last_step) live += b.bytes;
    result.lower_bound_bytes = std::max(result.lower_bound_bytes, live);
  }

  // Greedy by size: largest first, each at the lowest aligned offset free for its lifetime.
  std::vector<int> order(result.buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const BufferInfo &x = result.buffers[a], &y = result.buffers[b];
    if (x.bytes != y.bytes) return x.bytes > y.bytes;
    return x.first_step < y.first_step;
  });
  std::vector<int> placed;
  for (int idx : order) {
    BufferInfo& b = result.buffers[idx];
    std::vector<const BufferInfo*> overlapping;
    for (int p : placed) {
      const BufferInfo& o = result.buffers[p];
      if (o.first_step <= b.last_step && b.first_step <= o.last_step) overlapping.push_back(&o);
    }
    std::sort(overlapping.begin(), overlapping.end(),
              [](const BufferInfo* x, const BufferInfo* y) { return x->offset < y->offset; });
    uint64_t offset = 0;
    for (const BufferInfo* o : overlapping) {
      if (o->offset >= offset + b.bytes) break;  // fits in the gap before `o`
      offset = std::max(offset, AlignUp(o->offset + o->bytes, options.alignment));
    }
    b.offset = offset;
    placed.push_back(idx);
    result.arena_bytes = std::max(result.arena_bytes, offset + b.bytes);
  }

  for (const BufferInfo& b : result.buffers)
    for (int t : b.tensors) graph.tensors[t].arena_offset = static_cast<int64_t>(b.offset);
  for (int t = 0; t < nt; ++t)
    if (!activation[t]) graph.tensors[t].arena_offset = -1;
  graph.plan = ir::MemoryPlan{result.arena_bytes, result.lower_bound_bytes, options.alignment};
  return result;
}

}  // namespace outpost::plan
