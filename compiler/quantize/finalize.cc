#include "compiler/quantize/finalize.h"

#include <cmath>
#include <cstring>
#include <random>

#include "compiler/emit/graph_runner.h"
#include "compiler/plan/memory_planner.h"

namespace outpost::quant {
namespace {

// Float values for input `tensor` when no real sample is given.
std::vector<float> RandomInput(const ir::Graph& g, int tensor, std::mt19937_64& rng) {
  const ir::Tensor& t = g.tensors[tensor];
  const ir::InputSpec* spec = nullptr;
  for (const ir::InputSpec& s : g.info.input_specs)
    if (s.tensor == tensor) spec = &s;
  std::vector<float> v(static_cast<size_t>(t.num_elements()));
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_real_distribution<float> pixel(0.0f, 255.0f);
  const bool image = spec && spec->layout != opm::Layout::ANY && t.shape.size() == 4;
  const bool nchw = image && spec->layout == opm::Layout::NCHW;
  const int64_t channels = image ? (nchw ? t.shape[1] : t.shape[3]) : 1;
  const int64_t plane = image ? (nchw ? t.shape[2] * t.shape[3] : 1) : 1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!image) {
      v[i] = unit(rng);
      continue;
    }
    const int64_t k = static_cast<int64_t>(i);
    const int64_t c = nchw ? (k / plane) % channels : k % channels;
    const float mean = spec->mean.empty() ? 0.0f : spec->mean[c % spec->mean.size()];
    const float sd = spec->std.empty() ? 1.0f : spec->std[c % spec->std.size()];
    v[i] = (pixel(rng) * spec->value_scale - mean) / sd;
  }
  return v;
}

// The bytes of a float input for tensor `t` (quantized when the input is int8).
std::vector<uint8_t> InputBytes(const ir::Tensor& t, const std::vector<float>& v) {
  if (t.dtype == opm::DType::FLOAT32) {
    std::vector<uint8_t> b(v.size() * sizeof(float));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  if (t.dtype != opm::DType::INT8 || !t.quant.present())
    throw Error("self-test: input '" + t.name + "' is neither float32 nor quantized int8");
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double q = std::round(v[i] / t.quant.scale[0]) + static_cast<double>(t.quant.zero_point[0]);
    b[i] = static_cast<uint8_t>(static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q)));
  }
  return b;
}

}  // namespace

Expected<Unit> PlanAndSelfTest(ir::Graph& graph, const std::vector<float>* sample,
                               uint64_t seed) {
  return Capture([&]() -> Unit {
    graph.self_test.reset();
    plan::PlanMemory(graph);
    std::mt19937_64 rng(seed);
    ir::SelfTest st;
    for (size_t i = 0; i < graph.inputs.size(); ++i) {
      const ir::Tensor& t = graph.tensors[graph.inputs[i]];
      if (t.dtype != opm::DType::FLOAT32 && t.dtype != opm::DType::INT8) {
        std::vector<uint8_t> raw(t.bytes());
        for (auto& b : raw) b = static_cast<uint8_t>(rng());
        st.inputs.push_back(std::move(raw));
        continue;
      }
      const bool use_sample =
          sample && i == 0 && static_cast<int64_t>(sample->size()) == t.num_elements();
      st.inputs.push_back(
          InputBytes(t, use_sample ? *sample : RandomInput(graph, graph.inputs[i], rng)));
    }
    st.outputs = emit::RunGraph(graph, st.inputs);
    float atol = 1e-4f;
    for (int o : graph.outputs) {
      const int p = graph.Producer(o);
      if (p < 0 || graph.nodes[p].op != opm::OpCode::DEQUANTIZE) continue;
      const ir::Tensor& q = graph.tensors[graph.nodes[p].inputs[0]];
      if (q.quant.present() && q.quant.axis < 0) atol = std::max(atol, 2.0f * q.quant.scale[0]);
    }
    st.atol = atol;
    st.rtol = 1e-3f;
    graph.self_test = std::move(st);
    return Unit{};
  });
}

}  // namespace outpost::quant
