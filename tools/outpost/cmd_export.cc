// outpost export: a compiled .opm model back out as ONNX, so other runtimes can run exactly
// the graph Outpost runs (the optimized float graph, or the int8 one in QDQ form).
#include <iostream>
#include <memory>

#include "compiler/emit/opm_reader.h"
#include "compiler/export/onnx_export.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct ExportArgs {
  std::string model;
  std::string output;
  int opset = 17;
  std::string activations = "int8";
};

void RunExport(const ExportArgs& a) {
  if (a.opset < 13) throw UsageError("--opset must be 13 or later (per-axis QDQ needs 13)");
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  Must(model.VerifyContentHashes());
  const ir::Graph graph = emit::ReadOpmGraph(model.model());
  exporter::OnnxExportOptions options;
  options.opset = a.opset;
  options.uint8_activations = a.activations == "uint8";
  const std::string onnx = exporter::ExportOnnx(graph, options);
  Must(io::WriteFileAtomic(a.output, std::string_view(onnx)));
  size_t quantized = 0;
  for (const ir::Tensor& t : graph.tensors) quantized += t.quant.present() ? 1 : 0;
  std::cout << "wrote " << a.output << ": " << graph.nodes.size() << " operators, opset "
            << a.opset << ", " << FormatBytes(onnx.size())
            << (quantized ? ", quantized tensors in QDQ form" : "") << "\n";
}

}  // namespace

Command AddExportCommand(CLI::App& root) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* app = root.add_subcommand("export", "Write a compiled .opm model as ONNX (QDQ when quantized)");
  app->add_option("model", args->model, ".opm model file")->required();
  app->add_option("-o,--output", args->output, "Output .onnx file (written atomically)")->required();
  app->add_option("--opset", args->opset, "ONNX opset to declare (default 17)");
  app->add_option("--activations", args->activations,
                  "Type of the int8 model's activations in the QDQ form: int8 (default), or uint8 "
                  "with zero points + 128, the same values in the form ONNX Runtime's x86 integer "
                  "kernels take")
      ->check(CLI::IsMember({"int8", "uint8"}));
  return {app, [args] { RunExport(*args); }};
}

}  // namespace outpost::cli
