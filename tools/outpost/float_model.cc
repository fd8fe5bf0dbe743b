#include "tools/outpost/float_model.h"

#include <iostream>

#include "compiler/compile.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/emit/prepack.h"
#include "compiler/quantize/opm_graph.h"
#include "io/mapped_file.h"
#include "tools/outpost/cli_util.h"

namespace outpost::cli {

ir::Graph LoadFloatModel(const std::string& path, const OnnxInputArgs& inputs, bool verbose,
                         uint64_t* float_opm_bytes) {
  io::MappedFile file = Must(io::MappedFile::Open(path));
  if (quant::IsOpm(file.bytes())) {
    if (inputs.any())
      throw UsageError(path +
                       " is a compiled .opm: input options (--batch, --input-shape, --mean, "
                       "--std, --value-scale, --layout, --color) apply to ONNX models only");
    // A float model compiled with --prepack also carries cached packed weights, which the
    // comparison of sizes leaves out.
    if (float_opm_bytes)
      *float_opm_bytes =
          file.size() - emit::CachedPackedFileBytes(file.bytes().data(), file.size());
    return Must(quant::GraphFromOpm(file.bytes(), path));
  }
  compiler::CompileOptions o;
  ApplyOnnxInputArgs(inputs, &o);
  o.self_test = true;  // only to size the float .opm the result replaces
  if (verbose) o.log = [](const std::string& line) { std::cerr << line << '\n'; };
  ir::Graph g = Must(compiler::CompileOnnx(path, o));
  if (float_opm_bytes) *float_opm_bytes = emit::EmitOpm(g).size();
  g.plan.reset();
  g.self_test.reset();
  return g;
}

}  // namespace outpost::cli
