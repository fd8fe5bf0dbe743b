// outpost export-c: a compiled model as C++ sources for a firmware image (the model bytes in
// flash, a resolver with only its kernels, an example main on a static arena of the planned
// size). The work is compiler/export/c_export.h's; this writes the files and the summary.
#include <filesystem>
#include <iostream>
#include <memory>

#include "compiler/export/c_export.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct ExportCArgs {
  std::string model;
  std::string output;
  std::string name;
};

void RunExportC(const ExportCArgs& a) {
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  Must(model.VerifyContentHashes());
  exporter::CExportOptions options;
  options.name = a.name.empty() ? exporter::CIdentifierFromFileName(a.model) : a.name;
  options.source_label = std::filesystem::path(a.model).filename().string();
  const exporter::CExport e = Must(exporter::ExportC(model.model(), options));

  std::error_code ec;
  std::filesystem::create_directories(a.output, ec);
  if (ec) throw Error("cannot create " + a.output + ": " + ec.message());
  for (const exporter::CExportFile& f : e.files)
    Must(io::WriteFileAtomic((std::filesystem::path(a.output) / f.file_name).string(),
                             std::string_view(f.text)));

  std::cout << "wrote " << a.output << "/{" << options.name << "_model.h, " << options.name
            << "_model.cc, " << options.name << "_main.cc}\n"
            << "  model:        " << FormatBytesExact(e.model_bytes) << " as a const array\n"
            << "  kernels:      " << e.kernels.size() << " reference kernels (";
  for (size_t i = 0; i < e.kernels.size(); ++i) std::cout << (i ? ", " : "") << e.kernels[i];
  std::cout << ")\n"
            << "  activations:  " << FormatBytesExact(e.plan_bytes) << " (the plan";
  if (e.lower_bound_bytes)
    std::cout << "; lower bound " << FormatBytesExact(e.lower_bound_bytes);
  std::cout << ")\n"
            << "  arena:        " << FormatBytesExact(e.model_arena_bytes) << " + "
            << e.num_tensors << " tensor views and " << e.num_operators
            << " operator records at the target's pointer size ("
            << FormatBytesExact(e.host_arena_bytes) << " in all on this host)\n"
            << "  check:        " << FormatBytesExact(e.expected_output_bytes)
            << " of expected output from this host's reference kernels\n";
}

}  // namespace

Command AddExportCCommand(CLI::App& root) {
  auto args = std::make_shared<ExportCArgs>();
  CLI::App* app = root.add_subcommand(
      "export-c", "Write a compiled .opm model as C++ sources for a firmware image");
  app->add_option("model", args->model, ".opm model file (with its self-test)")->required();
  app->add_option("-o,--output", args->output, "Output folder for NAME_model.h, NAME_model.cc, NAME_main.cc")
      ->required();
  app->add_option("--name", args->name,
                  "C identifier the generated names start with (default: from the file name)");
  return {app, [args] { RunExportC(*args); }};
}

}  // namespace outpost::cli
