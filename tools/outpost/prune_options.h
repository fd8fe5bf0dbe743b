// The pruning options `outpost prune` and `outpost optimize` share, checked the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/ir/graph.h"
#include "compiler/prune/magnitude_sparsity.h"
#include "compiler/prune/pruner.h"

namespace outpost::cli {

// Exactly one of these says how much to prune.
struct PruneTargetArgs {
  std::optional<double> ratio;
  std::string target_macs;  // "3000000", "3M", "800K", or "50%" of the model's MACs
  std::optional<double> target_latency_ms;
};

// Unstructured magnitude sparsity, alone or after the channel pruning.
struct SparsityArgs {
  std::optional<double> sparsity;
  int64_t min_weights = 1024;
};

// How channels are chosen and the layers refitted.
struct PruneMethodArgs {
  std::string criterion = "auto";  // reconstruction with calibration data, else l1
  bool no_reconstruct = false;
  double ridge = 0;  // 0: the defaults (conv 1e-3, fully connected 1e-2)
  int64_t min_channels = 1;
  int64_t channel_multiple = 1;
  std::vector<std::string> exclude;
};

// --ratio, --target-macs, --target-latency-ms.
void AddPruneTargetOptions(CLI::App* app, PruneTargetArgs* args);
// --criterion, --no-reconstruct, --ridge, --min-channels, --channel-multiple, --exclude.
void AddPruneMethodOptions(CLI::App* app, PruneMethodArgs* args);

// --sparsity, --sparsity-min-weights.
void AddSparsityOptions(CLI::App* app, SparsityArgs* args);

// Throws UsageError for several targets, none and no sparsity, or values out of range.
void CheckPruneArgs(const PruneTargetArgs& t, const PruneMethodArgs& m, const SparsityArgs& s);
void CheckSparsityArgs(const SparsityArgs& s);
bool HasPruneTarget(const PruneTargetArgs& t);
// The library options for --sparsity (set) and --exclude.
prune::SparsityOptions MakeSparsityOptions(const SparsityArgs& s, const PruneMethodArgs& m);
// Checks the method options only (optimize chooses its own ratio).
void CheckPruneMethodArgs(const PruneMethodArgs& m);

// The library options; a latency target measures candidates with MedianLatencyMs on `sample`.
prune::PruneOptions MakePruneOptions(const PruneTargetArgs& t, const PruneMethodArgs& m,
                                     bool have_data, const ir::Graph& g,
                                     const std::vector<float>& sample);
prune::PruneOptions MakePruneMethod(const PruneMethodArgs& m, bool have_data);

// "2.5MB" -> {2.5, "MB"}; nullopt when the text does not start with a finite number.
struct NumberWithUnit {
  double value = 0;
  std::string unit;
};
std::optional<NumberWithUnit> SplitNumber(const std::string& text);

// "3M" -> 3000000, "50%" -> half of `model_macs`. Throws UsageError naming `option`.
uint64_t ParseMacs(const std::string& text, uint64_t model_macs, const std::string& option);

}  // namespace outpost::cli
