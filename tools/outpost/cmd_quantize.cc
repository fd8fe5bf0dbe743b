// outpost quantize: static post-training int8 quantization (docs/quantization.md), or
// weight-only fp16 / int8 storage, of a float model given as ONNX or as a float .opm.
//
// The flow: float graph -> [cross-layer equalization] -> calibration over the data ->
// quantization [-> accuracy gate: layers kept float until the validation drop fits] ->
// memory plan + self-test -> .opm, then a per-layer summary.
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "compiler/emit/opm_writer.h"
#include "compiler/emit/prepack.h"
#include "compiler/plan/memory_planner.h"
#include "compiler/quantize/accuracy_gate.h"
#include "compiler/quantize/cross_layer_equalization.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/finalize.h"
#include "compiler/quantize/model_reference_data.h"
#include "compiler/quantize/quantizer.h"
#include "io/model_file.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/float_model.h"
#include "tools/outpost/onnx_input_options.h"
#include "tools/outpost/prepack_option.h"

namespace outpost::cli {
namespace {

struct QuantizeArgs {
  std::string model;
  std::string output;
  std::string calib;
  int64_t calib_limit = 1000;
  std::string method = "minmax";
  std::string prepack = "none";
  double percentile = 99.99;
  int bins = 2048;
  bool per_tensor = false;
  bool bias_correction = false;
  std::string weights_only;
  std::vector<std::string> keep_float;
  bool int8_io = false;
  bool cle = false;
  bool cle_relu6 = false;
  // The accuracy gate: validation data and the largest accepted top-1 drop.
  std::optional<double> max_drop;
  std::string val;
  std::string val_labels;
  int64_t val_limit = 0;
  int64_t sensitivity_samples = 1000;
  double min_sqnr = 30.0;
  bool no_self_test = false;
  bool verbose = false;
  // How an ONNX model is compiled first (as `outpost compile` takes them).
  OnnxInputArgs inputs;
};

const std::map<std::string, quant::CalibrationMethod> kMethods = {
    {"minmax", quant::CalibrationMethod::kMinMax},
    {"percentile", quant::CalibrationMethod::kPercentile},
    {"entropy", quant::CalibrationMethod::kEntropy},
    {"mse", quant::CalibrationMethod::kMse},
};

quant::QuantizeOptions MakeOptions(const QuantizeArgs& a) {
  quant::QuantizeOptions o;
  o.method = kMethods.at(a.method);
  if (!(a.percentile > 0 && a.percentile <= 100))
    throw UsageError("--percentile must be in (0, 100]");
  o.percentile = a.percentile;
  o.per_channel = !a.per_tensor;
  o.bias_correction = a.bias_correction;
  o.float_nodes.insert(a.keep_float.begin(), a.keep_float.end());
  o.int8_io = a.int8_io;
  if (a.weights_only == "fp16") o.weight_only = quant::WeightOnly::kFloat16;
  if (a.weights_only == "int8") o.weight_only = quant::WeightOnly::kInt8;
  if (o.weight_only == quant::WeightOnly::kFloat16 && a.bias_correction)
    throw UsageError("--bias-correction corrects int8 weights; fp16 weights need none");
  if (o.weight_only != quant::WeightOnly::kNone && a.int8_io)
    throw UsageError("--int8-io needs int8 activations; --weights-only keeps them float");
  return o;
}

bool NeedsCalibration(const quant::QuantizeOptions& o) {
  return o.weight_only == quant::WeightOnly::kNone || o.bias_correction;
}

void CheckNodeNames(const ir::Graph& g, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    bool found = false;
    for (const ir::Node& node : g.nodes) found |= node.name == n;
    if (!found)
      throw UsageError("--keep-float: the model has no node '" + n +
                       "' (see the node names in 'outpost inspect')");
  }
}

std::string Range(const quant::LayerReport& l) {
  if (!l.quantized || (l.out_min == 0 && l.out_max == 0)) return "";
  return "[" + FormatFloat(l.out_min) + ", " + FormatFloat(l.out_max) + "]";
}

std::string Ratio(uint64_t before, uint64_t after) {
  return after ? FormatFixed(static_cast<double>(before) / static_cast<double>(after), 2) + "x"
               : "-";
}

void PrintSummary(const QuantizeArgs& a, const quant::QuantizeOptions& o,
                  const quant::QuantizeReport& r, int64_t samples, uint64_t float_opm_bytes,
                  const std::vector<uint8_t>& bytes, uint64_t float_arena_bytes,
                  const ArenaRequirement* need, const ir::Graph& g) {
  std::cout << "quantized " << a.model << " -> " << a.output << "\n";
  std::string mode;
  if (o.weight_only == quant::WeightOnly::kFloat16) {
    mode = "weight-only fp16 (activations float)";
  } else if (o.weight_only == quant::WeightOnly::kInt8) {
    mode = std::string("weight-only int8, ") + (o.per_channel ? "per-channel" : "per-tensor") +
           " symmetric (activations float)";
  } else {
    mode = std::string("int8: weights ") + (o.per_channel ? "per-channel" : "per-tensor") +
           " symmetric, activations per-tensor asymmetric, bias int32" +
           (o.int8_io ? ", int8 model I/O" : ", float model I/O");
  }
  std::cout << "  mode:        " << mode << (o.bias_correction ? ", bias correction" : "")
            << "\n";
  if (samples > 0) {
    std::cout << "  calibration: " << samples << " samples from " << a.calib;
    if (o.weight_only == quant::WeightOnly::kNone) {
      std::cout << ", method " << quant::CalibrationMethodName(o.method);
      if (o.method == quant::CalibrationMethod::kPercentile)
        std::cout << " " << FormatFloat(o.percentile);
    }
    std::cout << "\n";
  }
  int quantized = 0;
  for (const auto& l : r.layers) quantized += l.quantized;
  std::cout << "  layers:      " << quantized << " of " << r.layers.size()
            << (o.weight_only == quant::WeightOnly::kNone ? " in int8" : " with stored weights")
            << "\n";
  Table t({"node", "op", "precision", "output range", "note"},
          {false, false, false, false, false});
  for (const auto& l : r.layers) {
    const std::string precision = !l.quantized                                     ? "float"
                                  : o.weight_only == quant::WeightOnly::kFloat16 ? "fp16 w"
                                  : o.weight_only == quant::WeightOnly::kInt8    ? "int8 w"
                                                                                 : "int8";
    t.AddRow({l.node, l.op, precision, Range(l), l.quantized ? l.detail : l.why_float});
  }
  t.Print(std::cout, "    ");
  std::cout << "  weights:     " << FormatBytesExact(r.float_weight_bytes) << " -> "
            << FormatBytesExact(r.weight_bytes) << " ("
            << Ratio(r.float_weight_bytes, r.weight_bytes) << " smaller)\n";
  std::cout << "  file:        " << FormatBytesExact(float_opm_bytes) << " float .opm -> "
            << FormatBytesExact(bytes.size()) << " (" << Ratio(float_opm_bytes, bytes.size())
            << " smaller)\n";
  std::cout << "  arena:       " << FormatBytesExact(float_arena_bytes) << " float -> "
            << FormatBytesExact(g.plan->arena_bytes) << " planned";
  if (need) std::cout << ", " << FormatBytesExact(need->total_bytes) << " total with scratch";
  std::cout << "\n";
  std::cout << "  self-test:   "
            << (!g.self_test ? "none"
                : samples > 0 ? "embedded (golden input: the first calibration sample)"
                              : "embedded (seeded random input)")
            << "\n";
}

// Checks the gate's options before any slow work.
void CheckGateArgs(const QuantizeArgs& a, const quant::QuantizeOptions& o) {
  const bool data_given = !a.val.empty() || !a.val_labels.empty();
  if (!a.max_drop) {
    if (data_given) throw UsageError("--val and --val-labels are for the gate: add --max-drop");
    return;
  }
  if (!(*a.max_drop >= 0)) throw UsageError("--max-drop must be 0 or more (accuracy points)");
  if (a.val.empty()) throw UsageError("--max-drop needs validation data: --val DATA");
  if (o.weight_only != quant::WeightOnly::kNone)
    throw UsageError("--max-drop gates int8 models; --weights-only has no int8 layers to pick");
  if (a.val_limit < 0) throw UsageError("--val-limit must be 0 (all) or more");
  if (a.sensitivity_samples < 0) throw UsageError("--sensitivity-samples must be 0 (all) or more");
}

// Runs the accuracy gate and prints its report; throws when the gate is not met, so that no
// model missing it is written. `reference` is the model before equalization, if any.
quant::GateResult RunGate(const QuantizeArgs& a, const ir::Graph& float_graph,
                          const ir::Graph* reference, const quant::CalibrationResult& stats,
                          const quant::QuantizeOptions& options) {
  std::vector<std::string> warnings;
  quant::DatasetOptions dopt;
  dopt.limit = a.val_limit;
  const quant::Dataset val =
      Must(quant::LoadDataset({a.val, a.val_labels}, float_graph, dopt, &warnings));
  for (const std::string& w : warnings) PrintWarning(w);
  quant::GateOptions gopt;
  gopt.max_drop = *a.max_drop;
  gopt.sensitivity_samples = a.sensitivity_samples;
  gopt.min_output_sqnr_db = a.min_sqnr;
  std::optional<Progress> progress;
  std::string phase;
  gopt.progress = [&](const std::string& p, int64_t done, int64_t total) {
    if (p != phase || !progress) {
      if (progress) progress->Finish();
      phase = p;
      progress.emplace("gate: " + p, total);
    }
    progress->Update(done);
  };
  quant::GateResult r =
      Must(quant::RunAccuracyGate(float_graph, stats, options, val, gopt, reference));
  if (progress) progress->Finish();
  quant::PrintGateReport(r, std::cout);
  if (!r.passed) throw Error("accuracy gate failed, nothing written: " + r.failure);
  return r;
}

void RunQuantize(const QuantizeArgs& a) {
  quant::QuantizeOptions options = MakeOptions(a);
  CheckGateArgs(a, options);
  if (a.cle_relu6 && !a.cle) throw UsageError("--cle-relu6 modifies --cle: add --cle");
  if (a.calib_limit < 0) throw UsageError("--calib-limit must be 0 (all) or more");
  const emit::PrepackTarget target = ParsePrepack(a.prepack);
  if (a.bins < 64 || a.bins % 2 != 0) throw UsageError("--bins must be even and at least 64");
  const bool calibrate = NeedsCalibration(options);
  if (calibrate && a.calib.empty())
    throw UsageError(options.weight_only == quant::WeightOnly::kNone
                         ? "int8 quantization needs calibration data: --calib DATA"
                         : "--bias-correction needs calibration data: --calib DATA");

  if (!calibrate && !a.calib.empty())
    PrintWarning("--calib is not used: weight-only quantization without --bias-correction "
                 "needs no calibration data");

  uint64_t float_opm_bytes = 0;
  ir::Graph float_graph = LoadFloatModel(a.model, a.inputs, a.verbose, &float_opm_bytes);
  CheckNodeNames(float_graph, a.keep_float);
  std::optional<ir::Graph> original;  // the gate compares with the model before equalization
  if (a.cle) {
    quant::EqualizationReport eq;
    quant::EqualizationOptions eopt;
    eopt.relu6_to_relu = a.cle_relu6;
    if (a.max_drop) original = float_graph;
    float_graph = quant::EqualizeCrossLayer(float_graph, eopt, &eq);
    std::cerr << "cross-layer equalization: " << eq.pairs.size() << " layer pairs";
    if (!eq.relu6_replaced.empty())
      std::cerr << ", " << eq.relu6_replaced.size() << " ReLU6 replaced by ReLU";
    std::cerr << "\n";
  }

  quant::CalibrationResult stats;
  std::vector<float> golden;
  quant::Dataset data;  // also the drift reference's data
  if (calibrate) {
    std::vector<std::string> warnings;
    quant::DatasetOptions dopt;
    dopt.limit = a.calib_limit;
    {
      std::optional<Progress> loading;
      data = Must(quant::LoadDataset({a.calib, ""}, float_graph, dopt, &warnings,
                                     [&](int64_t done, int64_t total) {
                                       if (!loading) loading.emplace("loading calibration data",
                                                                     total);
                                       loading->Update(done);
                                     }));
      if (loading) loading->Finish();
    }
    for (const std::string& w : warnings) PrintWarning(w);
    quant::CalibrationOptions copt;
    copt.histogram_bins = a.bins;
    copt.histograms = options.weight_only == quant::WeightOnly::kNone &&
                      options.method != quant::CalibrationMethod::kMinMax;
    Progress progress("calibrating", static_cast<int64_t>(data.samples.size()) *
                                         (copt.histograms ? 2 : 1));
    stats = Must(quant::Calibrate(float_graph, data, copt,
                                  [&](int64_t done, int64_t) { progress.Update(done); }));
    progress.Finish();
    for (const std::string& w : stats.warnings) PrintWarning(w);
    golden = data.samples.front();
  }

  quant::QuantizeReport report;
  ir::Graph g = Must(quant::QuantizeGraph(float_graph, stats, options, &report));
  if (a.max_drop) {
    quant::GateResult gate =
        RunGate(a, float_graph, original ? &*original : nullptr, stats, options);
    g = std::move(gate.graph);
    report = std::move(gate.quantize_report);
  }
  if (a.no_self_test) {
    plan::PlanMemory(g);
  } else {
    Must(quant::PlanAndSelfTest(g, calibrate ? &golden : nullptr));
  }
  // The drift reference describes this model's outputs: made from the calibration data, or
  // dropped when a float .opm brought one and there is no data to make it again.
  std::optional<io::ModelReference> reference;
  if (calibrate) {
    reference = Must(quant::AddModelReference(g, data));
  } else if (g.info.metadata.erase(io::kReferenceKey) > 0) {
    PrintWarning("the float model's drift reference is dropped: without calibration data there "
                 "is none for the quantized model's outputs");
  }
  const std::vector<uint8_t> unpacked = emit::EmitOpm(g);
  const emit::PrepackResult prepacked = emit::PrepackOpm(unpacked, target);
  const std::vector<uint8_t>& bytes = prepacked.bytes;

  // The runtime must accept what was written; check before anything reaches the disk.
  io::LoadedModel loaded = Must(io::LoadedModel::FromBytes(a.output, bytes));
  AllOpsResolver resolver;
  ArenaRequirement need;
  ErrorReporter errors;
  const bool measured =
      RegisterAllKernels(resolver) == Status::kOk &&
      Interpreter::Measure(loaded.model(), resolver, &need, &errors) == Status::kOk;
  Must(io::WriteFileAtomic(a.output, bytes));
  ir::Graph planned_float = float_graph;
  plan::PlanMemory(planned_float);
  // Sizes before caching packed weights: the summary compares quantization, not packing.
  PrintSummary(a, options, report, stats.samples, float_opm_bytes, unpacked,
               planned_float.plan->arena_bytes, measured ? &need : nullptr, g);
  if (reference)
    std::cout << "  reference:   drift reference from the " << reference->samples
              << " calibration samples\n";
  PrintPrepack(target, prepacked);
  for (const std::string& w : report.warnings) PrintWarning(w);
  if (!measured)
    PrintWarning("this build cannot run the model: " + std::string(errors.message()));
}

}  // namespace

