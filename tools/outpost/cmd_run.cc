// outpost run: one inference on user data (.npy, raw .bin or an image), or the model's own
// self-test; with a pipeline file (.json) the real-time pipeline (cmd_run_pipeline.cc).
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "io/classification.h"
#include "io/input_file.h"
#include "io/model_file.h"
#include "io/npy.h"
#include "io/session.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/cmd_run_pipeline.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/model_json.h"

namespace outpost::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  int top_k = 5;
  bool self_test = false;
  bool verbose = false;
  int threads = 0;
  bool threads_given = false;  // -t overrides a pipeline file's "threads"
  PipelineRunArgs pipeline;
};

bool IsPipelineFile(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0;
}

// Assigns every --input to a model input: NAME=FILE when NAME is an input's name, otherwise
// the next unassigned input in order.
std::vector<std::string> AssignInputs(const io::Session& s, const std::vector<std::string>& args) {
  std::vector<std::string> files(s.num_inputs());
  std::vector<std::string> positional;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    const int named = eq == std::string::npos ? -1 : s.FindInput(arg.substr(0, eq));
    if (named < 0) {
      positional.push_back(arg);
      continue;
    }
    if (!files[named].empty()) throw UsageError("input '" + arg.substr(0, eq) + "' given twice");
    files[named] = arg.substr(eq + 1);
  }
  size_t next = 0;
  for (std::string& f : files) {
    if (!f.empty()) continue;
    if (next < positional.size()) f = positional[next++];
  }
  if (next < positional.size())
    throw UsageError("too many --input files: the model has " + std::to_string(s.num_inputs()) +
                     " input(s)");
  for (int i = 0; i < s.num_inputs(); ++i)
    if (files[i].empty())
      throw UsageError("no data for " + s.DescribeInput(i) + ": pass --input " +
                       (s.num_inputs() > 1 ? s.input_name(i) + "=" : "") + "FILE");
  return files;
}

// "out.npy" -> "out_2.npy"
std::string IndexedPath(const std::string& path, int k) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1))
    return path + "_" + std::to_string(k);
  return path.substr(0, dot) + "_" + std::to_string(k) + path.substr(dot);
}

void WriteOutputs(io::Session& s, const std::vector<std::string>& specs) {
  std::vector<std::string> files(s.num_outputs());
  std::vector<std::string> plain;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    const int named = eq == std::string::npos ? -1 : s.FindOutput(spec.substr(0, eq));
    if (named >= 0)
      files[named] = spec.substr(eq + 1);
    else
      plain.push_back(spec);
  }
  if (plain.size() > 1)
    throw UsageError("give one --output FILE (outputs are numbered FILE_k) or NAME=FILE each");
  if (plain.size() == 1) {
    for (int k = 0; k < s.num_outputs(); ++k)
      if (files[k].empty()) files[k] = s.num_outputs() == 1 ? plain[0] : IndexedPath(plain[0], k);
  }
  for (int k = 0; k < s.num_outputs(); ++k) {
    if (files[k].empty()) continue;
    const io::HostTensor t = s.Output(k);
    Must(io::WriteNpy(files[k], t));
    std::cout << "wrote " << files[k] << " (output '" << s.output_name(k) << "' "
              << io::ShapeString(t.shape) << " " << io::ElementTypeName(t.type) << ")\n";
  }
}

void PrintTopK(io::Session& s, int k) {
  const std::vector<float> scores = s.OutputAsFloat(0);
  const auto* labels = s.model().fb().labels();
  const bool probs = io::LooksLikeProbabilities(scores);
  const std::vector<float> p = probs ? scores : io::Softmax(scores);
  k = std::min<int>(k, static_cast<int>(scores.size()));
  std::cout << "top-" << k << " of output '" << s.output_name(0) << "' "
            << io::ShapeString(s.output_shape(0)) << ":\n";
  std::vector<std::string> headers = {"rank", "class", "label"};
  if (probs) {
    headers.push_back("probability");
  } else {
    headers.push_back("score");
    headers.push_back("softmax");
  }
  Table table(headers, {true, true, false, true, true});
  int rank = 1;
  for (int idx : io::TopK(scores, k)) {
    const std::string label =
        labels && static_cast<uint32_t>(idx) < labels->size() ? labels->Get(idx)->str() : "";
    std::vector<std::string> row = {std::to_string(rank++), std::to_string(idx), label,
                                    FormatFixed(scores[idx], 4)};
    if (!probs) row.push_back(FormatFixed(p[idx], 4));
    table.AddRow(row);
  }
  table.Print(std::cout);
}

void PrintTensor(io::Session& s, int k) {
  const std::vector<float> v = s.OutputAsFloat(k);
  std::cout << "output '" << s.output_name(k) << "' " << io::ShapeString(s.output_shape(k)) << " "
            << io::ModelDTypeName(s.output_dtype(k)) << ":\n  [";
  // Long tensors: the head and the tail, which is where layout mistakes usually show.
  constexpr size_t kHead = 16, kTail = 4;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v.size() > kHead + kTail && i == kHead) {
      std::cout << ", ... (" << v.size() - kHead - kTail << " more)";
      i = v.size() - kTail;
    }
    std::cout << (i ? ", " : "") << FormatFloat(v[i]);
  }
  std::cout << "]\n";
  if (!v.empty()) {
    double sum = 0, mn = v[0], mx = v[0];
    for (float x : v) {
      sum += x;
      mn = std::min<double>(mn, x);
      mx = std::max<double>(mx, x);
    }
    std::cout << "  min " << FormatFloat(mn) << "  max " << FormatFloat(mx) << "  mean "
              << FormatFloat(sum / static_cast<double>(v.size())) << "\n";
  }
}

