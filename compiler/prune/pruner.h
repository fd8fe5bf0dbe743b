// Structured channel pruning of a float graph (docs/compression.md).
//
// The flow: AnalyzeChannels() finds the prunable channel groups (channel_groups.h); each group's
// channels are ranked by a criterion; the same share of channels is removed from every group
// (the share is given, or searched for a MAC or latency target); ApplyChannelPruning() cuts the
// graph; then, with calibration data, every dense layer that lost input channels is refitted by
// least squares so that its output on the calibration data stays as close as possible to the
// original layer's output (He et al. 2017, "Channel pruning for accelerating very deep neural
// networks"), without retraining.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/prune/channel_groups.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::prune {

enum class Criterion {
  kL1,  // sum of |w| of the channel's weight rows (Li et al. 2017)
  kL2,  // Euclidean norm of the rows
  // Greedy: drop, one at a time, the channel whose removal adds least to the next layers' output
  // error on the calibration data (ThiNet, Luo et al. 2017); needs calibration data.
  kReconstruction,
};
const char* CriterionName(Criterion c);  // "l1", "l2", "reconstruction"

struct ReconstructionOptions {
  // Ridge term, relative to the mean diagonal of the normal equations: keeps the fit stable when
  // channels are correlated, and a fully connected layer fitted on fewer samples than inputs.
  double ridge_conv = 1e-3;
  double ridge_fc = 1e-2;
  // Rows (output positions) sampled per convolution for the fit, spread over the samples.
  int64_t conv_rows = 16384;
};

struct PruneOptions {
  Criterion criterion = Criterion::kL1;
  // Exactly one target: the share of each group's channels to remove, a MAC budget, or a cost
  // budget measured by `cost` (e.g. latency in ms on this host) on the pruned graph.
  std::optional<double> ratio;
  std::optional<uint64_t> target_macs;
  std::optional<double> target_cost;
  std::function<Expected<double>(const ir::Graph&)> cost;
  std::string cost_name = "cost";  // for messages, e.g. "latency (ms)"
  int64_t min_channels = 1;        // a group never drops below this many channels
  int64_t channel_multiple = 1;    // kept channels rounded to a multiple (SIMD-friendly widths)
  std::set<std::string> exclude;   // nodes (by name) whose output channels are kept
  bool reconstruct = true;         // needs calibration data
  ReconstructionOptions reconstruction;
};

struct GroupReport {
  std::string name;                    // first producer
  std::vector<std::string> producers;  // dense layers writing the channels
  std::vector<std::string> consumers;  // dense layers reading them
  int64_t channels = 0;
  int64_t kept = 0;
};

struct FrozenReport {
  std::string name;
  std::string why;
};

struct LayerFit {
  std::string node;
  int64_t rows = 0;     // equations (sampled output positions)
  int64_t unknowns = 0; // weights + bias per output channel
  // Relative squared error of the layer's output against the original layer's output on the
  // calibration rows: with the pruned weights as they were cut, and after the refit.
  double error_before = 0;
  double error_after = 0;
};

struct PruneReport {
  std::string criterion;
  double ratio = 0;  // share of each group's channels removed
  uint64_t macs_before = 0;
  uint64_t macs_after = 0;
  uint64_t weight_bytes_before = 0;
  uint64_t weight_bytes_after = 0;
  std::optional<double> cost_before;  // when a cost target was given
  std::optional<double> cost_after;
  std::vector<GroupReport> groups;
  std::vector<FrozenReport> frozen;
  std::vector<LayerFit> fits;
  int64_t calibration_samples = 0;
  std::vector<std::string> notes;
};

struct PruneResult {
  ir::Graph graph;
  PruneReport report;
};

// Progress of a phase ("search", "importance", "reconstruct"): done out of total.
using PruneProgressFn = std::function<void(const std::string& phase, int64_t done, int64_t total)>;

// `calibration` may be null only when neither reconstruction nor the reconstruction criterion
// is asked for. Errors: no or several targets, a target no pruning reaches, a quantized graph,
// no prunable group, bad calibration data.
Expected<PruneResult> PruneGraph(const ir::Graph& float_graph, const quant::Dataset* calibration,
                                 const PruneOptions& options, const PruneProgressFn& progress = {});

// Constant bytes of a graph (weights and biases).
uint64_t WeightBytes(const ir::Graph& g);

}  // namespace outpost::prune
