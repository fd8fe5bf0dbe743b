// Layer-by-layer comparison of a quantized graph with its float original: the signal-to-
// quantization-noise ratio (SQNR) of every intermediate tensor, matched by name (the quantizer
// keeps a float tensor's name on its quantized version, quantizer.h).
//
//   SQNR = 10 log10( sum x^2 / sum (x - x_q)^2 )  over all samples and elements, in dB,
//
// with x the float graph's value and x_q the quantized graph's value dequantized with its
// tensor's scale and zero point. Every 6 dB is about one bit of precision; int8 at its best is
// near 40-50 dB on a well-scaled tensor and errors accumulate layer by layer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// An IR graph emitted, verified and bound to an arena once, then run on many samples with the
// runtime's kernels. Optionally copies chosen intermediate tensors (as float, dequantized) right
// after the operator that writes them, before the memory plan reuses their storage.
class GraphExecutor {
 public:
  // The graph must have one input. Errors: emission or verification failures, the runtime
  // refusing an operator.
  static Expected<std::unique_ptr<GraphExecutor>> Create(const ir::Graph& graph);
  ~GraphExecutor();
  GraphExecutor(const GraphExecutor&) = delete;
  GraphExecutor& operator=(const GraphExecutor&) = delete;

  // Element count of the input.
  int64_t input_size() const;
  int num_outputs() const;
  // Runs one sample given as float values (quantized with the input's parameters when the
  // input is int8/uint8). Errors: wrong size, a kernel failing on the data.
  Expected<Unit> Run(std::span<const float> input);
  // Output `i` of the last run as float (dequantized when quantized).
  std::vector<float> Output(int i) const;

  // Records these tensors (IR tensor indices of the graph given to Create) on every Run.
  void Trace(const std::vector<int>& tensors);
  // Values of a traced tensor from the last Run.
  const std::vector<float>& Traced(int tensor) const;

 private:
  struct State;
  explicit GraphExecutor(std::unique_ptr<State> state);
  static void OnOpEnd(void* self, int op);
  std::unique_ptr<State> s_;
};

// SQNR in dB from accumulated powers: +inf when the noise is 0, -inf when only noise.
double SqnrDb(double signal_power, double noise_power);

// Accumulates sum x^2 and sum (x - y)^2 of a float reference x and an approximation y.
struct SqnrAccumulator {
  double signal = 0;
  double noise = 0;
  void Add(std::span<const float> reference, std::span<const float> approx);
  double db() const { return SqnrDb(signal, noise); }
};

struct TensorSqnr {
  std::string tensor;  // tensor name (the same in both graphs)
  std::string node;    // the float graph's node writing it
  std::string op;      // its opcode, e.g. "CONV_2D"
  std::string dtype;   // the tensor's dtype in the quantized graph, e.g. "INT8"
  double sqnr_db = 0;
  double signal_power = 0;  // sum x^2
  double noise_power = 0;   // sum (x - x_q)^2
};

struct LayerSqnrReport {
  std::vector<TensorSqnr> tensors;  // in the float graph's execution order
  int64_t samples = 0;
};

// Runs both graphs on the first `max_samples` samples of `data` (0: all) and compares every
// node output of the float graph that the quantized graph also computes (same name). Errors:
// no samples, a sample of the wrong size, a graph the runtime cannot run.
Expected<LayerSqnrReport> MeasureLayerSqnr(const ir::Graph& float_graph, const ir::Graph& quantized,
                                           const Dataset& data, int64_t max_samples = 0,
                                           const ProgressFn& progress = {});

}  // namespace outpost::quant
