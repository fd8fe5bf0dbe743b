// Writes an IR graph as an ONNX model, so that other runtimes can run exactly what Outpost
// runs: the optimized float graph, or the quantized one in QDQ form.
//
// Quantized tensors follow ONNX's QDQ convention (what ONNX Runtime, TensorRT and the PyTorch
// and TensorFlow exporters use): an integer tensor T is a QuantizeLinear of its producer's
// float result and is read through a DequantizeLinear; int8 weights and int32 biases are
// integer initializers behind a DequantizeLinear (per-axis scales for per-channel weights).
// Runtimes that understand QDQ fuse these patterns back into integer kernels, using the
// scales Outpost chose; Outpost's own importer does the same (docs/quantization.md).
#pragma once

#include <string>

#include "compiler/ir/graph.h"

namespace outpost::exporter {

struct OnnxExportOptions {
  int opset = 17;
  std::string producer_name = "outpost";
  // Write int8 activations as uint8 with their zero points plus 128: the same quantization
  // grid (q + 128 for every value), in the form ONNX Runtime's x86 integer kernels take (u8
  // activations, s8 weights). Weights, biases and the graph's own inputs and outputs keep
  // their types.
  bool uint8_activations = false;
};

// The serialized onnx.ModelProto. Throws Error naming the first node that has no ONNX form.
std::string ExportOnnx(const ir::Graph& graph, const OnnxExportOptions& options = {});

}  // namespace outpost::exporter
