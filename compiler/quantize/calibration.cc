// Calibrate(): runs the float graph with the runtime itself (emit, load, interpret, as constant
// folding does), watching every operator's outputs through the interpreter's observer hook.
//
// Two passes over the data: the first records each tensor's range, zeros and channel means;
// the second, knowing each range, fills histograms of fixed resolution. (A histogram grown
// while values arrive would have to be re-binned, blurring it; a second pass is exact.)
#include <cmath>
#include <cstring>
#include <memory>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "compiler/quantize/graph_prep.h"
#include "compiler/quantize/quantizer.h"
#include "compiler/quantize/tensor_stats.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::quant {
namespace {

// Below this many samples the ranges are likely to miss parts of the real distribution.
constexpr int64_t kFewSamples = 100;

struct AlignedBlock {
  std::unique_ptr<uint8_t[]> storage;
  uint8_t* data = nullptr;
  explicit AlignedBlock(size_t n) : storage(new uint8_t[n + 64]()) {
    data = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  }
};

// What the observer needs: the interpreter, which tensors each op writes, the accumulators.
struct Watch {
  Interpreter* interp = nullptr;
  std::vector<std::vector<int>> outputs_of_op;  // float activation outputs per operator
  std::vector<TensorStats> stats;               // by tensor index
  std::vector<std::vector<double>> channel_sums;
  bool histogram_pass = false;

  void Record(int tensor) {
    const TensorView& v = interp->tensor(tensor);
    const float* p = v.as<float>();
    const int64_t n = v.num_elements();
    TensorStats& s = stats[static_cast<size_t>(tensor)];
    if (histogram_pass) {
      AccumulateHistogram(s, p, n);
      return;
    }
    AccumulateRange(s, p, n);
    std::vector<double>& sums = channel_sums[static_cast<size_t>(tensor)];
    if (v.rank < 2) return;
    const int64_t outer = v.dims[0];
    const int64_t channels = v.dims[1];
    const int64_t inner = n / (outer * channels);
    if (sums.empty()) sums.assign(static_cast<size_t>(channels), 0.0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        const float* q = p + (o * channels + c) * inner;
        double acc = 0;
        for (int64_t k = 0; k < inner; ++k)
          if (std::isfinite(q[k])) acc += q[k];
        sums[static_cast<size_t>(c)] += acc;
      }
  }

  static void OnEnd(void* self, int op) {
    auto* w = static_cast<Watch*>(self);
    for (int t : w->outputs_of_op[static_cast<size_t>(op)]) w->Record(t);
  }
};

void CheckData(const ir::Graph& g, const Dataset& data) {
  if (g.inputs.size() != 1)
    throw Error("calibration needs a model with one input; this one has " +
                std::to_string(g.inputs.size()));
  const ir::Tensor& in = g.tensors[g.inputs[0]];
  if (in.dtype != opm::DType::FLOAT32)
    throw Error("model input '" + in.name + "' is " + opm::EnumNameDType(in.dtype) +
                ", not float32: calibrate the float model");
  if (data.samples.empty()) throw Error("calibration data is empty: no samples to calibrate on");
  if (data.sample_shape != in.shape)
    throw Error("calibration samples have shape " + ir::ShapeString(data.sample_shape) +
                ", the model input '" + in.name + "' takes " + ir::ShapeString(in.shape));
  const size_t want = static_cast<size_t>(in.num_elements());
  for (size_t i = 0; i < data.samples.size(); ++i) {
    const std::vector<float>& s = data.samples[i];
    if (s.size() != want)
      throw Error("calibration sample " + std::to_string(i) + " has " + std::to_string(s.size()) +
                  " values, the model input '" + in.name + "' " + ir::ShapeString(in.shape) +
                  " takes " + std::to_string(want));
    for (size_t k = 0; k < s.size(); ++k)
      if (!std::isfinite(s[k]))
        throw Error("calibration sample " + std::to_string(i) + " holds " +
                    (std::isnan(s[k]) ? "NaN" : "Inf") + " (value " + std::to_string(k) + " of " +
                    std::to_string(s.size()) + ")");
  }
}

}  // namespace

