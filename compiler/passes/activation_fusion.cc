// Activation fusion: Conv/FC/binary -> RELU|CLIP|HARD_SWISH becomes one op with a fused
// activation, saving a full pass over the tensor (and, once quantized, a requantization).
#include "compiler/passes/passes.h"

namespace outpost::passes {
namespace {

// The fused-activation fields of a node's options, if the op has them.
struct ActivationFields {
  opm::Activation* activation = nullptr;
  float* act_min = nullptr;
  float* act_max = nullptr;
};

template <typename T>
ActivationFields FieldsOf(T* o) {
  if (o == nullptr) return {};
  return {&o->activation, &o->act_min, &o->act_max};
}

ActivationFields Fields(ir::Node& n) {
  switch (n.op) {
    case opm::OpCode::CONV_2D: return FieldsOf(n.options.AsConv2DOptions());
    case opm::OpCode::CONV_TRANSPOSE_2D: return FieldsOf(n.options.AsConvTranspose2DOptions());
    case opm::OpCode::FULLY_CONNECTED: return FieldsOf(n.options.AsFullyConnectedOptions());
    case opm::OpCode::ADD:
    case opm::OpCode::SUB:
    case opm::OpCode::MUL:
    case opm::OpCode::DIV: return FieldsOf(n.options.AsBinaryOptions());
    default: return {};
  }
}

}  // namespace

int FuseActivations(ir::Graph& graph) {
  std::vector<bool> remove(graph.nodes.size(), false);
  int fused = 0;
  for (size_t a = 0; a < graph.nodes.size(); ++a) {
    ir::Node& act = graph.nodes[a];
    if (act.op != opm::OpCode::RELU && act.op != opm::OpCode::CLIP &&
        act.op != opm::OpCode::HARD_SWISH)
      continue;
    const int x = act.inputs[0];
    if (x < 0 || graph.tensors[x].constant || graph.IsGraphOutput(x)) continue;
    if (graph.Consumers(x).size() != 1) continue;
    const int p = graph.Producer(x);
    if (p < 0 || remove[p]) continue;
    ir::Node& prod = graph.nodes[p];
    ActivationFields f = Fields(prod);
    if (f.activation == nullptr || *f.activation != opm::Activation::NONE) continue;
    if (graph.tensors[x].dtype != opm::DType::FLOAT32) continue;
    switch (act.op) {
      case opm::OpCode::RELU: *f.activation = opm::Activation::RELU; break;
      case opm::OpCode::CLIP: {
        const auto* c = act.options.AsClipOptions();
        if (!(c->min <= c->max)) continue;  // ONNX then yields `max` everywhere; keep the op
        *f.activation = opm::Activation::CLIP;
        *f.act_min = c->min;
        *f.act_max = c->max;
        break;
      }
      default: *f.activation = opm::Activation::HARD_SWISH; break;
    }
    prod.outputs[0] = act.outputs[0];
    remove[a] = true;
    ++fused;
  }
  if (fused) {
    graph.RemoveNodes(remove);
    graph.RemoveUnusedTensors();
  }
  return fused;
}

}  // namespace outpost::passes
