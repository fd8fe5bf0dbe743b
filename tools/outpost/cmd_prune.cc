// outpost prune: structured channel pruning of a float model (docs/compression.md).
//
// The flow: float graph -> channel groups -> ranking -> the cut (a ratio, or searched for a MAC
// or latency target) -> least-squares refit of the layers after each cut on calibration data
// -> memory plan + self-test -> .opm, then a summary: groups, refits, MACs, size, latency and,
// with validation data, accuracy before and after.
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "compiler/prune/pruner.h"
#include "io/mapped_file.h"
#include "compiler/quantize/dataset.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/float_model.h"
#include "tools/outpost/optimized_model.h"
#include "tools/outpost/prune_options.h"

namespace outpost::cli {
namespace {

struct PruneCliArgs {
  std::string model;
  std::string output;
  PruneTargetArgs target;
  PruneMethodArgs method;
  SparsityArgs sparsity;
  std::string calib;
  int64_t calib_limit = 1000;
  std::string val;
  std::string val_labels;
  int64_t val_limit = 0;
  std::string json;
  bool verbose = false;
  OnnxInputArgs inputs;
};

std::string SharePercent(double share) { return FormatFixed(100.0 * share, 1) + "%"; }

void PrintFits(const std::vector<prune::LayerFit>& layers) {
  Table fits({"layer", "rows", "unknowns", "error cut", "error refit"},
             {false, true, true, true, true});
  for (const prune::LayerFit& f : layers)
    fits.AddRow({f.node, FormatCount(f.rows), FormatCount(f.unknowns),
                 FormatFixed(f.error_before, 4), FormatFixed(f.error_after, 4)});
  fits.Print(std::cout, "    ");
}

nlohmann::json FitsJson(const std::vector<prune::LayerFit>& layers) {
  nlohmann::json j = nlohmann::json::array();
  for (const prune::LayerFit& f : layers)
    j.push_back({{"layer", f.node}, {"rows", f.rows}, {"unknowns", f.unknowns},
                 {"error_cut", f.error_before}, {"error_refit", f.error_after}});
  return j;
}

void PrintSparsity(const prune::SparsityReport& s) {
  std::cout << "  sparsity:    " << SharePercent(s.sparsity)
            << " of each layer's smallest weights set to zero (" << FormatCount(s.zeros)
            << " of " << FormatCount(s.weights) << " weights in " << s.layers.size()
            << " layers are zero)\n";
  Table layers({"layer", "weights", "zeros", "threshold/max"}, {false, true, true, true});
  for (const prune::SparseLayer& l : s.layers)
    layers.AddRow({l.node, FormatCount(l.weights), FormatCount(l.zeros_after),
                   FormatFixed(l.threshold, 4)});
  layers.Print(std::cout, "    ");
  for (const std::string& k : s.skipped) std::cout << "    left dense: " << k << "\n";
  if (!s.fits.empty()) {
    std::cout << "  sparse refit on " << s.calibration_samples
              << " calibration samples (relative output error, cut -> refit):\n";
    PrintFits(s.fits);
  }
}

void PrintChannels(const prune::PruneReport& r) {
  std::cout << "  criterion:   " << r.criterion << ", " << SharePercent(r.ratio)
            << " of each group's channels removed";
  if (!r.fits.empty())
    std::cout << ", least-squares refit on " << r.calibration_samples << " calibration samples";
  std::cout << "\n";
  Table groups({"group", "producers", "read by", "channels", "kept"},
               {false, true, true, true, true});
  for (const prune::GroupReport& g : r.groups)
    groups.AddRow({g.name, std::to_string(g.producers.size()), std::to_string(g.consumers.size()),
                   std::to_string(g.channels), std::to_string(g.kept)});
  groups.Print(std::cout, "    ");
  for (const prune::FrozenReport& f : r.frozen)
    std::cout << "    kept whole: " << f.name << " (" << f.why << ")\n";
  if (!r.fits.empty()) {
    std::cout << "  refit (relative output error on the calibration rows, cut -> refit):\n";
    PrintFits(r.fits);
  }
}

void PrintTotals(const prune::PruneReport& r, const WrittenModel& w,
                 std::optional<double> acc_before, std::optional<double> acc_after,
                 double ms_before, double ms_after) {
  const double macs_cut = r.macs_before ? 1.0 - double(r.macs_after) / double(r.macs_before) : 0;
  std::cout << "  MACs:        " << FormatCount(r.macs_before) << " -> "
            << FormatCount(r.macs_after) << " (-" << SharePercent(macs_cut) << ")\n";
  std::cout << "  weights:     " << FormatBytesExact(r.weight_bytes_before) << " -> "
            << FormatBytesExact(r.weight_bytes_after) << "\n";
  std::cout << "  latency:     " << FormatFixed(ms_before, 3) << " ms -> "
            << FormatFixed(ms_after, 3) << " ms (median on this host, one thread)\n";
  if (acc_before && acc_after)
    std::cout << "  accuracy:    " << FormatFixed(*acc_before, 2) << "% -> "
              << FormatFixed(*acc_after, 2) << "% top-1 ("
              << FormatFixed(*acc_after - *acc_before, 2) << " points)\n";
  std::cout << "  file:        " << FormatBytesExact(w.file_bytes) << ", arena "
            << FormatBytesExact(w.arena_bytes)
            << (w.reference ? ", drift reference from the calibration data" : "") << "\n";
}

void PrintPruneSummary(const PruneCliArgs& a, const prune::PruneReport& r,
                       const std::optional<prune::SparsityReport>& sparse,
                       const WrittenModel& w, std::optional<double> acc_before,
                       std::optional<double> acc_after, double ms_before, double ms_after) {
  std::cout << "pruned " << a.model << " -> " << a.output << "\n";
  if (HasPruneTarget(a.target)) PrintChannels(r);
  if (sparse) PrintSparsity(*sparse);
  PrintTotals(r, w, acc_before, acc_after, ms_before, ms_after);
}

// The report as JSON, for scripts (bench/compression.py).
std::string PruneJson(const prune::PruneReport& r,
                      const std::optional<prune::SparsityReport>& sparse, const WrittenModel& w,
                      std::optional<double> acc_before, std::optional<double> acc_after,
                      double ms_before, double ms_after) {
  nlohmann::json j;
  j["criterion"] = r.criterion;
  j["ratio"] = r.ratio;
  j["macs_before"] = r.macs_before;
  j["macs_after"] = r.macs_after;
  j["weight_bytes_before"] = r.weight_bytes_before;
  j["weight_bytes_after"] = r.weight_bytes_after;
  j["latency_ms_before"] = ms_before;
  j["latency_ms_after"] = ms_after;
  j["file_bytes"] = w.file_bytes;
  j["arena_bytes"] = w.arena_bytes;
  j["calibration_samples"] = r.calibration_samples;
  if (acc_before) j["accuracy_before"] = *acc_before;
  if (acc_after) j["accuracy_after"] = *acc_after;
  j["groups"] = nlohmann::json::array();
  for (const prune::GroupReport& g : r.groups)
    j["groups"].push_back({{"name", g.name}, {"producers", g.producers},
                           {"consumers", g.consumers}, {"channels", g.channels},
                           {"kept", g.kept}});
  j["kept_whole"] = nlohmann::json::array();
  for (const prune::FrozenReport& f : r.frozen)
    j["kept_whole"].push_back({{"name", f.name}, {"why", f.why}});
  j["refits"] = FitsJson(r.fits);
  if (sparse) {
    nlohmann::json sj;
    sj["sparsity"] = sparse->sparsity;
    sj["weights"] = sparse->weights;
    sj["zeros"] = sparse->zeros;
    sj["layers"] = nlohmann::json::array();
    for (const prune::SparseLayer& l : sparse->layers)
      sj["layers"].push_back({{"layer", l.node}, {"weights", l.weights},
                              {"zeros", l.zeros_after}, {"threshold", l.threshold}});
    sj["left_dense"] = sparse->skipped;
    sj["refits"] = FitsJson(sparse->fits);
    j["sparsity"] = sj;
  }
  return j.dump(2) + "\n";
}

void RunPrune(const PruneCliArgs& a) {
  CheckPruneArgs(a.target, a.method, a.sparsity);
  if (a.calib_limit < 0) throw UsageError("--calib-limit must be 0 (all) or more");
  if (a.val_limit < 0) throw UsageError("--val-limit must be 0 (all) or more");
  if (!a.val_labels.empty() && a.val.empty()) throw UsageError("--val-labels needs --val DATA");
  const bool channels = HasPruneTarget(a.target);
  const bool needs_data =
      channels && (!a.method.no_reconstruct || a.method.criterion == "reconstruction");
  if (needs_data && a.calib.empty())
    throw UsageError("pruning with least-squares reconstruction needs calibration data: "
                     "--calib DATA (or --no-reconstruct)");

  ir::Graph g = LoadFloatModel(a.model, a.inputs, a.verbose);
  std::optional<quant::Dataset> calib;
  if (!a.calib.empty())
    calib = LoadLabelledData(a.calib, "", a.calib_limit, g, "loading calibration data");
  std::optional<quant::Dataset> val;
  if (!a.val.empty())
    val = LoadLabelledData(a.val, a.val_labels, a.val_limit, g, "loading validation data");

  const std::vector<float> sample =
      calib ? calib->samples.front()
            : std::vector<float>(static_cast<size_t>(g.tensors[g.inputs[0]].num_elements()), 0.f);
  prune::PruneResult result;
  if (channels) {
    prune::PruneOptions options =
        MakePruneOptions(a.target, a.method, calib.has_value(), g, sample);
    std::optional<Progress> progress;
    std::string phase;
    result = Must(prune::PruneGraph(
        g, calib ? &*calib : nullptr, options,
        [&](const std::string& p, int64_t done, int64_t total) {
          if (p != phase || !progress) {
            if (progress) progress->Finish();
            phase = p;
            progress.emplace("prune: " + p, total);
          }
          progress->Update(done);
        }));
    if (progress) progress->Finish();
  } else {
    result.graph = g;
    result.report.criterion = "none";
    result.report.macs_before = result.report.macs_after = g.CountMacs();
    result.report.weight_bytes_before = result.report.weight_bytes_after = prune::WeightBytes(g);
  }
  std::optional<prune::SparsityReport> sparse;
  if (a.sparsity.sparsity) {
    const ir::Graph before = result.graph;
    sparse = Must(prune::ApplyMagnitudeSparsity(result.graph,
                                                MakeSparsityOptions(a.sparsity, a.method)));
    // With calibration data the weights that stay are refitted, as the channel cut's are.
    if (calib && !a.method.no_reconstruct) {
      std::optional<Progress> progress;
      Must(prune::RefitSparseLayers(
          before, result.graph, &*sparse, *calib,
          MakePruneMethod(a.method, true).reconstruction,
          [&](const std::string&, int64_t done, int64_t total) {
            if (!progress) progress.emplace("prune: sparse refit", total);
            progress->Update(done);
          }));
      if (progress) progress->Finish();
    }
  }

  std::optional<double> acc_before, acc_after;
  if (val && !val->labels.empty()) {
    acc_before = MeasureAccuracy(g, *val, "accuracy before");
    acc_after = MeasureAccuracy(result.graph, *val, "accuracy after");
  } else if (val) {
    PrintWarning("--val has no labels: accuracy is not measured (add --val-labels)");
  }
  const double ms_before = result.report.cost_before.value_or(MedianLatencyMs(g, sample));
  const double ms_after = result.report.cost_after.value_or(MedianLatencyMs(result.graph, sample));
  const WrittenModel w = WriteOptimizedModel(result.graph, calib ? &*calib : nullptr, a.output);
  PrintPruneSummary(a, result.report, sparse, w, acc_before, acc_after, ms_before, ms_after);
  if (!a.json.empty())
    Must(io::WriteFileAtomic(
        a.json, PruneJson(result.report, sparse, w, acc_before, acc_after, ms_before, ms_after)));
  for (const std::string& n : result.report.notes) PrintWarning(n);
}

}  // namespace

Command AddPruneCommand(CLI::App& root) {
  auto args = std::make_shared<PruneCliArgs>();
  CLI::App* app = root.add_subcommand(
      "prune",
      "Structured channel pruning of a float model, refitted on calibration data, and/or "
      "unstructured magnitude sparsity");
  app->add_option("model", args->model, "Float model: ONNX, or a .opm from 'outpost compile'")
      ->required();
  app->add_option("-o,--output", args->output, "Output .opm file (written atomically)")
      ->required();
  AddPruneTargetOptions(app, &args->target);
  AddPruneMethodOptions(app, &args->method);
  AddSparsityOptions(app, &args->sparsity);
  app->add_option("--calib", args->calib,
                  "Calibration data for the refit: IDX images, a folder of class sub-folders of "
                  "images, or .npy (as 'outpost quantize --calib')");
  app->add_option("--calib-limit", args->calib_limit,
                  "Use at most N calibration samples, evenly spaced (0: all)")
      ->capture_default_str();
  app->add_option("--val", args->val, "Validation data: report top-1 accuracy before and after");
  app->add_option("--val-labels", args->val_labels, "Labels of --val (IDX or .npy)");
  app->add_option("--val-limit", args->val_limit,
                  "Use at most N validation samples, evenly spaced (0: all)")
      ->capture_default_str();
  app->add_option("--json", args->json, "Also write the report as JSON to FILE");
  app->add_flag("-v,--verbose", args->verbose, "Log the compiler passes of an ONNX model");
  AddOnnxInputOptions(app, &args->inputs, "ONNX models: ");
  return {app, [args]() { RunPrune(*args); }};
}

}  // namespace outpost::cli
