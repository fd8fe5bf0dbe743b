// Constant folding: nodes whose inputs are all constant are evaluated once, at compile time,
// by the runtime's reference kernels (emit/graph_runner.h).
#include "compiler/emit/graph_runner.h"
#include "compiler/passes/passes.h"

namespace outpost::passes {

std::vector<ir::Tensor> EvaluateNode(const ir::Graph& graph, const ir::Node& node) {
  ir::Graph g;
  ir::Node copy = node;
  for (int& i : copy.inputs) {
    if (i < 0) continue;
    const ir::Tensor& t = graph.tensors[i];
    if (!t.constant) throw Error("internal: EvaluateNode on '" + node.name + "' with a runtime input");
    i = g.AddTensor(t);
  }
  for (int& o : copy.outputs) {
    ir::Tensor t = graph.tensors[o];
    t.constant = false;
    t.data.clear();
    o = g.AddTensor(std::move(t));
    g.outputs.push_back(o);
  }
  g.nodes.push_back(std::move(copy));
  std::vector<std::vector<uint8_t>> values;
  try {
    values = emit::RunGraph(g, {});
  } catch (const Error& e) {
    throw Error("cannot evaluate constant node '" + node.name + "' (" +
                opm::EnumNameOpCode(node.op) + "): " + e.what());
  }
  std::vector<ir::Tensor> out;
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    ir::Tensor t = graph.tensors[node.outputs[k]];
    t.constant = true;
    t.data = std::move(values[k]);
    t.arena_offset = -1;
    out.push_back(std::move(t));
  }
  return out;
}

int FoldConstants(ir::Graph& graph) {
  std::vector<bool> remove(graph.nodes.size(), false);
  int folded = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    // Kept on purpose: integers stored compactly, read by QDQ folding (passes.h).
    if (node.op == opm::OpCode::DEQUANTIZE) continue;
    bool all_constant = false;
    for (int i : node.inputs) {
      if (i < 0) continue;
      all_constant = graph.tensors[i].constant;
      if (!all_constant) break;
    }
    if (!all_constant) continue;
    bool feeds_output = false;
    for (int o : node.outputs) feeds_output |= graph.IsGraphOutput(o);
    if (feeds_output) continue;  // graph outputs must be computed into the arena
    std::vector<ir::Tensor> values = EvaluateNode(graph, node);
    for (size_t k = 0; k < node.outputs.size(); ++k)
      graph.tensors[node.outputs[k]] = std::move(values[k]);
    remove[n] = true;
    ++folded;
  }
  if (folded) {
    graph.RemoveNodes(remove);
    graph.RemoveUnusedTensors();
  }
  return folded;
}

}  // namespace outpost::passes
