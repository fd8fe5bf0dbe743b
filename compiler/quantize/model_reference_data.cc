// Storing a drift reference in a compiled model (compiler/quantize/model_reference_data.h).
#include "compiler/quantize/model_reference_data.h"

#include "compiler/emit/opm_writer.h"
#include "io/model_file.h"

namespace outpost::quant {

Expected<io::ModelReference> AddModelReference(ir::Graph& graph, const Dataset& data) {
  if (!graph.plan) return Error("model reference: the graph has no memory plan yet");
  // The reference describes the model without one (an older reference would not change what
  // the model computes, but keeps the emitted bytes of this run independent of it).
  graph.info.metadata.erase(io::kReferenceKey);
  Expected<io::LoadedModel> loaded =
      io::LoadedModel::FromBytes(graph.info.name.empty() ? "model" : graph.info.name,
                                 emit::EmitOpm(graph));
  if (!loaded) return loaded.error();
  Expected<io::ModelReference> ref = io::BuildModelReference(*loaded, data.samples);
  if (!ref) return ref.error();
  graph.info.metadata[io::kReferenceKey] = io::ModelReferenceToJson(*ref);
  return ref;
}

}  // namespace outpost::quant
