#include "compiler/compile.h"

#include <cstring>
#include <random>

#include "compiler/emit/graph_runner.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"

namespace outpost::compiler {
namespace {

void ApplyOverrides(ir::Graph& g, const CompileOptions& o) {
  if (o.task) g.info.task = *o.task;
  if (o.labels) g.info.labels = *o.labels;
  const bool spec_override = o.mean || o.std || o.value_scale || o.layout || o.color;
  if (spec_override && g.info.input_specs.empty() && !g.inputs.empty()) {
    ir::InputSpec s;
    s.tensor = g.inputs[0];
    g.info.input_specs.push_back(s);
  }
  if (!spec_override) return;
  ir::InputSpec& s = g.info.input_specs.front();
  if (o.mean) s.mean = *o.mean;
  if (o.std) s.std = *o.std;
  if (o.value_scale) s.value_scale = *o.value_scale;
  if (o.layout) s.layout = *o.layout;
  if (o.color) s.color = *o.color;
  for (float v : s.std)
    if (!(v > 0.0f)) throw Error("input spec: every std value must be positive");
}

// A deterministic input for the self-test. Image inputs get pixels pushed through the input
// spec, so the golden output exercises the model in its real operating range.
std::vector<uint8_t> SelfTestInput(const ir::Graph& g, int tensor, std::mt19937_64& rng) {
  const ir::Tensor& t = g.tensors[tensor];
  std::vector<uint8_t> bytes(t.bytes());
  if (t.dtype != opm::DType::FLOAT32) {
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    return bytes;
  }
  const ir::InputSpec* spec = nullptr;
  for (const auto& s : g.info.input_specs)
    if (s.tensor == tensor) spec = &s;
  std::vector<float> v(t.num_elements());
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_real_distribution<float> pixel(0.0f, 255.0f);
  const bool image = spec && spec->layout != opm::Layout::ANY && t.shape.size() == 4;
  const int64_t channels = image ? (spec->layout == opm::Layout::NCHW ? t.shape[1] : t.shape[3])
                                 : 1;
  const int64_t plane = image ? t.shape[2] * (spec->layout == opm::Layout::NCHW ? t.shape[3] : 1)
                              : 1;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    if (!image) {
      v[i] = unit(rng);
      continue;
    }
    const int64_t c = spec->layout == opm::Layout::NCHW ? (i / plane) % channels : i % channels;
    const float mean = spec->mean.empty() ? 0.0f : spec->mean[c % spec->mean.size()];
    const float sd = spec->std.empty() ? 1.0f : spec->std[c % spec->std.size()];
    v[i] = (pixel(rng) * spec->value_scale - mean) / sd;
  }
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

}  // namespace

Expected<ir::Graph> CompileOnnx(const std::string& onnx_path, const CompileOptions& options,
                                CompileReport* report) {
  return Capture([&]() -> ir::Graph {
    auto log = [&](const std::string& line) {
      if (options.log) options.log(line);
    };
    CompileReport r;
    log("importing " + onnx_path);
    Expected<ir::Graph> imported = import::ImportOnnxFile(onnx_path, options.import);
    if (!imported) throw imported.error();
    ir::Graph g = std::move(imported.value());
    r.nodes_after_import = g.nodes.size();
    r.onnx_nodes = g.info.source_node_count;
    ApplyOverrides(g, options);
    if (options.optimize) {
      log("optimizing " + std::to_string(g.nodes.size()) + " nodes");
      r.passes = passes::Optimize(g);
    } else {
      g.Validate();
    }
    r.nodes_after_passes = g.nodes.size();
    log("planning memory");
    plan::PlanMemory(g);
    if (options.self_test) {
      log("recording the self-test");
      std::mt19937_64 rng(options.self_test_seed);
      ir::SelfTest st;
      for (int in : g.inputs) st.inputs.push_back(SelfTestInput(g, in, rng));
      st.outputs = emit::RunGraph(g, st.inputs);
      // Optimized kernels may sum in another order than the reference that recorded this.
      st.atol = 1e-4f;
      st.rtol = 1e-3f;
      g.self_test = std::move(st);
    }
    r.arena_bytes = g.plan->arena_bytes;
    r.arena_lower_bound_bytes = g.plan->lower_bound_bytes;
    r.macs = g.CountMacs();
    if (report) *report = r;
    return g;
  });
}

Expected<std::vector<uint8_t>> CompileOnnxToOpm(const std::string& onnx_path,
                                                const CompileOptions& options,
                                                CompileReport* report) {
  Expected<ir::Graph> g = CompileOnnx(onnx_path, options, report);
  if (!g) return g.error();
  return Capture([&] { return emit::EmitOpm(g.value()); });
}

}  // namespace outpost::compiler
