// ONNX node conformance: runs the ONNX backend node tests (libonnx-testdata) through the whole
// toolchain - import, graph passes, memory plan, .opm emission, runtime load and interpreter -
// and compares every output with the expected one.
//
//   onnx_conformance DIR [--filter SUBSTRING] [--verbose]
//
// DIR holds test_*/model.onnx and test_*/test_data_set_N/{input,output}_K.pb. A test is run
// when its model uses only operators the importer supports (Constant aside). Every input's
// value is given to the importer (ImportOptions::input_values), so inputs that feed
// parameters become constants; inputs that feed data stay runtime inputs and are fed to the
// interpreter. A test is skipped only when the importer refuses it with an "unsupported ..."
// error (a dtype, a 3-D op, an attribute value, ...); any other problem is a failure.
// Float outputs match with ONNX's backend tolerance (|a - b| <= 1e-7 + 1e-3 * |b|); integer
// and bool outputs must match exactly. Exit code 1 when a test failed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/emit/opm_writer.h"
#include "compiler/import/onnx_importer.h"
#include "compiler/passes/passes.h"
#include "compiler/plan/memory_planner.h"
#include "onnx/onnx_pb.h"
#include "runtime/fp16.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace fs = std::filesystem;

namespace outpost {
namespace {

constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

enum class Verdict { kPass, kFail, kSkip };

struct Outcome {
  Verdict verdict = Verdict::kPass;
  std::string reason;
};

Outcome Fail(const std::string& why) { return {Verdict::kFail, why}; }

// 64-byte aligned heap block: models and arenas must be aligned for the runtime.
struct AlignedBlock {
  std::unique_ptr<uint8_t[]> storage;
  uint8_t* data = nullptr;
  explicit AlignedBlock(size_t n) : storage(new uint8_t[n + 64]()) {
    data = storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64;
  }
};

template <typename Message>
bool ReadProto(const fs::path& path, Message* m) {
  std::ifstream f(path, std::ios::binary);
  return f && m->ParseFromIstream(&f);
}

// Files named <prefix><K>.pb in `dir`, ordered by K.
std::vector<fs::path> Numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().extension() != ".pb") continue;
    found.push_back({std::atoi(name.c_str() + prefix.size()), e.path()});
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [k, p] : found) out.push_back(p);
  return out;
}

// ONNX element types that exist in the runtime unchanged; other inputs are not passed (the
// importer then names the graph input's dtype).
bool ExactRuntimeType(int t) {
  using onnx::TensorProto;
  return t == TensorProto::FLOAT || t == TensorProto::INT8 || t == TensorProto::UINT8 ||
         t == TensorProto::INT16 || t == TensorProto::INT32 || t == TensorProto::INT64 ||
         t == TensorProto::BOOL;
}

std::string ShapeText(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

std::string ValueText(const ir::Tensor& t, size_t i) {
  std::ostringstream o;
  const uint8_t* p = t.data.data() + i * ir::DTypeBytes(t.dtype);
  switch (t.dtype) {
    case DType::FLOAT32: {
      float v;
      std::memcpy(&v, p, 4);
      o.precision(9);
      o << v;
      break;
    }
    case DType::INT8:
      o << static_cast<int>(*reinterpret_cast<const int8_t*>(p));
      break;
    case DType::UINT8:
    case DType::BOOL:
      o << static_cast<int>(*p);
      break;
    case DType::INT16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      o << v;
      break;
    }
    case DType::INT32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      o << v;
      break;
    }
    case DType::INT64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      o << v;
      break;
    }
    case DType::FLOAT16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      o << HalfToFloat(v);
      break;
    }
  }
  return o.str();
}

// Compares a runtime output with the expected tensor; empty string when they match.
std::string Compare(const TensorView& got, const ir::Tensor& want) {
  std::vector<int64_t> shape(got.dims, got.dims + got.rank);
  if (got.dtype != want.dtype)
    return std::string("dtype ") + opm::EnumNameDType(got.dtype) + ", expected " +
           opm::EnumNameDType(want.dtype);
  if (shape != want.shape)
    return "shape " + ShapeText(shape) + ", expected " + ShapeText(want.shape);
  if (got.bytes != want.data.size()) return "byte size differs";
  ir::Tensor g = want;
  std::memcpy(g.data.data(), got.data, got.bytes);
  const size_t n = static_cast<size_t>(want.num_elements());
  for (size_t i = 0; i < n; ++i) {
    bool ok;
    if (want.dtype == DType::FLOAT32) {
      const float a = g.values<float>()[i], b = want.values<float>()[i];
      if (std::isnan(b)) {
        ok = std::isnan(a);
      } else if (std::isinf(b)) {
        ok = a == b;
      } else {
        ok = std::fabs(static_cast<double>(a) - b) <= kAtol + kRtol * std::fabs(b);
      }
    } else {
      const size_t es = ir::DTypeBytes(want.dtype);
      ok = std::memcmp(g.data.data() + i * es, want.data.data() + i * es, es) == 0;
    }
    if (!ok)
      return "first mismatch at index " + std::to_string(i) + ": got " + ValueText(g, i) +
             ", expected " + ValueText(want, i);
  }
  return "";
}

