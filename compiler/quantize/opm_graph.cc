#include "compiler/quantize/opm_graph.h"

#include <cstring>

#include "compiler/emit/opm_reader.h"
#include "io/model_file.h"

namespace outpost::quant {

bool IsOpm(std::span<const uint8_t> bytes) {
  return bytes.size() >= sizeof(kFileMagic) &&
         std::memcmp(bytes.data(), kFileMagic, sizeof(kFileMagic)) == 0;
}

Expected<ir::Graph> GraphFromOpm(std::span<const uint8_t> bytes, const std::string& name) {
  // Verified here first so that errors carry `name`, as every other model error does.
  Expected<io::LoadedModel> loaded = io::LoadedModel::FromBytes(name, bytes);
  if (!loaded) return loaded.error();
  return Capture([&]() -> ir::Graph {
    ir::Graph g = emit::ReadOpmGraph(loaded->model());
    // The quantized graph is a different graph: it gets its own plan and self-test.
    g.plan.reset();
    g.self_test.reset();
    for (ir::Tensor& t : g.tensors) t.arena_offset = -1;
    g.info.source_node_count = g.nodes.size();
    return g;
  });
}

}  // namespace outpost::quant
