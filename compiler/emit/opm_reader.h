// Reads a .opm file back into the compiler's IR: the inverse of EmitOpm. Lets host tools work
// on compiled models (quantize an fp32 .opm, export a model to ONNX, inspect it as a graph).
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"
#include "runtime/model.h"

namespace outpost::emit {

// The bytes are verified by the runtime's reader first (runtime::Model::Load, the same trust
// boundary a device uses); a file it refuses throws Error with its message. The memory plan
// and the self-test are kept; source_node_count is not stored in files and stays 0.
ir::Graph ReadOpmGraph(const std::vector<uint8_t>& bytes);

// The same for a model the caller has already verified (e.g. an io::LoadedModel).
ir::Graph ReadOpmGraph(const Model& model);

}  // namespace outpost::emit