// One data set: import with the set's input values, optimize, plan, emit, load, run, compare.
Outcome RunDataSet(const onnx::ModelProto& model, const fs::path& set, bool verbose) {
  std::vector<std::string> graph_inputs;
  std::set<std::string> initializers, non_tensors;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  for (const auto& v : model.graph().input()) {
    if (initializers.count(v.name())) continue;
    graph_inputs.push_back(v.name());
    if (!v.type().has_tensor_type()) non_tensors.insert(v.name());
  }

  import::ImportOptions options;
  std::map<std::string, ir::Tensor> values;  // every input, by graph input name
  const std::vector<fs::path> input_files = Numbered(set, "input_");
  for (size_t k = 0; k < input_files.size(); ++k) {
    // Sequences and optionals are stored as other messages; the importer refuses such inputs.
    if (k < graph_inputs.size() && non_tensors.count(graph_inputs[k])) continue;
    onnx::TensorProto p;
    if (!ReadProto(input_files[k], &p)) return Fail("cannot read " + input_files[k].string());
    std::string name = k < graph_inputs.size() ? graph_inputs[k] : p.name();
    if (!p.name().empty() &&
        std::find(graph_inputs.begin(), graph_inputs.end(), p.name()) != graph_inputs.end())
      name = p.name();
    if (!ExactRuntimeType(p.data_type())) continue;
    Expected<ir::Tensor> t = import::TensorFromOnnxProto(p);
    if (!t) return Fail("input " + name + ": " + t.message());
    values[name] = t.value();
    options.input_values[name] = t.value();
    // Symbolic dimensions take the data's size.
    const auto& shape = t.value().shape;
    if (std::all_of(shape.begin(), shape.end(), [](int64_t d) { return d >= 1; }))
      options.input_shapes[name] = shape;
  }

  Expected<ir::Graph> imported = import::ImportOnnxModel(model, options);
  if (!imported) {
    const std::string msg = imported.message();
    if (msg.find("unsupported") != std::string::npos) return {Verdict::kSkip, msg};
    return Fail("import: " + msg);
  }
  ir::Graph g = std::move(imported.value());
  if (verbose) {
    std::string ops;
    for (const ir::Node& n : g.nodes) ops += std::string(" ") + opm::EnumNameOpCode(n.op);
    std::printf("    %s: imported as%s\n", set.filename().c_str(),
                ops.empty() ? " (no nodes)" : ops.c_str());
  }
  std::vector<uint8_t> bytes;
  try {
    passes::Optimize(g);
    plan::PlanMemory(g);
    bytes = emit::EmitOpm(g);
  } catch (const Error& e) {
    return Fail(std::string("compile: ") + e.what());
  }

  AlignedBlock file(bytes.size());
  std::memcpy(file.data, bytes.data(), bytes.size());
  ErrorReporter errors;
  Model m;
  if (m.Load(file.data, bytes.size(), &errors) != Status::kOk)
    return Fail(std::string("load: ") + errors.message());
  AllOpsResolver resolver;
  if (RegisterAllKernels(resolver) != Status::kOk) return Fail("resolver too small");
  ArenaRequirement req;
  if (Interpreter::Measure(m, resolver, &req, &errors) != Status::kOk)
    return Fail(std::string("measure: ") + errors.message());
  AlignedBlock arena(req.total_bytes);
  Interpreter interp;
  if (interp.Init(m, resolver, arena.data, req.total_bytes, &errors) != Status::kOk)
    return Fail(std::string("init: ") + errors.message());
  for (int i = 0; i < interp.num_inputs(); ++i) {
    const std::string& name = g.tensors[g.inputs[i]].name;
    auto v = values.find(name);
    if (v == values.end()) return Fail("no data for runtime input '" + name + "'");
    if (v->second.data.size() != interp.input(i).bytes)
      return Fail("input '" + name + "' has " + std::to_string(v->second.data.size()) +
                  " bytes, the model takes " + std::to_string(interp.input(i).bytes));
    std::memcpy(interp.input(i).data, v->second.data.data(), v->second.data.size());
  }
  if (interp.Invoke() != Status::kOk) return Fail(std::string("invoke: ") + errors.message());

  const std::vector<fs::path> output_files = Numbered(set, "output_");
  if (static_cast<int>(output_files.size()) != interp.num_outputs())
    return Fail("model has " + std::to_string(interp.num_outputs()) + " outputs, test expects " +
                std::to_string(output_files.size()));
  for (size_t k = 0; k < output_files.size(); ++k) {
    onnx::TensorProto p;
    if (!ReadProto(output_files[k], &p)) return Fail("cannot read " + output_files[k].string());
    if (!ExactRuntimeType(p.data_type()))
      return Fail("expected output " + std::to_string(k) + " has ONNX type " +
                  std::to_string(p.data_type()) + ", which the import should have refused");
    Expected<ir::Tensor> want = import::TensorFromOnnxProto(p);
    if (!want) return Fail("output " + std::to_string(k) + ": " + want.message());
    const std::string diff = Compare(interp.output(static_cast<int>(k)), want.value());
    if (!diff.empty())
      return Fail("output " + std::to_string(k) + " ('" +
                  model.graph().output(static_cast<int>(k)).name() + "'): " + diff);
  }
  return {};
}

