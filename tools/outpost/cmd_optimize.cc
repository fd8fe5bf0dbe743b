// outpost optimize: prune, then quantize, driven by a budget (docs/compression.md).
//
// Candidates are a ladder of pruning ratios (0 = quantization only). Each is pruned with the
// least-squares refit, quantized to int8 (calibrated on the pruned float model), finalized
// (plan, self-test, drift reference) and measured: MACs, file size, median latency on this host
// and top-1 accuracy on the validation data. With only --max-drop the most compressed candidate
// within the drop wins; with a latency or size target, the least pruned candidate meeting it
// (and the drop) wins, since more pruning can only cost accuracy. Every step is reported.
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "compiler/emit/opm_writer.h"
#include "compiler/prune/pruner.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/model_reference_data.h"
#include "compiler/quantize/quantizer.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/float_model.h"
#include "tools/outpost/optimized_model.h"
#include "tools/outpost/prune_options.h"

namespace outpost::cli {
namespace {

struct OptimizeArgs {
  std::string model;
  std::string output;
  std::optional<double> max_drop;
  std::optional<double> target_latency_ms;
  std::string target_size;
  std::vector<double> ratios = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
  PruneMethodArgs method;
  std::string quant_method = "minmax";
  std::string calib;
  int64_t calib_limit = 1000;
  std::string val;
  std::string val_labels;
  int64_t val_limit = 0;
  bool verbose = false;
  OnnxInputArgs inputs;
};

// "250000", "250KB", "244KiB", "1.5MB", "2MiB" -> bytes.
uint64_t ParseByteSize(const std::string& text) {
  const std::optional<NumberWithUnit> n = SplitNumber(text);
  const std::map<std::string, double> scale = {{"", 1},       {"B", 1},      {"KB", 1e3},
                                               {"kB", 1e3},   {"MB", 1e6},   {"KiB", 1024.0},
                                               {"MiB", 1048576.0}};
  const auto it = n ? scale.find(n->unit) : scale.end();
  if (it == scale.end() || !(n->value > 0))
    throw UsageError("--target-size '" + text + "': give bytes, or a number with KB, MB, KiB, MiB");
  return static_cast<uint64_t>(n->value * it->second);
}

struct OptimizeStep {
  std::string name;  // "float", "int8", "prune 30% + int8"
  double ratio = 0;
  uint64_t macs = 0;
  uint64_t file_bytes = 0;
  double latency_ms = 0;
  double accuracy = 0;
  std::string verdict;
  std::optional<ir::Graph> graph;  // finalized, for the chosen step
};

// Plans, self-tests and adds the drift reference, as the written model will have them.
uint64_t FinalizeCandidate(ir::Graph& g, const quant::Dataset& calib) {
  Must(quant::PlanAndSelfTest(g, &calib.samples.front()));
  Must(quant::AddModelReference(g, calib));
  return emit::EmitOpm(g).size();
}

ir::Graph QuantizeStep(const ir::Graph& float_graph, const quant::Dataset& calib,
                       const std::string& method) {
  quant::CalibrationOptions co;
  quant::QuantizeOptions qo;
  qo.method = method == "percentile" ? quant::CalibrationMethod::kPercentile
              : method == "entropy"  ? quant::CalibrationMethod::kEntropy
              : method == "mse"      ? quant::CalibrationMethod::kMse
                                     : quant::CalibrationMethod::kMinMax;
  co.histograms = qo.method != quant::CalibrationMethod::kMinMax;
  const quant::CalibrationResult stats = Must(quant::Calibrate(float_graph, calib, co));
  return Must(quant::QuantizeGraph(float_graph, stats, qo));
}

void RunOptimize(const OptimizeArgs& a) {
  CheckPruneMethodArgs(a.method);
  if (!a.max_drop && !a.target_latency_ms && a.target_size.empty())
    throw UsageError("give a budget: --max-drop, --target-latency-ms and/or --target-size");
  if (a.max_drop && !(*a.max_drop >= 0)) throw UsageError("--max-drop must be 0 or more");
  if (a.target_latency_ms && !(*a.target_latency_ms > 0))
    throw UsageError("--target-latency-ms must be more than 0");
  // 0: no size target.
  const uint64_t target_size = a.target_size.empty() ? 0 : ParseByteSize(a.target_size);
  if (a.calib.empty()) throw UsageError("optimize needs calibration data: --calib DATA");
  if (a.val.empty()) throw UsageError("optimize measures accuracy: --val DATA --val-labels LABELS");
  for (double r : a.ratios)
    if (!(r >= 0 && r < 1)) throw UsageError("--ratios: each ratio must be in [0, 1)");
  if (a.calib_limit < 0 || a.val_limit < 0)
    throw UsageError("--calib-limit and --val-limit must be 0 (all) or more");

  const ir::Graph g = LoadFloatModel(a.model, a.inputs, a.verbose);
  const quant::Dataset calib =
      LoadLabelledData(a.calib, "", a.calib_limit, g, "loading calibration data");
  const quant::Dataset val =
      LoadLabelledData(a.val, a.val_labels, a.val_limit, g, "loading validation data");
  if (val.labels.empty())
    throw UsageError("--val has no labels: give --val-labels (IDX or .npy), or a folder of classes");
  const std::vector<float>& sample = calib.samples.front();

  std::vector<OptimizeStep> steps;
  {
    OptimizeStep base;
    base.name = "float";
    ir::Graph copy = g;
    base.macs = g.CountMacs();
    base.file_bytes = FinalizeCandidate(copy, calib);
    base.latency_ms = MedianLatencyMs(copy, sample);
    base.accuracy = MeasureAccuracy(g, val, "float accuracy");
    base.verdict = "reference";
    steps.push_back(std::move(base));
  }
  const double reference = steps[0].accuracy;
  const bool cost_target = a.target_latency_ms || target_size > 0;
  int chosen = -1;

  for (double ratio : a.ratios) {
    ir::Graph pruned = g;
    if (ratio > 0) {
      prune::PruneOptions po = MakePruneMethod(a.method, true);
      po.ratio = ratio;
      Progress progress("prune " + FormatFixed(100 * ratio, 0) + "%", 1);
      pruned = Must(prune::PruneGraph(g, &calib, po)).graph;
      progress.Finish();
    }
    OptimizeStep s;
    s.ratio = ratio;
    s.name = ratio > 0 ? "prune " + FormatFixed(100 * ratio, 0) + "% + int8" : "int8";
    ir::Graph q = QuantizeStep(pruned, calib, a.quant_method);
    s.macs = q.CountMacs();
    s.file_bytes = FinalizeCandidate(q, calib);
    s.latency_ms = MedianLatencyMs(q, sample);
    s.accuracy = MeasureAccuracy(q, val, s.name + " accuracy");
    const bool drop_ok = !a.max_drop || reference - s.accuracy <= *a.max_drop + 1e-9;
    const bool latency_ok = !a.target_latency_ms || s.latency_ms <= *a.target_latency_ms;
    const bool size_ok = target_size == 0 || s.file_bytes <= target_size;
    std::vector<std::string> misses;
    if (!drop_ok) misses.push_back("drop");
    if (!latency_ok) misses.push_back("latency");
    if (!size_ok) misses.push_back("size");
    std::ostringstream v;
    if (misses.empty()) {
      v << "meets the budget";
    } else {
      v << "misses";
      for (const std::string& m : misses) v << " " << m;
    }
    s.verdict = v.str();
    s.graph = std::move(q);
    steps.push_back(std::move(s));
    const int index = static_cast<int>(steps.size()) - 1;
    if (misses.empty()) {
      if (chosen >= 0) steps[chosen].graph.reset();
      chosen = index;
      if (cost_target) break;  // the least pruned candidate meeting the targets
    } else if (!drop_ok) {
      break;  // more pruning only loses more accuracy
    }
    if (index != chosen) steps[index].graph.reset();
  }

  std::cout << "optimized " << a.model << "\n";
  std::cout << "  budget:      ";
  std::vector<std::string> parts;
  if (a.max_drop) parts.push_back("top-1 drop <= " + FormatFixed(*a.max_drop, 2) + " points");
  if (a.target_latency_ms)
    parts.push_back("latency <= " + FormatFixed(*a.target_latency_ms, 3) + " ms");
  if (target_size) parts.push_back("file <= " + FormatBytesExact(target_size));
  for (size_t i = 0; i < parts.size(); ++i) std::cout << (i ? ", " : "") << parts[i];
  std::cout << "\n";
  Table t({"step", "MACs", "file", "latency ms", "top-1 %", "drop", "verdict"},
          {false, true, true, true, true, true, false});
  for (size_t i = 0; i < steps.size(); ++i) {
    const OptimizeStep& s = steps[i];
    t.AddRow({s.name, FormatCount(s.macs), FormatBytesExact(s.file_bytes),
              FormatFixed(s.latency_ms, 3), FormatFixed(s.accuracy, 2),
              i == 0 ? "" : FormatFixed(reference - s.accuracy, 2),
              static_cast<int>(i) == chosen ? s.verdict + " <- chosen" : s.verdict});
  }
  t.Print(std::cout, "    ");
  if (chosen < 0)
    throw Error("no candidate meets the budget, nothing written (see the table above)");
  ir::Graph& best = *steps[chosen].graph;
  const std::vector<uint8_t> bytes = emit::EmitOpm(best);
  Must(io::LoadedModel::FromBytes(a.output, bytes));
  Must(io::WriteFileAtomic(a.output, bytes));
  std::cout << "  wrote:       " << a.output << " (" << steps[chosen].name << ", "
            << FormatBytesExact(bytes.size()) << ")\n";
}

}  // namespace

Command AddOptimizeCommand(CLI::App& root) {
  auto args = std::make_shared<OptimizeArgs>();
  CLI::App* app = root.add_subcommand(
      "optimize", "Prune, then quantize to int8, to meet an accuracy, latency or size budget");
  app->add_option("model", args->model, "Float model: ONNX, or a .opm from 'outpost compile'")
      ->required();
  app->add_option("-o,--output", args->output, "Output .opm file (written atomically)")
      ->required();
  app->add_option("--max-drop", args->max_drop,
                  "Largest accepted top-1 drop in points against the float model");
  app->add_option("--target-latency-ms", args->target_latency_ms,
                  "Largest accepted median latency on this host (one thread)");
  app->add_option("--target-size", args->target_size,
                  "Largest accepted file size: bytes, or with KB, MB, KiB, MiB");
  app->add_option("--ratios", args->ratios,
                  "Pruning ratios tried in order (0: quantization only)")
      ->delimiter(',')
      ->capture_default_str();
  AddPruneMethodOptions(app, &args->method);
  app->add_option("--method", args->quant_method, "How int8 activation ranges are chosen")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy", "mse"}))
      ->capture_default_str();
  app->add_option("--calib", args->calib,
                  "Calibration data for the refit and quantization (as 'outpost quantize')")
      ->required();
  app->add_option("--calib-limit", args->calib_limit,
                  "Use at most N calibration samples, evenly spaced (0: all)")
      ->capture_default_str();
  app->add_option("--val", args->val, "Validation data (as --calib takes)")->required();
  app->add_option("--val-labels", args->val_labels,
                  "Labels of --val (IDX or .npy); a folder of class sub-folders labels itself");
  app->add_option("--val-limit", args->val_limit,
                  "Use at most N validation samples, evenly spaced (0: all)")
      ->capture_default_str();
  app->add_flag("-v,--verbose", args->verbose, "Log the compiler passes of an ONNX model");
  AddOnnxInputOptions(app, &args->inputs, "ONNX models: ");
  return {app, [args]() { RunOptimize(*args); }};
}

}  // namespace outpost::cli
