// Quantization through data movement, at import time.
//
// A quantized tensor that an ONNX model reshapes, transposes, slices, splits, concatenates or
// pads keeps its meaning: the output holds the same integers with the same parameters (the
// scheme requires equal parameters on both sides of these ops, docs/quantization.md). The
// importer's data-movement lowerings know nothing of quantization, so ImportContext::Emit
// calls PropagateQuantization on every node before emitting or folding it.
//
// Dequantized constants (FLOAT32 constants that record the parameters they were dequantized
// with, onnx_quant_ops.cc) follow the same path, so that the weights of a Gemm or a 1-D
// convolution, which the lowerings transpose or reshape, still show their integer origin to
// the QDQ-folding pass. Such a record is dropped where it cannot follow (a per-axis record
// through a reshape that splits its axis); the pass then quantizes the weights itself.
#include "compiler/import/import_context.h"
#include "compiler/passes/quant_params.h"

namespace outpost::import {
namespace {

bool IsDataMovement(OpCode op) {
  switch (op) {
    case OpCode::RESHAPE:
    case OpCode::TRANSPOSE:
    case OpCode::SLICE:
    case OpCode::SPLIT:
    case OpCode::CONCAT:
    case OpCode::PAD: return true;
    default: return false;
  }
}

std::vector<int> Perm(const ir::Node& n) {
  const auto* o = n.options.AsTransposeOptions();
  return o ? std::vector<int>(o->perm.begin(), o->perm.end()) : std::vector<int>{};
}

}  // namespace

void ImportContext::PropagateQuantization(ir::Node& n) {
  if (!IsDataMovement(n.op) || n.inputs.empty() || n.inputs[0] < 0) return;
  const int x = n.inputs[0];
  const ir::Tensor& in = graph_.tensors[x];
  if (n.op == OpCode::CONCAT) {
    // Concatenated quantized tensors must agree: the output has one set of parameters.
    for (int other : n.inputs) {
      const ir::Tensor& t = graph_.tensors[other];
      const bool same = t.quant.present() == in.quant.present() &&
                        (!t.quant.present() || passes::SameQuantization(t.quant, in.quant)) &&
                        IsUint8(other) == IsUint8(x);
      if (same) continue;
      if (in.dtype == DType::FLOAT32 && t.dtype == DType::FLOAT32) return;  // records only
      throw Error("Concat of quantized tensors with different parameters: '" + in.name +
                  "' has " + passes::DescribeQuantization(in.quant) + ", '" + t.name + "' has " +
                  passes::DescribeQuantization(t.quant));
    }
  }
  if (!in.quant.present()) return;
  const bool record = in.dtype == DType::FLOAT32;
  for (int o : n.outputs) {
    ir::Tensor& out = graph_.tensors[o];
    std::optional<ir::Quantization> q;
    if (n.op == OpCode::TRANSPOSE) {
      q = passes::TransposedQuantization(in.quant, Perm(n));
    } else if (n.op == OpCode::RESHAPE) {
      q = passes::ReshapedQuantization(in.quant, in.shape, out.shape);
    } else if (in.quant.axis < 0 && !(record && n.op == OpCode::PAD)) {
      q = in.quant;
    }
    if (!q) {
      if (record) continue;
      Unsupported(std::string(opm::EnumNameOpCode(n.op)) + " of '" + in.name +
                  "', which is quantized per axis (" + passes::DescribeQuantization(in.quant) +
                  "): the parameters cannot follow");
    }
    if (out.quant.present() && !passes::SameQuantization(out.quant, *q))
      throw Error("'" + out.name + "' is quantized with " +
                  passes::DescribeQuantization(out.quant) + " but moves the data of '" + in.name +
                  "', quantized with " + passes::DescribeQuantization(*q));
    out.quant = *q;
    if (IsUint8(x)) MarkUint8(o);
  }
  if (n.op == OpCode::PAD && !record) {
    // The lowering stored ONNX's pad value: an integer in the value's own type (uint8 for a
    // marked tensor). The integer PAD kernel takes a real value and quantizes it.
    auto* o = n.options.AsPadOptions();
    if (o != nullptr && o->mode == opm::PadMode::CONSTANT) {
      const int64_t zp = in.quant.zero_point[0] + (IsUint8(x) ? 128 : 0);
      o->value = in.quant.scale[0] * static_cast<float>(static_cast<int64_t>(o->value) - zp);
    }
  }
}

}  // namespace outpost::import