Outcome RunTest(const fs::path& dir, const onnx::ModelProto& model, bool verbose) {
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return Fail("no test_data_set_N directory");
  for (const fs::path& set : sets) {
    Outcome o = RunDataSet(model, set, verbose);
    if (verbose && o.verdict != Verdict::kPass)
      std::printf("    %s: %s\n", set.filename().c_str(), o.reason.c_str());
    if (o.verdict != Verdict::kPass) {
      if (sets.size() > 1) o.reason = set.filename().string() + ": " + o.reason;
      return o;
    }
  }
  return {};
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
};

int Main(int argc, char** argv) {
  std::string root, filter;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else if (a == "--verbose") {
      verbose = true;
    } else if (!a.empty() && a[0] != '-' && root.empty()) {
      root = a;
    } else {
      std::fprintf(stderr, "usage: onnx_conformance DIR [--filter SUBSTRING] [--verbose]\n");
      return 2;
    }
  }
  if (root.empty() || !fs::is_directory(root)) {
    std::fprintf(stderr, "onnx_conformance: '%s' is not a directory (install libonnx-testdata)\n",
                 root.c_str());
    return 2;
  }
  const std::vector<std::string> supported_list = import::SupportedOnnxOperators();
  const std::set<std::string> supported(supported_list.begin(), supported_list.end());

  std::vector<fs::path> tests;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("test_", 0) == 0 && name.find(filter) != std::string::npos)
      tests.push_back(e.path());
  }
  std::sort(tests.begin(), tests.end());

  std::map<std::string, Counts> per_op;
  Counts total;
  std::vector<std::string> skips, failures;
  for (const fs::path& dir : tests) {
    const std::string name = dir.filename().string();
    onnx::ModelProto model;
    if (!ReadProto(dir / "model.onnx", &model)) {
      if (verbose) std::printf("%s: model.onnx does not parse, not counted\n", name.c_str());
      continue;
    }
    // The test's operator: its first node that is not a Constant.
    std::string op;
    bool runnable = true;
    for (const auto& node : model.graph().node()) {
      if (node.op_type() == "Constant" && (node.domain().empty() || node.domain() == "ai.onnx"))
        continue;
      if (op.empty()) op = node.op_type();
      const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      if (!default_domain || !supported.count(node.op_type())) runnable = false;
    }
    if (!runnable || op.empty()) continue;
    const Outcome o = RunTest(dir, model, verbose);
    Counts& c = per_op[op];
    switch (o.verdict) {
      case Verdict::kPass:
        ++c.passed;
        ++total.passed;
        break;
      case Verdict::kFail:
        ++c.failed;
        ++total.failed;
        failures.push_back(name + ": " + o.reason);
        break;
      case Verdict::kSkip:
        ++c.skipped;
        ++total.skipped;
        skips.push_back(name + ": " + o.reason);
        break;
    }
    if (verbose)
      std::printf("%s: %s\n", name.c_str(),
                  o.verdict == Verdict::kPass   ? "passed"
                  : o.verdict == Verdict::kFail ? "FAILED"
                                                : "skipped");
  }

  for (const auto& [op, c] : per_op)
    std::printf("%s: %d passed, %d failed, %d skipped\n", op.c_str(), c.passed, c.failed,
                c.skipped);
  std::printf("conformance: %d passed, %d failed, %d skipped\n", total.passed, total.failed,
              total.skipped);
  if (!skips.empty()) {
    std::printf("\nskipped:\n");
    for (const std::string& s : skips) std::printf("  %s\n", s.c_str());
  }
  if (!failures.empty()) {
    std::printf("\nfailed:\n");
    for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
  }
  return total.failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace outpost

int main(int argc, char** argv) { return outpost::Main(argc, argv); }
