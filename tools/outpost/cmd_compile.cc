// outpost compile: ONNX -> .opm, with overrides of what the ONNX metadata says about the
// inputs and the task.
#include <sys/stat.h>

#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/emit/prepack.h"
#include "compiler/quantize/dataset.h"
#include "compiler/quantize/model_reference_data.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/onnx_input_options.h"
#include "tools/outpost/prepack_option.h"

namespace outpost::cli {
namespace {

struct CompileArgs {
  std::string model;
  std::string output;
  OnnxInputArgs inputs;
  bool no_optimize = false;
  bool no_self_test = false;
  std::optional<std::string> task;
  std::optional<std::string> labels;
  bool verbose = false;
  std::string prepack = "none";
  // Drift reference data (docs/model-format.md, "Drift reference").
  std::string reference;
  int64_t reference_limit = 1000;
};

const std::map<std::string, opm::Task> kTasks = {
    {"generic", opm::Task::GENERIC},
    {"classification", opm::Task::CLASSIFICATION},
    {"detection", opm::Task::DETECTION},
    {"anomaly", opm::Task::ANOMALY},
    {"keyword_spotting", opm::Task::KEYWORD_SPOTTING},
    {"regression", opm::Task::REGRESSION},
};

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// --labels takes a file with one label per line, or a comma-separated list.
std::vector<std::string> ReadLabels(const std::string& arg) {
  if (IsFile(arg)) {
    const std::string text = Must(io::ReadTextFile(arg));
    std::vector<std::string> labels;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      labels.push_back(line);
      start = end + 1;
    }
    while (!labels.empty() && labels.back().empty()) labels.pop_back();
    if (labels.empty()) throw Error(arg + ": labels file has no labels");
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i].empty())
        throw Error(arg + ": line " + std::to_string(i + 1) + " is an empty label");
    return labels;
  }
  // A single label is no use to a classifier, so a value without commas names a file.
  if (arg.find(',') == std::string::npos)
    throw Error(arg + ": no such labels file (give a file, or a comma-separated list)");
  return SplitList(arg, "--labels");
}

compiler::CompileOptions MakeOptions(const CompileArgs& a) {
  compiler::CompileOptions o;
  ApplyOnnxInputArgs(a.inputs, &o);
  o.optimize = !a.no_optimize;
  o.self_test = !a.no_self_test;
  if (a.task) o.task = kTasks.at(*a.task);
  if (a.labels) o.labels = ReadLabels(*a.labels);
  if (a.verbose) o.log = [](const std::string& line) { std::cerr << line << '\n'; };
  return o;
}

