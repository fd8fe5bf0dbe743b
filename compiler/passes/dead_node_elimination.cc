#include "compiler/passes/passes.h"

namespace outpost::passes {

int EliminateDeadNodes(ir::Graph& graph) {
  std::vector<bool> live(graph.tensors.size(), false);
  for (int o : graph.outputs) live[o] = true;
  std::vector<bool> remove(graph.nodes.size(), true);
  // Walk backwards: a node is live when any output is, and then all its inputs are.
  for (size_t k = graph.nodes.size(); k-- > 0;) {
    const ir::Node& node = graph.nodes[k];
    bool needed = false;
    for (int o : node.outputs) needed |= live[o];
    if (!needed) continue;
    remove[k] = false;
    for (int i : node.inputs)
      if (i >= 0) live[i] = true;
  }
  int removed = 0;
  for (bool r : remove) removed += r;
  if (removed) graph.RemoveNodes(remove);
  graph.RemoveUnusedTensors();  // also drops constants nothing reads any more
  return removed;
}

}  // namespace outpost::passes
