// Weight-only quantization, for models whose activations must stay float: each weight is
// stored as an fp16 or int8 constant and a DEQUANTIZE just before its first reader turns it
// back into float, so the file shrinks (2x or ~4x) while every op still computes in float.
// The dequantized weights are arena tensors: the arena grows by the largest of them that is
// live at one time (they are placed right before their reader and die after it).
#include <map>

#include "compiler/quantize/quantize_internal.h"
#include "compiler/quantize/weights.h"

namespace outpost::quant {
namespace {

using opm::DType;
using opm::OpCode;

// Which inputs of a node are weights.
std::vector<size_t> WeightInputs(const ir::Graph& g, const ir::Node& n) {
  std::vector<size_t> out;
  auto is_weight = [&](size_t k) {
    return k < n.inputs.size() && n.inputs[k] >= 0 && g.tensors[n.inputs[k]].constant &&
           g.tensors[n.inputs[k]].dtype == DType::FLOAT32;
  };
  switch (n.op) {
    case OpCode::CONV_2D:
    case OpCode::CONV_TRANSPOSE_2D:
    case OpCode::FULLY_CONNECTED:
      if (is_weight(1)) out.push_back(1);
      break;
    case OpCode::MATMUL:
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (is_weight(k)) out.push_back(k);
      break;
    default: break;
  }
  return out;
}

}  // namespace

ir::Graph BuildWeightOnlyGraph(const ir::Graph& src, const CalibrationResult& stats,
                               const QuantizeOptions& o, const KernelQuery& has,
                               QuantizeReport& report) {
  const bool fp16 = o.weight_only == WeightOnly::kFloat16;
  const DType stored = fp16 ? DType::FLOAT16 : DType::INT8;
  ir::Graph g = src;
  g.nodes.clear();
  g.plan.reset();
  g.self_test.reset();
  std::map<int, int> dequantized;  // weight tensor -> its DEQUANTIZE output
  int converted = 0;
  for (const ir::Node& source : src.nodes) {
    ir::Node n = source;
    LayerReport layer;
    layer.node = n.name;
    layer.op = OpName(n.op);
    const std::vector<size_t> weights = WeightInputs(src, n);
    std::string why;
    if (weights.empty()) {
      layer.why_float = "no weights";
    } else if (!Selected(o, n.name, &why)) {
      layer.why_float = why;
    } else {
      if (!has(OpCode::DEQUANTIZE, stored))
        throw Error(std::string("this build has no DEQUANTIZE kernel for ") +
                    (fp16 ? "float16" : "int8") + " weights");
      for (size_t k : weights) {
        const int w = n.inputs[k];
        auto done = dequantized.find(w);
        if (done != dequantized.end()) {
          n.inputs[k] = done->second;
          continue;
        }
        const ir::Tensor& wt = src.tensors[w];
        int stored_id;
        if (fp16) {
          stored_id = g.AddConstant(g.UniqueName(wt.name + "_fp16"), DType::FLOAT16, wt.shape,
                                    ToFloat16(wt.values<float>()));
          layer.detail = "weights fp16";
        } else {
          // Conv and fully-connected weights per output channel (axis 0); a MATMUL's constant
          // operand per column (its last axis), which is what each output element scales by.
          const int axis = !o.per_channel ? -1
                           : n.op == OpCode::MATMUL ? static_cast<int>(wt.shape.size()) - 1
                                                    : 0;
          const SymmetricInt8 q = QuantizeSymmetric(wt.values<float>(), wt.shape, axis);
          stored_id = g.AddConstant(g.UniqueName(wt.name + "_int8"), DType::INT8, wt.shape,
                                    q.values);
          g.tensors[stored_id].quant.scale = q.scales;
          g.tensors[stored_id].quant.zero_point.assign(q.scales.size(), 0);
          g.tensors[stored_id].quant.axis = q.axis;
          layer.detail = o.per_channel ? "weights int8 per-channel" : "weights int8 per-tensor";
          const bool conv_or_fc = n.op == OpCode::CONV_2D || n.op == OpCode::FULLY_CONNECTED;
          if (o.bias_correction && conv_or_fc && k == 1) {
            const int b = n.inputs.size() > 2 ? n.inputs[2] : -1;
            std::vector<float> bias(static_cast<size_t>(wt.shape[0]), 0.0f);
            if (b >= 0) {
              const std::span<const float> bv = src.tensors[b].values<float>();
              bias.assign(bv.begin(), bv.end());
            }
            if (CorrectBias(n, wt, Dequantize(q, wt.shape), stats, src.tensors[n.inputs[0]].name,
                            bias, report.warnings)) {
              const std::string base = b >= 0 ? src.tensors[b].name : wt.name + "_bias";
              const int bt = g.AddConstant(g.UniqueName(base + "_corrected"), DType::FLOAT32,
                                           {wt.shape[0]}, bias);
              if (n.inputs.size() < 3) n.inputs.resize(3, -1);
              n.inputs[2] = bt;
              layer.detail += ", bias corrected";
            }
          }
        }
        const int f = g.AddActivation(g.UniqueName(wt.name + "_dequantized"), DType::FLOAT32,
                                      wt.shape);
        ir::Node dq;
        dq.op = OpCode::DEQUANTIZE;
        dq.name = wt.name + "/dequantize";
        dq.inputs = {stored_id};
        dq.outputs = {f};
        g.nodes.push_back(std::move(dq));
        dequantized[w] = f;
        n.inputs[k] = f;
      }
      layer.quantized = true;
      ++converted;
    }
    g.nodes.push_back(std::move(n));
    report.layers.push_back(std::move(layer));
  }
  if (converted == 0) {
    bool any_weights = false;
    for (const ir::Node& n : src.nodes) any_weights |= !WeightInputs(src, n).empty();
    throw Error(any_weights ? "nothing to quantize: every node with weights is kept float"
                            : "nothing to quantize: the model has no convolution, "
                              "fully-connected or matmul weights");
  }
  g.RemoveUnusedTensors();
  g.Validate();
  return g;
}

}  // namespace outpost::quant
