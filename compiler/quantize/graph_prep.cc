#include "compiler/quantize/graph_prep.h"

#include <cmath>
#include <memory>

#include "runtime/all_ops_resolver.h"

namespace outpost::quant {
namespace {

template <typename T>
opm::Activation* ActivationOf(T* options) {
  return options ? &options->activation : nullptr;
}

opm::Activation* FusedActivation(ir::Node& n) {
  switch (n.op) {
    case opm::OpCode::CONV_2D: return ActivationOf(n.options.AsConv2DOptions());
    case opm::OpCode::CONV_TRANSPOSE_2D: return ActivationOf(n.options.AsConvTranspose2DOptions());
    case opm::OpCode::FULLY_CONNECTED: return ActivationOf(n.options.AsFullyConnectedOptions());
    case opm::OpCode::ADD:
    case opm::OpCode::SUB:
    case opm::OpCode::MUL:
    case opm::OpCode::DIV: return ActivationOf(n.options.AsBinaryOptions());
    default: return nullptr;
  }
}

void CheckTensor(const ir::Tensor& t) {
  if (!t.constant || t.dtype != opm::DType::FLOAT32) return;
  const std::span<const float> v = t.values<float>();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw Error("weight tensor '" + t.name + "' holds " + (std::isnan(v[i]) ? "NaN" : "Inf") +
                  " (element " + std::to_string(i) + " of " + std::to_string(v.size()) +
                  "): the float model is broken; fix or retrain it before quantizing");
}

}  // namespace

std::string OpName(opm::OpCode op) { return opm::EnumNameOpCode(op); }

ir::Graph PrepareForInt8(const ir::Graph& float_graph) {
  ir::Graph g = float_graph;
  std::vector<ir::Node> nodes;
  nodes.reserve(g.nodes.size());
  for (ir::Node& n : g.nodes) {
    opm::Activation* act = FusedActivation(n);
    if (act == nullptr || *act != opm::Activation::HARD_SWISH) {
      nodes.push_back(std::move(n));
      continue;
    }
    *act = opm::Activation::NONE;
    const int out = n.outputs[0];
    const ir::Tensor& y = g.tensors[out];
    const int pre = g.AddActivation(g.UniqueName(y.name + "_pre_hardswish"), y.dtype, y.shape);
    n.outputs[0] = pre;
    ir::Node hs;
    hs.op = opm::OpCode::HARD_SWISH;
    hs.name = n.name + "/hard_swish";
    hs.inputs = {pre};
    hs.outputs = {out};
    nodes.push_back(std::move(n));
    nodes.push_back(std::move(hs));
  }
  g.nodes = std::move(nodes);
  return g;
}

void CheckIsFloatGraph(const ir::Graph& graph) {
  for (const ir::Tensor& t : graph.tensors)
    if (t.dtype == opm::DType::INT8 || t.dtype == opm::DType::UINT8 ||
        t.dtype == opm::DType::FLOAT16 || t.quant.present())
      throw Error("the model is already quantized (tensor '" + t.name + "' is " +
                  opm::EnumNameDType(t.dtype) + (t.quant.present() ? " with scales" : "") +
                  "): quantize the float model");
}

void CheckFiniteConstants(const ir::Graph& graph) {
  for (const ir::Tensor& t : graph.tensors) CheckTensor(t);
}

KernelQuery MakeKernelQuery(const QuantizeOptions& options) {
  if (options.has_kernel) return options.has_kernel;
  auto resolver = std::make_shared<AllOpsResolver>();
  if (RegisterAllKernels(*resolver) != Status::kOk)
    throw Error("internal: kernel table larger than the resolver");
  return [resolver](opm::OpCode op, opm::DType dtype) {
    return resolver->Find(op, dtype) != nullptr;
  };
}

}  // namespace outpost::quant
