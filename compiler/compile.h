// The compiler driver: ONNX file -> import -> passes -> memory plan -> self-test -> .opm.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "compiler/import/onnx_importer.h"
#include "compiler/ir/graph.h"
#include "compiler/passes/passes.h"

namespace outpost::compiler {

struct CompileOptions {
  import::ImportOptions import;
  bool optimize = true;  // graph passes (constant folding, BN folding, fusion, DCE)
  // Overrides of what the ONNX metadata says about inputs and the task (empty: keep).
  std::optional<opm::Task> task;
  std::optional<std::vector<std::string>> labels;
  std::optional<std::vector<float>> mean;
  std::optional<std::vector<float>> std;
  std::optional<float> value_scale;
  std::optional<opm::Layout> layout;
  std::optional<opm::ColorFormat> color;
  // Embed a self-test: a seeded random input and the runtime's output for it.
  bool self_test = true;
  uint64_t self_test_seed = 1;
  std::function<void(const std::string&)> log;  // progress lines (may be empty)
};

struct CompileReport {
  size_t onnx_nodes = 0;
  size_t nodes_after_import = 0;
  size_t nodes_after_passes = 0;
  passes::PassStats passes;
  uint64_t arena_bytes = 0;
  uint64_t arena_lower_bound_bytes = 0;
  uint64_t macs = 0;
};

// Imports and optimizes an ONNX model into a planned graph (with a self-test when asked).
Expected<ir::Graph> CompileOnnx(const std::string& onnx_path, const CompileOptions& options,
                                CompileReport* report = nullptr);

// CompileOnnx, then emits .opm bytes.
Expected<std::vector<uint8_t>> CompileOnnxToOpm(const std::string& onnx_path,
                                                const CompileOptions& options,
                                                CompileReport* report = nullptr);

}  // namespace outpost::compiler
