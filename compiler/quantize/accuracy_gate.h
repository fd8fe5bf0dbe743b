// The accuracy gate: quantize, measure what int8 costs on a validation set, and if the cost is
// over budget keep the most quantization-sensitive layers in float (mixed precision) until it
// fits, or fail.
//
//   1. The float model's top-1 accuracy and the all-int8 model's, on every validation sample;
//      plus the SQNR of every layer of the int8 model (layer_sqnr.h) on a few samples.
//   2. If float - int8 > max_drop: each quantized layer is quantized alone (only_nodes) and
//      scored by accuracy and final-output SQNR on a subset of the validation set (the first
//      `sensitivity_samples`). The larger accuracy loss ranks first, counted in steps of half
//      the allowed drop (small differences on a subset are noise); within a step, the lower
//      SQNR. Ops that only move data cannot be int8 alone: they follow their input and are
//      not ranked.
//   3. Greedy search: keep the 1, 2, ... most sensitive layers in float (float_nodes); each
//      candidate is checked on the subset and, when it fits there, on the whole set. The first
//      that fits on the whole set is the result.
//   4. When only an all-float model would fit, the gate fails: the caller must not ship it.
//
// Without labels (or for a model whose output is not a score vector) accuracy cannot be
// measured: the gate then requires the final output's SQNR against the float model to be at
// least `min_output_sqnr_db`, and the result says so.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/quantize/layer_sqnr.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// Progress of a phase ("float", "int8", "layer sqnr", "sensitivity", "search", "final").
using GateProgressFn = std::function<void(const std::string& phase, int64_t done, int64_t total)>;

struct GateOptions {
  double max_drop = 1.0;  // accuracy points (percent): float top-1 minus int8 top-1
  // Samples (from the start of the validation set) for the sensitivity pass and for screening
  // candidates in the search; 0 means all. Final accuracies always use every sample.
  int64_t sensitivity_samples = 1000;
  int64_t sqnr_samples = 100;        // samples for the per-layer SQNR table
  double min_output_sqnr_db = 30.0;  // the criterion when accuracy cannot be measured
  GateProgressFn progress;
};

struct LayerSensitivity {
  std::string node;
  std::string op;
  double accuracy = 0;        // % on the subset with only this node quantized (labelled data)
  double output_sqnr_db = 0;  // final output vs the float model, same samples
};

// One candidate of the greedy search.
struct GateStep {
  int float_layers = 0;     // most sensitive layers kept in float
  double subset_score = 0;  // accuracy % (or output SQNR dB) on the subset
  bool checked_on_all = false;
  double all_score = 0;  // on every sample, when checked
};

struct GateResult {
  bool passed = false;
  bool labelled = true;   // false: gated on output SQNR instead of accuracy
  std::string criterion;  // e.g. "top-1 accuracy drop <= 1.00 points"
  std::vector<std::string> notes;
  int64_t eval_samples = 0;
  int64_t sensitivity_samples = 0;

  double float_accuracy = 0;         // % on every sample (labelled)
  double float_subset_accuracy = 0;  // % on the sensitivity subset
  double int8_accuracy = 0;          // % with every layer the quantizer handles in int8
  double int8_output_sqnr_db = 0;
  double final_accuracy = 0;  // % of the returned graph
  double final_output_sqnr_db = 0;
  double int8_drop() const { return float_accuracy - int8_accuracy; }
  double final_drop() const { return float_accuracy - final_accuracy; }

  LayerSqnrReport layer_sqnr;                 // of the all-int8 model
  std::vector<LayerSensitivity> sensitivity;  // most sensitive first; empty if int8 passed
  std::vector<GateStep> steps;
  std::vector<std::string> kept_float;  // layers the gate kept in float

  ir::Graph graph;                  // the result (when !passed: the last candidate tried)
  QuantizeReport quantize_report;   // of `graph`
  uint64_t float_weight_bytes = 0;  // constants of the float model
  uint64_t weight_bytes = 0;        // constants of `graph`
  std::string failure;              // why the gate failed
};

// `float_graph` is what gets quantized (e.g. after EqualizeCrossLayer); `reference`, when
// given, is the model accuracy is compared with (e.g. the graph before equalization), else
// `float_graph` itself. `stats` comes from Calibrate(float_graph, ...). Errors: bad data or
// options, a graph the runtime cannot run, the quantizer failing on the base options. A gate
// that is not met is not an Error: it returns passed = false with the reason.
Expected<GateResult> RunAccuracyGate(const ir::Graph& float_graph, const CalibrationResult& stats,
                                     const QuantizeOptions& base, const Dataset& validation,
                                     const GateOptions& options,
                                     const ir::Graph* reference = nullptr);

// The report: accuracies and drop, per-layer SQNR, sensitivity ranking, the layers kept float,
// sizes, and PASS or FAIL with the reason.
void PrintGateReport(const GateResult& result, std::ostream& out);

}  // namespace outpost::quant
