#include "compiler/ir/graph.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "runtime/tensor.h"

namespace outpost::ir {

size_t DTypeBytes(DType t) { return DTypeSize(t); }

int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

int Graph::AddTensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::AddActivation(const std::string& name, DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return AddTensor(std::move(t));
}

int Graph::AddConstant(const std::string& name, DType dtype, std::vector<int64_t> shape,
                       std::vector<uint8_t> data) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.constant = true;
  t.data = std::move(data);
  if (t.data.size() != t.bytes())
    throw Error("internal: constant '" + name + "' has " + std::to_string(t.data.size()) +
                " bytes for shape " + ShapeString(t.shape));
  return AddTensor(std::move(t));
}

int Graph::AddNode(Node n) {
  nodes.push_back(std::move(n));
  return static_cast<int>(nodes.size()) - 1;
}

std::string Graph::UniqueName(const std::string& base) {
  std::set<std::string> used;
  for (const Tensor& t : tensors) used.insert(t.name);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!used.count(candidate)) return candidate;
  }
}

int Graph::Producer(int tensor) const {
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int o : nodes[n].outputs)
      if (o == tensor) return static_cast<int>(n);
  return -1;
}

std::vector<int> Graph::Consumers(int tensor) const {
  std::vector<int> out;
  for (size_t n = 0; n < nodes.size(); ++n)
    if (std::find(nodes[n].inputs.begin(), nodes[n].inputs.end(), tensor) != nodes[n].inputs.end())
      out.push_back(static_cast<int>(n));
  return out;
}

bool Graph::IsGraphOutput(int tensor) const {
  return std::find(outputs.begin(), outputs.end(), tensor) != outputs.end();
}

bool Graph::IsGraphInput(int tensor) const {
  return std::find(inputs.begin(), inputs.end(), tensor) != inputs.end();
}

void Graph::ReplaceUses(int from, int to) {
  for (Node& n : nodes)
    for (int& i : n.inputs)
      if (i == from) i = to;
  for (int& o : outputs)
    if (o == from) o = to;
}

void Graph::RemoveNodes(const std::vector<bool>& remove) {
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (i >= remove.size() || !remove[i]) kept.push_back(std::move(nodes[i]));
  nodes = std::move(kept);
}

void Graph::RemoveUnusedTensors() {
  std::vector<bool> used(tensors.size(), false);
  for (const Node& n : nodes) {
    for (int i : n.inputs)
      if (i >= 0) used[i] = true;
    for (int o : n.outputs) used[o] = true;
  }
  for (int i : inputs) used[i] = true;
  for (int o : outputs) used[o] = true;
  for (const InputSpec& s : info.input_specs)
    if (s.tensor >= 0) used[s.tensor] = true;
  std::vector<int> remap(tensors.size(), -1);
  std::vector<Tensor> kept;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(tensors[i]));
  }
  tensors = std::move(kept);
  auto fix = [&](int& idx) {
    if (idx >= 0) idx = remap[idx];
  };
  for (Node& n : nodes) {
    for (int& i : n.inputs) fix(i);
    for (int& o : n.outputs) fix(o);
  }
  for (int& i : inputs) fix(i);
  for (int& o : outputs) fix(o);
  for (InputSpec& s : info.input_specs) fix(s.tensor);
}

void Graph::Validate() const {
  const int nt = static_cast<int>(tensors.size());
  std::vector<bool> available(nt, false);
  std::vector<bool> produced(nt, false);
  for (int i = 0; i < nt; ++i) {
    const Tensor& t = tensors[i];
    if (t.constant) {
      available[i] = true;
      if (t.data.size() != t.bytes())
        throw Error("graph: constant '" + t.name + "' data does not match its shape");
    }
    for (int64_t d : t.shape)
      if (d < 1) throw Error("graph: tensor '" + t.name + "' has shape " + ShapeString(t.shape));
  }
  for (int i : inputs) {
    if (i < 0 || i >= nt) throw Error("graph: input index out of range");
    if (tensors[i].constant) throw Error("graph: input '" + tensors[i].name + "' is constant");
    available[i] = true;
  }
  for (const Node& n : nodes) {
    for (int i : n.inputs) {
      if (i < -1 || i >= nt) throw Error("graph: node '" + n.name + "' input out of range");
      if (i >= 0 && !available[i])
        throw Error("graph: node '" + n.name + "' reads '" + tensors[i].name +
                    "' before it is produced");
    }
    for (int o : n.outputs) {
      if (o < 0 || o >= nt) throw Error("graph: node '" + n.name + "' output out of range");
      if (tensors[o].constant || produced[o] || IsGraphInput(o))
        throw Error("graph: tensor '" + tensors[o].name + "' is written twice or is constant");
      produced[o] = available[o] = true;
    }
  }
  for (int o : outputs) {
    if (o < 0 || o >= nt) throw Error("graph: output index out of range");
    if (!available[o] || tensors[o].constant)
      throw Error("graph: output '" + tensors[o].name + "' is not computed by the graph");
  }
}

uint64_t Graph::CountMacs() const {
  uint64_t macs = 0;
  for (const Node& n : nodes) {
    if (n.outputs.empty() || n.inputs.size() < 2 || n.inputs[1] < 0) continue;
    const Tensor& y = tensors[n.outputs[0]];
    const Tensor& w = tensors[n.inputs[1]];
    switch (n.op) {
      case OpCode::CONV_2D:
        // Each output element takes (C/groups * kH * kW) multiply-accumulates.
        macs += static_cast<uint64_t>(y.num_elements()) *
                static_cast<uint64_t>(w.num_elements() / w.shape[0]);
        break;
      case OpCode::CONV_TRANSPOSE_2D:
        // Each input element scatters into (M/groups * kH * kW) outputs.
        macs += static_cast<uint64_t>(tensors[n.inputs[0]].num_elements()) *
                static_cast<uint64_t>(w.num_elements() / w.shape[0]);
        break;
      case OpCode::FULLY_CONNECTED:
        macs += static_cast<uint64_t>(y.num_elements()) * static_cast<uint64_t>(w.shape.back());
        break;
      case OpCode::MATMUL: {
        const Tensor& a = tensors[n.inputs[0]];
        macs += static_cast<uint64_t>(y.num_elements()) * static_cast<uint64_t>(a.shape.back());
        break;
      }
      default: break;
    }
  }
  return macs;
}

}  // namespace outpost::ir
