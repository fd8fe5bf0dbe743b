// ONNX -> IR import (host only). Supports opsets up to 17 of the default domain for the
// operators listed in docs/onnx-support.md (below opset 11, operator by operator: those whose
// definition there is the one the importer implements); everything else is refused with an
// error naming the op, the node and the opset.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"

namespace onnx {
class ModelProto;
class TensorProto;
}  // namespace onnx

namespace outpost::import {

struct ImportOptions {
  // Value given to symbolic or dynamic dimensions of graph inputs (the batch, usually).
  int64_t dynamic_dim = 1;
  // Explicit static shapes for graph inputs, by name (override what the model declares).
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Values for graph inputs that feed a parameter the runtime needs as a constant (a Reshape
  // shape, Pad pads, Slice starts, Resize scales, Clip bounds, BatchNormalization statistics,
  // ...). Such an input becomes a constant when its value is given here and the import fails
  // naming it otherwise. Graph inputs that feed data stay runtime inputs even when listed.
  std::map<std::string, ir::Tensor> input_values;
};

Expected<ir::Graph> ImportOnnxFile(const std::string& path, const ImportOptions& options = {});
Expected<ir::Graph> ImportOnnxModel(const onnx::ModelProto& model,
                                    const ImportOptions& options = {});

// The ONNX operator types (default domain) the importer lowers, sorted.
std::vector<std::string> SupportedOnnxOperators();

// Reads an ONNX TensorProto (e.g. a test_data_set_N/input_K.pb file) into a constant IR
// tensor, as the importer reads initializers: DOUBLE, FLOAT16 and BFLOAT16 become FLOAT32;
// strings, external data and unsigned types wider than 8 bits are refused.
Expected<ir::Tensor> TensorFromOnnxProto(const onnx::TensorProto& proto);

}  // namespace outpost::import