bool IsClassifier(io::Session& s) {
  const opm::Model& fb = s.model().fb();
  int64_t n = 1;
  for (int64_t d : s.output_shape(0)) n *= d;
  if (fb.task() == opm::Task::CLASSIFICATION) return true;
  return fb.labels() != nullptr && fb.labels()->size() > 1 &&
         static_cast<int64_t>(fb.labels()->size()) == n;
}

void RunRun(const RunArgs& a) {
  const PipelineRunArgs& p = a.pipeline;
  if (IsPipelineFile(a.model)) {
    if (!a.inputs.empty() || !a.outputs.empty() || a.self_test)
      throw UsageError("a pipeline file reads its own source: drop --input/--output/--self-test");
    PipelineRunArgs run = p;
    run.file = a.model;
    if (a.threads_given) run.threads = a.threads;
    RunPipelineFile(run);
    return;
  }
  if (!p.json_report.empty() || p.max_frames || p.quiet || p.status || !p.model.empty())
    throw UsageError(
        "--json, --max-frames, --model, --quiet and --status are for pipeline files (.json)");
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  CheckThreads(a.threads);
  io::SessionOptions options;
  options.threads = a.threads;
  std::unique_ptr<io::Session> s = Must(io::Session::Create(model, options));
  if (a.self_test) {
    if (!a.inputs.empty() || !a.outputs.empty())
      throw UsageError("--self-test uses the model's own golden data: drop --input/--output");
    Must(s->RunSelfTest());
    std::cout << "self-test: passed (" << model.path() << ")\n";
    return;
  }
  if (a.inputs.empty()) throw UsageError("give --input FILE (or --self-test)");
  if (a.top_k < 1) throw UsageError("--top-k must be at least 1");
  const std::vector<std::string> files = AssignInputs(*s, a.inputs);
  for (int i = 0; i < s->num_inputs(); ++i) {
    const io::LoadedInput in = Must(io::LoadInputFile(*s, i, files[i]));
    if (a.verbose)
      std::cerr << "input '" << s->input_name(i) << "' <- " << files[i] << " (" << in.description
                << ")\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  Must(s->Run());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (a.verbose) std::cerr << "inference: " << FormatFixed(ms, 3) << " ms\n";

  if (!a.outputs.empty()) {
    WriteOutputs(*s, a.outputs);
    return;
  }
  for (int k = 0; k < s->num_outputs(); ++k) {
    if (k == 0 && IsClassifier(*s))
      PrintTopK(*s, a.top_k);
    else
      PrintTensor(*s, k);
  }
}

}  // namespace

Command AddRunCommand(CLI::App& root) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app = root.add_subcommand(
      "run", "Run a model once on a file or its self-test, or run a pipeline file");
  app->add_option("model", args->model, ".opm model file, or a pipeline file (.json)")->required();
  app->add_option("-i,--input", args->inputs,
                  "Input data: FILE or NAME=FILE (repeatable); .npy, raw little-endian .bin, or "
                  "an image preprocessed with the model's input spec")
      ->allow_extra_args(false);
  app->add_option("-o,--output", args->outputs,
                  "Write outputs as .npy: FILE (FILE_k.npy for several outputs) or NAME=FILE")
      ->allow_extra_args(false);
  app->add_option("-k,--top-k", args->top_k, "Classes to show for a classifier (default 5)");
  app->add_option("-t,--threads", args->threads, kThreadsHelp)
      ->each([args](const std::string&) { args->threads_given = true; });
  app->add_flag("--self-test", args->self_test,
                "Run the model's embedded golden input and compare with its golden output");
  app->add_flag("-v,--verbose", args->verbose,
                "Print how each input was read and the inference time on stderr");
  app->add_option("--model", args->pipeline.model,
                  "Pipeline: run this .opm instead of the file's model");
  app->add_option("--json", args->pipeline.json_report,
                  "Pipeline: write the final report as JSON to FILE");
  app->add_option("--max-frames", args->pipeline.max_frames,
                  "Pipeline: stop after N captured frames (overrides the file's max_frames)");
  app->add_flag("--quiet", args->pipeline.quiet, "Pipeline: no live status line on stderr");
  app->add_flag("--status", args->pipeline.status,
                "Pipeline: live status line on stderr even when it is not a terminal");
  app->footer(
      "Examples:\n"
      "  outpost run model.opm --input input.npy\n"
      "  outpost run model.opm --input shoe.png --top-k 3\n"
      "  outpost run model.opm --input x=input.npy --output y.npy\n"
      "  outpost run model.opm --self-test\n"
      "  outpost run examples/pipelines/images_classify.json --json report.json");
  return {app, [args] { RunRun(*args); }};
}

}  // namespace outpost::cli
