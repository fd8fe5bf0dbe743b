#include "compiler/quantize/layer_sqnr.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "io/model_file.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"

namespace outpost::quant {
namespace {

// Converts a tensor view's values to float, dequantizing with per-tensor parameters.
void ToFloat(const TensorView& v, std::vector<float>& out) {
  out.resize(static_cast<size_t>(v.num_elements()));
  const bool q = v.quant.present() && v.quant.axis < 0;
  const double scale = q ? v.quant.scale[0] : 1.0;
  const int64_t zp = q ? v.quant.zero_point[0] : 0;
  auto convert = [&](auto* p) {
    for (size_t k = 0; k < out.size(); ++k)
      out[k] = static_cast<float>(scale * static_cast<double>(static_cast<int64_t>(p[k]) - zp));
  };
  switch (v.dtype) {
    case DType::FLOAT32:
      std::memcpy(out.data(), v.data, out.size() * sizeof(float));
      break;
    case DType::INT8:
      convert(v.as<int8_t>());
      break;
    case DType::UINT8:
      convert(v.as<uint8_t>());
      break;
    case DType::INT16:
      convert(v.as<int16_t>());
      break;
    case DType::INT32:
      convert(v.as<int32_t>());
      break;
    case DType::INT64:
      convert(v.as<int64_t>());
      break;
    case DType::BOOL:
      convert(v.as<uint8_t>());
      break;
    default:
      std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());
      break;
  }
}

template <typename Q>
void QuantizeInto(std::span<const float> in, const QuantParams& q, Q* out) {
  const double inv = 1.0 / q.scale[0];
  const int64_t zp = q.zero_point[0];
  constexpr int64_t lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  for (size_t k = 0; k < in.size(); ++k) {
    // Round half away from zero, as the scheme's QUANTIZE does.
    const int64_t v = static_cast<int64_t>(std::round(in[k] * inv)) + zp;
    out[k] = static_cast<Q>(v < lo ? lo : (v > hi ? hi : v));
  }
}

struct FreeArena {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

struct GraphExecutor::State {
  std::unique_ptr<io::LoadedModel> model;
  AllOpsResolver resolver;
  Interpreter interp;
  ErrorReporter errors;
  std::unique_ptr<uint8_t, FreeArena> arena;
  OpObserver observer;
  std::vector<std::vector<int>> node_outputs;  // per operator, its output tensors
  int input = -1;                              // the graph input's tensor
  std::vector<bool> traced;                    // per tensor
  std::map<int, std::vector<float>> values;    // traced tensor -> values of the last run
};

GraphExecutor::GraphExecutor(std::unique_ptr<State> state) : s_(std::move(state)) {}
GraphExecutor::~GraphExecutor() = default;

Expected<std::unique_ptr<GraphExecutor>> GraphExecutor::Create(const ir::Graph& graph) {
  return Capture([&]() -> std::unique_ptr<GraphExecutor> {
    if (graph.inputs.size() != 1)
      throw Error("graph has " + std::to_string(graph.inputs.size()) + " inputs; one expected");
    ir::Graph planned = graph;
    if (!planned.plan) plan::PlanMemory(planned);
    const std::vector<uint8_t> bytes = emit::EmitOpm(planned);
    auto s = std::make_unique<State>();
    Expected<io::LoadedModel> loaded = io::LoadedModel::FromBytes(graph.info.name, bytes);
    if (!loaded) throw loaded.error();
    s->model = std::make_unique<io::LoadedModel>(std::move(loaded).value());
    if (RegisterAllKernels(s->resolver) != Status::kOk) throw Error("runtime: resolver too small");
    ArenaRequirement need;
    if (Interpreter::Measure(s->model->model(), s->resolver, &need, &s->errors) != Status::kOk)
      throw Error(std::string("runtime: ") + s->errors.message());
    void* arena =
        std::aligned_alloc(Interpreter::kArenaAlignment, (need.total_bytes + 63) / 64 * 64 + 64);
    if (arena == nullptr)
      throw Error("out of memory for a " + std::to_string(need.total_bytes) + "-byte arena");
    s->arena.reset(static_cast<uint8_t*>(arena));
    if (s->interp.Init(s->model->model(), s->resolver, s->arena.get(), need.total_bytes,
                       &s->errors) != Status::kOk)
      throw Error(std::string("runtime: ") + s->errors.message());
    for (const ir::Node& n : graph.nodes) s->node_outputs.push_back(n.outputs);
    s->input = graph.inputs[0];
    s->traced.assign(graph.tensors.size(), false);
    return std::unique_ptr<GraphExecutor>(new GraphExecutor(std::move(s)));
  });
}

int64_t GraphExecutor::input_size() const { return s_->interp.input(0).num_elements(); }
int GraphExecutor::num_outputs() const { return s_->interp.num_outputs(); }

Expected<Unit> GraphExecutor::Run(std::span<const float> input) {
  TensorView& in = s_->interp.input(0);
  if (static_cast<int64_t>(input.size()) != in.num_elements())
    return Error("sample has " + std::to_string(input.size()) + " values, the input takes " +
                 std::to_string(in.num_elements()));
  const bool per_tensor = in.quant.present() && in.quant.axis < 0 && in.quant.scale[0] > 0;
  if (in.dtype == DType::FLOAT32) {
    std::memcpy(in.data, input.data(), input.size_bytes());
  } else if (per_tensor && in.dtype == DType::INT8) {
    QuantizeInto(input, in.quant, in.as<int8_t>());
  } else if (per_tensor && in.dtype == DType::UINT8) {
    QuantizeInto(input, in.quant, in.as<uint8_t>());
  } else {
    return Error(std::string("cannot feed float data to a ") + DTypeName(in.dtype) + " input");
  }
  // No operator writes the graph input: a traced input is recorded here.
  if (s_->input >= 0 && s_->traced[s_->input]) ToFloat(in, s_->values[s_->input]);
  s_->interp.set_observer(s_->values.empty() ? nullptr : &s_->observer);
  if (s_->interp.Invoke() != Status::kOk)
    return Error(std::string("runtime: ") + s_->errors.message());
  return Unit{};
}

std::vector<float> GraphExecutor::Output(int i) const {
  std::vector<float> out;
  ToFloat(s_->interp.output(i), out);
  return out;
}

void GraphExecutor::Trace(const std::vector<int>& tensors) {
  for (int t : tensors) {
    if (t < 0 || t >= static_cast<int>(s_->traced.size())) continue;
    s_->traced[t] = true;
    s_->values[t];
  }
  s_->observer.end = &GraphExecutor::OnOpEnd;
  s_->observer.user = this;
}

const std::vector<float>& GraphExecutor::Traced(int tensor) const {
  static const std::vector<float> kEmpty;
  auto it = s_->values.find(tensor);
  return it == s_->values.end() ? kEmpty : it->second;
}

// Copies an operator's traced outputs the moment it finishes: later operators may reuse the
// storage (memory plan) or overwrite it in place.
void GraphExecutor::OnOpEnd(void* self, int op) {
  State& s = *static_cast<GraphExecutor*>(self)->s_;
  if (op < 0 || op >= static_cast<int>(s.node_outputs.size())) return;
  for (int t : s.node_outputs[op])
    if (t >= 0 && s.traced[t]) ToFloat(s.interp.tensor(t), s.values[t]);
}

double SqnrDb(double signal_power, double noise_power) {
  if (noise_power <= 0) return std::numeric_limits<double>::infinity();
  if (signal_power <= 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal_power / noise_power);
}

void SqnrAccumulator::Add(std::span<const float> reference, std::span<const float> approx) {
  const size_t n = std::min(reference.size(), approx.size());
  for (size_t k = 0; k < n; ++k) {
    const double x = reference[k], d = x - static_cast<double>(approx[k]);
    signal += x * x;
    noise += d * d;
  }
}

Expected<LayerSqnrReport> MeasureLayerSqnr(const ir::Graph& float_graph, const ir::Graph& quantized,
                                           const Dataset& data, int64_t max_samples,
                                           const ProgressFn& progress) {
  const int64_t available = static_cast<int64_t>(data.samples.size());
  const int64_t n = max_samples > 0 ? std::min(max_samples, available) : available;
  if (n == 0) return Error("layer SQNR: no samples");

  // Pairs (float tensor, quantized tensor) of node outputs computed by both graphs.
  std::map<std::string, int> quantized_by_name;
  for (size_t t = 0; t < quantized.tensors.size(); ++t)
    if (!quantized.tensors[t].constant)
      quantized_by_name[quantized.tensors[t].name] = static_cast<int>(t);
  struct Match {
    int float_tensor, quant_tensor;
    std::string node, op;
  };
  std::vector<Match> matches;
  for (const ir::Node& node : float_graph.nodes)
    for (int t : node.outputs) {
      auto it = quantized_by_name.find(float_graph.tensors[t].name);
      if (it == quantized_by_name.end()) continue;
      if (quantized.tensors[it->second].shape != float_graph.tensors[t].shape) continue;
      matches.push_back({t, it->second, node.name, opm::EnumNameOpCode(node.op)});
    }

  Expected<std::unique_ptr<GraphExecutor>> fx = GraphExecutor::Create(float_graph);
  if (!fx) return Error("layer SQNR: float graph: " + fx.message());
  Expected<std::unique_ptr<GraphExecutor>> qx = GraphExecutor::Create(quantized);
  if (!qx) return Error("layer SQNR: quantized graph: " + qx.message());
  std::vector<int> ft, qt;
  for (const Match& m : matches) {
    ft.push_back(m.float_tensor);
    qt.push_back(m.quant_tensor);
  }
  (*fx)->Trace(ft);
  (*qx)->Trace(qt);

  std::vector<SqnrAccumulator> acc(matches.size());
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float>& x = data.samples[i];
    Expected<Unit> a = (*fx)->Run(x);
    if (!a) return Error("layer SQNR: sample " + std::to_string(i) + ": " + a.message());
    Expected<Unit> b = (*qx)->Run(x);
    if (!b) return Error("layer SQNR: sample " + std::to_string(i) + ": " + b.message());
    for (size_t m = 0; m < matches.size(); ++m)
      acc[m].Add((*fx)->Traced(matches[m].float_tensor), (*qx)->Traced(matches[m].quant_tensor));
    if (progress) progress(i + 1, n);
  }

  LayerSqnrReport report;
  report.samples = n;
  for (size_t m = 0; m < matches.size(); ++m) {
    TensorSqnr s;
    s.tensor = float_graph.tensors[matches[m].float_tensor].name;
    s.node = matches[m].node;
    s.op = matches[m].op;
    s.dtype = opm::EnumNameDType(quantized.tensors[matches[m].quant_tensor].dtype);
    s.signal_power = acc[m].signal;
    s.noise_power = acc[m].noise;
    s.sqnr_db = acc[m].db();
    report.tensors.push_back(std::move(s));
  }
  return report;
}

}  // namespace outpost::quant
