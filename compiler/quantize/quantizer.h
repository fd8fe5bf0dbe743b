// Post-training quantization of a float graph into the int8 scheme of docs/quantization.md.
//
// The flow: optionally EqualizeCrossLayer() (cross_layer_equalization.h) on the float graph,
// then Calibrate() runs the float graph once over calibration data and records, for every
// float activation tensor, its range and a histogram; QuantizeGraph() then turns the graph into
// an integer one using those statistics. Calibration is the slow part and is done once;
// QuantizeGraph() is cheap, so the accuracy gate (accuracy_gate.h) calls it many times with
// different layers kept in float.
//
// Naming contract: a tensor that is quantized keeps its float tensor's name, so float and
// integer graphs can be compared layer by layer; tensors the quantizer adds (quantize /
// dequantize results, int8 weights, int32 biases) get new names. A node keeps its name too.
// The model's inputs and outputs are its interface and keep their names and (unless
// QuantizeOptions::int8_io) stay float: the int8 tensor computed for a graph output is then
// named NAME_int8 and a DEQUANTIZE writes NAME.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"

namespace outpost::quant {

// Samples for a single-input model, already preprocessed into the input's float layout.
struct Dataset {
  std::vector<int64_t> sample_shape;        // the model input's shape (batch 1)
  std::vector<std::vector<float>> samples;  // each num_elements(sample_shape) values
  std::vector<int> labels;                  // one per sample, or empty (unlabelled)
};

// Progress of long work: done out of total (total > 0).
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

enum class CalibrationMethod { kMinMax, kPercentile, kEntropy, kMse };
const char* CalibrationMethodName(CalibrationMethod m);  // "minmax", "percentile", ...

// What calibration saw of one float tensor.
struct TensorStats {
  float min = 0;
  float max = 0;
  // Histogram of values over [-hist_limit, hist_limit] (symmetric, so a range search can grow
  // either side); values outside land in the end bins.
  float hist_limit = 0;
  std::vector<uint64_t> histogram;
  uint64_t count = 0;
  bool has_nan_or_inf = false;
  // Per-channel (axis 1) means of the tensor, for bias correction of the layers reading it.
  std::vector<double> channel_mean;
  // Values exactly 0 (ReLU outputs have many; 0 is always exactly representable, so the MSE
  // search does not charge them rounding noise).
  uint64_t zeros = 0;
};

struct CalibrationResult {
  std::map<std::string, TensorStats> tensors;  // by tensor name
  int64_t samples = 0;
  // E.g. too few samples for a representative range, a tensor that was 0 on every sample.
  std::vector<std::string> warnings;
};

struct CalibrationOptions {
  int histogram_bins = 2048;  // even, at least 64
  // Histograms need a second pass over the data (the first finds each tensor's range); only
  // the minmax method and bias correction can do without them.
  bool histograms = true;
};

// Runs `float_graph` over every sample. Errors: empty data, a sample of the wrong size,
// NaN or Inf in the data (naming the sample) or in a weight (naming the tensor).
Expected<CalibrationResult> Calibrate(const ir::Graph& float_graph, const Dataset& data,
                                      const CalibrationOptions& options = {},
                                      const ProgressFn& progress = {});

enum class WeightOnly { kNone, kFloat16, kInt8 };

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.99;  // kPercentile: the share of values the range keeps
  bool per_channel = true;    // weights per output channel (false: per tensor)
  // Bias correction (Nagel et al. 2019): subtract the expected output error of the quantized
  // weights, (W_q - W) . E[x], using the per-channel input means calibration recorded.
  bool bias_correction = false;
  // Nodes (by name) left in float, with QUANTIZE / DEQUANTIZE around them.
  std::set<std::string> float_nodes;
  // When non-empty, only these nodes are quantized (sensitivity analysis); all others float.
  std::set<std::string> only_nodes;
  // Weight-only modes keep activations float and store weights as fp16 or int8.
  WeightOnly weight_only = WeightOnly::kNone;
  // Model inputs and outputs in int8 (their quantization parameters in the model) rather than
  // float with QUANTIZE / DEQUANTIZE at the edges.
  bool int8_io = false;
  // Whether the runtime has a kernel for (op, dtype of its first input). Empty: ask this
  // build's resolver (RegisterAllKernels). Tests substitute their own.
  std::function<bool(opm::OpCode, opm::DType)> has_kernel;
};

struct LayerReport {
  std::string node;   // node name
  std::string op;     // opcode name
  bool quantized = false;
  std::string why_float;  // when not quantized: "no int8 kernel", "kept float by the gate", ...
  // When quantized: how, e.g. "weights per-channel", "weights fp16", "bias corrected".
  std::string detail;
  // When quantized (int8 activations): the real range the output's int8 values represent.
  float out_min = 0;
  float out_max = 0;
};

struct QuantizeReport {
  std::vector<LayerReport> layers;
  uint64_t float_weight_bytes = 0;  // constants before
  uint64_t weight_bytes = 0;        // constants after
  std::vector<std::string> warnings;
};

// The quantized graph: unplanned (run plan::PlanMemory before emitting, or PlanAndSelfTest in
// finalize.h, which also embeds a self-test), validated.
// Errors: nothing to quantize, statistics missing for a tensor, NaN/Inf in a weight (or in a
// tensor's calibration data), a graph that is already quantized. Weight-only modes need no
// statistics unless bias_correction is set.
Expected<ir::Graph> QuantizeGraph(const ir::Graph& float_graph, const CalibrationResult& stats,
                                  const QuantizeOptions& options, QuantizeReport* report = nullptr);

}  // namespace outpost::quant