void RunCompile(const CompileArgs& a) {
  const compiler::CompileOptions options = MakeOptions(a);
  const emit::PrepackTarget target = ParsePrepack(a.prepack);
  if (a.reference_limit < 0) throw UsageError("--reference-limit must be 0 (all) or more");
  compiler::CompileReport report;
  ir::Graph graph = Must(compiler::CompileOnnx(a.model, options, &report));
  std::optional<io::ModelReference> reference;
  if (!a.reference.empty()) {
    // Read exactly as `outpost quantize --calib` reads its calibration data.
    std::vector<std::string> warnings;
    quant::DatasetOptions dopt;
    dopt.limit = a.reference_limit;
    const quant::Dataset data = Must(quant::LoadDataset({a.reference, ""}, graph, dopt, &warnings));
    for (const std::string& w : warnings) PrintWarning(w);
    reference = Must(quant::AddModelReference(graph, data));
  }
  const std::vector<uint8_t> unpacked = emit::EmitOpm(graph);
  const emit::PrepackResult prepacked = emit::PrepackOpm(unpacked, target);
  const std::vector<uint8_t>& bytes = prepacked.bytes;

  // The runtime must accept what the compiler wrote; check before anything reaches the disk.
  io::LoadedModel loaded = Must(io::LoadedModel::FromBytes(a.output, bytes));
  AllOpsResolver resolver;
  ArenaRequirement need;
  ErrorReporter errors;
  const bool measured =
      RegisterAllKernels(resolver) == Status::kOk &&
      Interpreter::Measure(loaded.model(), resolver, &need, &errors) == Status::kOk;
  Must(io::WriteFileAtomic(a.output, bytes));

  const passes::PassStats& p = report.passes;
  std::cout << "compiled " << a.model << " -> " << a.output << "\n";
  std::cout << "  nodes:      ";
  if (report.onnx_nodes > 0) std::cout << report.onnx_nodes << " in ONNX, ";
  std::cout << report.nodes_after_import << " after import, " << report.nodes_after_passes
            << " after passes" << (a.no_optimize ? " (optimization off)" : "") << "\n";
  std::cout << "  passes:     " << p.folded << " constant-folded, " << p.batchnorm_folded
            << " batch norms folded, " << p.activations_fused << " activations fused, "
            << p.dead_removed << " dead removed\n";
  std::cout << "  MACs:       " << FormatCount(report.macs) << " (" << report.macs << ")\n";
  const double ratio = report.arena_lower_bound_bytes
                           ? static_cast<double>(report.arena_bytes) /
                                 static_cast<double>(report.arena_lower_bound_bytes)
                           : 1.0;
  std::cout << "  arena:      " << FormatBytesExact(report.arena_bytes) << ", lower bound "
            << FormatBytesExact(report.arena_lower_bound_bytes) << " (ratio "
            << FormatFixed(ratio, 2) << ")\n";
  if (measured)
    std::cout << "  runtime:    " << FormatBytesExact(need.total_bytes)
              << " total arena with this build's kernels (plan + scratch + state)\n";
  std::cout << "  self-test:  " << (loaded.fb().self_test() ? "embedded" : "none") << "\n";
  if (reference)
    std::cout << "  reference:  " << reference->samples << " samples from " << a.reference
              << " (drift reference, " << FormatBytesExact(graph.info.metadata[io::kReferenceKey].size())
              << " of metadata)\n";
  std::cout << "  file:       " << FormatBytesExact(bytes.size()) << "\n";
  PrintPrepack(target, prepacked);
  if (!measured)
    PrintWarning("this build cannot run the model yet: " + std::string(errors.message()));
}

}  // namespace

Command AddCompileCommand(CLI::App& root) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* app = root.add_subcommand("compile", "Compile an ONNX model into an .opm model");
  app->add_option("model", args->model, "ONNX model file")->required();
  app->add_option("-o,--output", args->output, "Output .opm file (written atomically)")->required();
  AddOnnxInputOptions(app, &args->inputs, "");
  app->add_flag("--no-optimize", args->no_optimize,
                "Skip graph passes (constant folding, BN folding, fusion, DCE)");
  app->add_flag("--no-self-test", args->no_self_test, "Do not embed a self-test");
  app->add_option("--task", args->task, "Model task (overrides the ONNX metadata)")
      ->check(CLI::IsMember(
          {"generic", "classification", "detection", "anomaly", "keyword_spotting", "regression"}));
  app->add_option("--labels", args->labels,
                  "Class labels: a file with one per line, or a comma-separated list");
  app->add_flag("-v,--verbose", args->verbose, "Print compiler progress on stderr");
  AddPrepackOption(app, &args->prepack);
  app->add_option("--reference", args->reference,
                  "Reference data for drift monitoring, in the forms 'quantize --calib' takes: "
                  "the model runs on it and stores its input and output distributions "
                  "(metadata outpost.reference)");
  app->add_option("--reference-limit", args->reference_limit,
                  "Use at most N reference samples, evenly spaced over the data (0: all)")
      ->capture_default_str();
  app->footer(
      "Preprocessing of image inputs: x = (pixel * value_scale - mean[c]) / std[c].\n"
      "Examples:\n"
      "  outpost compile model.onnx -o model.opm\n"
      "  outpost compile mobilenet.onnx -o mobilenet.opm --input-shape input=1,3,224,224 \\\n"
      "      --task classification --labels labels.txt --value-scale 0.00392157 \\\n"
      "      --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --color rgb --layout NCHW");
  return {app, [args] { RunCompile(*args); }};
}

}  // namespace outpost::cli