Expected<CalibrationResult> Calibrate(const ir::Graph& float_graph, const Dataset& data,
                                      const CalibrationOptions& options,
                                      const ProgressFn& progress) {
  return Capture([&]() -> CalibrationResult {
    if (options.histogram_bins < 64 || options.histogram_bins % 2 != 0)
      throw Error("histogram bins must be even and at least 64, got " +
                  std::to_string(options.histogram_bins));
    CheckIsFloatGraph(float_graph);
    CheckData(float_graph, data);
    CheckFiniteConstants(float_graph);

    ir::Graph g = PrepareForInt8(float_graph);
    g.self_test.reset();
    plan::PlanMemory(g);
    const std::vector<uint8_t> bytes = emit::EmitOpm(g);
    AlignedBlock file(bytes.size());
    std::memcpy(file.data, bytes.data(), bytes.size());
    ErrorReporter errors;
    Model model;
    if (model.Load(file.data, bytes.size(), &errors) != Status::kOk)
      throw Error(std::string("calibration: the runtime refused the float model: ") +
                  errors.message());
    AllOpsResolver resolver;
    if (RegisterAllKernels(resolver) != Status::kOk)
      throw Error("internal: kernel table larger than the resolver");
    ArenaRequirement need;
    if (Interpreter::Measure(model, resolver, &need, &errors) != Status::kOk)
      throw Error(std::string("calibration: ") + errors.message());
    AlignedBlock arena(need.total_bytes);
    Interpreter interp;
    if (interp.Init(model, resolver, arena.data, need.total_bytes, &errors) != Status::kOk)
      throw Error(std::string("calibration: ") + errors.message());

    Watch w;
    w.interp = &interp;
    w.stats.resize(g.tensors.size());
    w.channel_sums.resize(g.tensors.size());
    for (const ir::Node& n : g.nodes) {
      std::vector<int> outs;
      for (int o : n.outputs)
        if (g.tensors[o].dtype == opm::DType::FLOAT32) outs.push_back(o);
      w.outputs_of_op.push_back(std::move(outs));
    }
    OpObserver observer;
    observer.end = &Watch::OnEnd;
    observer.user = &w;
    interp.set_observer(&observer);

    const int input = g.inputs[0];
    const int passes = options.histograms ? 2 : 1;
    const int64_t n = static_cast<int64_t>(data.samples.size());
    for (int pass = 0; pass < passes; ++pass) {
      w.histogram_pass = pass == 1;
      if (w.histogram_pass)
        for (TensorStats& s : w.stats)
          if (s.count > 0) BeginHistogram(s, options.histogram_bins);
      for (int64_t i = 0; i < n; ++i) {
        const std::vector<float>& sample = data.samples[static_cast<size_t>(i)];
        std::memcpy(interp.input(0).data, sample.data(), sample.size() * sizeof(float));
        w.Record(input);
        errors.Clear();
        if (interp.Invoke() != Status::kOk)
          throw Error("calibration: inference failed on sample " + std::to_string(i) + ": " +
                      errors.message());
        if (progress) progress(pass * n + i + 1, passes * n);
      }
    }

    CalibrationResult r;
    r.samples = n;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      TensorStats& s = w.stats[t];
      if (s.count == 0 && !s.has_nan_or_inf) continue;
      const std::vector<double>& sums = w.channel_sums[t];
      if (!sums.empty()) {
        const double per_channel = static_cast<double>(g.tensors[t].num_elements()) /
                                   static_cast<double>(sums.size()) * static_cast<double>(n);
        for (double v : sums) s.channel_mean.push_back(v / per_channel);
      }
      if (s.count > 0 && s.min == 0 && s.max == 0)
        r.warnings.push_back("tensor '" + g.tensors[t].name +
                             "' was 0 on every calibration sample");
      r.tensors[g.tensors[t].name] = std::move(s);
    }
    if (n < kFewSamples)
      r.warnings.push_back("only " + std::to_string(n) +
                           " calibration samples: the ranges may miss parts of the real "
                           "distribution (a few hundred representative samples are typical)");
    return r;
  });
}

}  // namespace outpost::quant
