// A compiled model as C++ source for a firmware image (`outpost export-c`): the model bytes as
// a const array (flash), a resolver holding only the reference kernels the model uses (and,
// in builds that define OUTPOST_CORTEX_M_MVE_KERNELS or OUTPOST_CORTEX_M_DSP_KERNELS, their
// Cortex-M twins), and an example main that runs it on a static arena sized from the model's
// figures.
//
// The arena size is exact, not a guess. Everything in it but the tensor views and operator
// records is a function of the model and the kernels (activations from the offline plan,
// scratch, kernel state, decoded constants), measured here on the host; those records depend
// on the device's pointer size, so the generated code adds
// Interpreter::BookkeepingBytes(tensors, operators) as the device's compiler evaluates it. The
// example checks the figure against Interpreter::Measure on the device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "runtime/model.h"

namespace outpost::exporter {

struct CExportOptions {
  // C identifier the generated names start with (NAME_model, NAME_ARENA_BYTES, ...).
  std::string name;
  // Shown in the generated files' header comment (e.g. the model's file name).
  std::string source_label;
};

struct CExportFile {
  std::string file_name;  // relative to the output folder, e.g. "kws_model.h"
  std::string text;
};

struct CExport {
  std::vector<CExportFile> files;  // NAME_model.h, NAME_model.cc, NAME_main.cc
  // Figures the files hold, for the caller's summary.
  uint64_t model_bytes = 0;
  uint64_t plan_bytes = 0;         // activations: the model's memory plan
  uint64_t lower_bound_bytes = 0;  // the plan's live-bytes lower bound (0 when not stored)
  uint64_t model_arena_bytes = 0;  // arena without the target-dependent records
  uint64_t host_arena_bytes = 0;   // the whole arena on this host, for comparison
  int num_tensors = 0;
  int num_operators = 0;
  std::vector<std::string> kernels;  // registration symbols, e.g. "kConv2DI8Ref"
  // Their twins for Cortex-M with the DSP extension, e.g. "kConv2DI8CortexMDsp", and with MVE
  // (Helium), e.g. "kConv2DI8CortexMMve", in the same order. The generated code registers
  // after them the MVE twins when OUTPOST_CORTEX_M_MVE_KERNELS is defined, else the DSP ones
  // when OUTPOST_CORTEX_M_DSP_KERNELS is.
  std::vector<std::string> cortex_m_kernels;
  std::vector<std::string> cortex_m_mve_kernels;
  uint64_t expected_output_bytes = 0;
};

// `name` must be a C identifier. The model must carry a self-test (its golden input is the
// example's input, and the host's reference-kernel output on it the expected output, compared
// bit for bit on the device). Errors name what is missing or unsupported.
Expected<CExport> ExportC(const Model& model, const CExportOptions& options);

// "kws_dscnn-int8.opm" -> "kws_dscnn_int8": a C identifier from a file name.
std::string CIdentifierFromFileName(const std::string& path);

}  // namespace outpost::exporter