Command AddQuantizeCommand(CLI::App& root) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* app = root.add_subcommand(
      "quantize", "Quantize a float model to int8 (or store its weights as fp16 / int8)");
  app->add_option("model", args->model, "Float model: ONNX, or a .opm from 'outpost compile'")
      ->required();
  app->add_option("-o,--output", args->output, "Output .opm file (written atomically)")
      ->required();
  app->add_option("--calib", args->calib,
                  "Calibration data: IDX images (e.g. Fashion-MNIST train-images-idx3-ubyte.gz), "
                  "a folder of class sub-folders of images, or .npy (float32 preprocessed "
                  "inputs (N,...) or uint8 images (N,H,W[,C]))");
  app->add_option("--calib-limit", args->calib_limit,
                  "Use at most N samples, evenly spaced over the data (0: all)")
      ->capture_default_str();
  app->add_option("--method", args->method, "How activation ranges are chosen")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy", "mse"}))
      ->capture_default_str();
  app->add_option("--percentile", args->percentile,
                  "Share of |values| the range keeps, for --method percentile")
      ->capture_default_str();
  app->add_option("--bins", args->bins, "Histogram bins for percentile, entropy and mse")
      ->capture_default_str();
  app->add_flag("--per-tensor", args->per_tensor,
                "One scale per weight tensor instead of one per output channel");
  app->add_flag("--bias-correction", args->bias_correction,
                "Correct each layer's bias for the mean error of its quantized weights "
                "(Nagel et al. 2019)");
  app->add_option("--weights-only", args->weights_only,
                  "Keep activations float; store weights as fp16 or int8 (no calibration "
                  "needed)")
      ->check(CLI::IsMember({"fp16", "int8"}));
  app->add_option("--keep-float", args->keep_float, "Leave node NODE in float (repeatable)")
      ->allow_extra_args(false);
  app->add_flag("--int8-io", args->int8_io,
                "Int8 model inputs and outputs (default: float, converted at the edges)");
  app->add_flag("--cle", args->cle,
                "Cross-layer equalization of the float model first (Nagel et al. 2019)");
  app->add_flag("--cle-relu6", args->cle_relu6,
                "With --cle: replace ReLU6 between layer pairs by ReLU so they can be equalized "
                "too (changes the float model where ReLU6 saturated)");
  app->add_option("--max-drop", args->max_drop,
                  "Accuracy gate: largest accepted top-1 drop in points vs the float model; "
                  "the most sensitive layers stay float until it fits, else the command fails");
  app->add_option("--val", args->val, "Validation data for the gate, in the forms --calib takes");
  app->add_option("--val-labels", args->val_labels,
                  "Labels of --val: IDX (e.g. t10k-labels-idx1-ubyte.gz) or .npy of N integers; "
                  "a folder of class sub-folders labels itself");
  app->add_option("--val-limit", args->val_limit,
                  "Use at most N validation samples, evenly spaced (0: all)")
      ->capture_default_str();
  app->add_option("--sensitivity-samples", args->sensitivity_samples,
                  "Validation samples (the first N) for the per-layer sensitivity pass (0: all)")
      ->capture_default_str();
  app->add_option("--min-sqnr", args->min_sqnr,
                  "Gate without labels: smallest accepted output SQNR in dB vs the float model")
      ->capture_default_str();
  app->add_flag("--no-self-test", args->no_self_test, "Do not embed a self-test");
  AddOnnxInputOptions(app, &args->inputs, "ONNX models: ");
  app->add_flag("-v,--verbose", args->verbose, "Print compiler progress on stderr");
  AddPrepackOption(app, &args->prepack);
  app->footer(
      "Calibration data is preprocessed with the model's input spec, as 'outpost eval' does.\n"
      "Examples:\n"
      "  outpost quantize model.onnx -o model_int8.opm \\\n"
      "      --calib /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\n"
      "  outpost quantize model.opm -o model_int8.opm --calib images/ --method entropy\n"
      "  outpost quantize model.onnx -o model_fp16.opm --weights-only fp16\n"
      "  outpost quantize model.onnx -o model_int8.opm --cle --calib train-images.gz \\\n"
      "      --max-drop 0.5 --val t10k-images.gz --val-labels t10k-labels.gz");
  return {app, [args] { RunQuantize(*args); }};
}

}  // namespace outpost::cli
