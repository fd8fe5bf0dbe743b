#include "compiler/emit/graph_runner.h"

#include <cstring>
#include <memory>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::emit {
namespace {

// 64-byte aligned heap block (the runtime wants aligned models and arenas).
struct AlignedBlock {
  std::unique_ptr<uint8_t[]> storage;
  uint8_t* data = nullptr;
  explicit AlignedBlock(size_t n) : storage(new uint8_t[n + 64]) {
    data = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  }
};

}  // namespace

std::vector<std::vector<uint8_t>> RunGraph(const ir::Graph& graph,
                                           const std::vector<std::vector<uint8_t>>& inputs) {
  std::vector<uint8_t> bytes;
  if (graph.plan) {
    bytes = EmitOpm(graph);
  } else {
    ir::Graph copy = graph;
    plan::PlanMemory(copy);
    bytes = EmitOpm(copy);
  }
  AlignedBlock file(bytes.size());
  std::memcpy(file.data, bytes.data(), bytes.size());

  ErrorReporter errors;
  Model model;
  if (model.Load(file.data, bytes.size(), &errors) != Status::kOk)
    throw Error(std::string("runtime refused the model: ") + errors.message());
  AllOpsResolver resolver;
  if (RegisterAllKernels(resolver) != Status::kOk) throw Error("runtime: resolver too small");
  ArenaRequirement req;
  if (Interpreter::Measure(model, resolver, &req, &errors) != Status::kOk)
    throw Error(errors.message());
  AlignedBlock arena(req.total_bytes);
  Interpreter interp;
  if (interp.Init(model, resolver, arena.data, req.total_bytes, &errors) != Status::kOk)
    throw Error(errors.message());
  if (static_cast<int>(inputs.size()) != interp.num_inputs())
    throw Error("run: expected " + std::to_string(interp.num_inputs()) + " inputs");
  for (int i = 0; i < interp.num_inputs(); ++i) {
    if (inputs[i].size() != interp.input(i).bytes)
      throw Error("run: input " + std::to_string(i) + " has the wrong size");
    std::memcpy(interp.input(i).data, inputs[i].data(), inputs[i].size());
  }
  if (interp.Invoke() != Status::kOk) throw Error(errors.message());
  std::vector<std::vector<uint8_t>> outputs;
  for (int o = 0; o < interp.num_outputs(); ++o) {
    const TensorView& t = interp.output(o);
    const uint8_t* p = static_cast<const uint8_t*>(t.data);
    outputs.emplace_back(p, p + t.bytes);
  }
  return outputs;
}

}  // namespace outpost::emit
