#include "compiler/export/c_export.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "runtime/interpreter.h"
#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/op_resolver.h"

namespace outpost::exporter {
namespace {

// Every reference kernel with the name of its registration symbol: the generated resolver
// names exactly the ones the model needs, so the linker keeps no other kernel.
struct NamedKernel {
  const KernelRegistration* kernel;
  const char* symbol;
};
#define OUTPOST_NAMED_KERNEL(NAME, DT) {&kernels::k##NAME##DT##Ref, "k" #NAME #DT "Ref"},
const NamedKernel kReferenceKernels[] = {OUTPOST_REFERENCE_KERNELS(OUTPOST_NAMED_KERNEL)};
#undef OUTPOST_NAMED_KERNEL

// Reference kernels with twins for Cortex-M CPUs (runtime/kernels/cortex_m/, listed there by
// OUTPOST_CORTEX_M_TWINS): same prepare, operator state and memory, bit-exact eval. The
// generated resolver adds one twin after its reference kernel (the later registration wins in
// MutableOpResolver::Find) in builds that compile the twins: the MVE one where the build
// defines OUTPOST_CORTEX_M_MVE_KERNELS, else the DSP-extension one where it defines
// OUTPOST_CORTEX_M_DSP_KERNELS; elsewhere (the host) the generated code names only the
// reference kernels. Since the twins need no more memory, the exported arena holds either way.
struct CortexMTwins {
  const char* reference;
  const char* dsp;
  const char* mve;
};
#define OUTPOST_CORTEX_M_TWIN_NAMES(NAME, DT) \
  {"k" #NAME #DT "Ref", "k" #NAME #DT "CortexMDsp", "k" #NAME #DT "CortexMMve"},
const CortexMTwins kCortexMTwins[] = {OUTPOST_CORTEX_M_TWINS(OUTPOST_CORTEX_M_TWIN_NAMES)};
#undef OUTPOST_CORTEX_M_TWIN_NAMES

// The preprocessor test for "this build compiles Cortex-M twins".
constexpr const char* kAnyCortexMTwins =
    "#if defined(OUTPOST_CORTEX_M_MVE_KERNELS) || defined(OUTPOST_CORTEX_M_DSP_KERNELS)\n";

constexpr size_t kReferenceCount = sizeof(kReferenceKernels) / sizeof(kReferenceKernels[0]);
using ReferenceResolver = MutableOpResolver<kReferenceCount>;

bool IsCIdentifier(const std::string& s) {
  if (s.empty() || !(isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

// 16 bytes per line, as a C initializer body.
void AppendBytes(std::ostringstream& out, const uint8_t* data, size_t n) {
  char buf[8];
  for (size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) out << (i ? "\n    " : "    ");
    snprintf(buf, sizeof(buf), "0x%02x,", data[i]);
    out << buf << (i % 16 == 15 || i + 1 == n ? "" : " ");
  }
  out << "\n";
}

struct HostRun {
  std::vector<std::vector<uint8_t>> inputs, outputs;
  std::vector<const KernelRegistration*> kernels;  // the kernel of each operator
  uint64_t host_arena_bytes = 0;
};

// Runs the model's self-test input through the reference kernels on this host: the output the
// device must reproduce bit for bit.
HostRun RunOnHost(const Model& model, const ReferenceResolver& resolver) {
  ArenaRequirement need;
  ErrorReporter errors;
  if (Interpreter::Measure(model, resolver, &need, &errors) != Status::kOk)
    throw Error(std::string("export-c: ") + errors.message());
  std::vector<uint8_t> storage(need.total_bytes + Interpreter::kArenaAlignment);
  Interpreter interp;
  if (interp.Init(model, resolver, storage.data(), storage.size(), &errors) != Status::kOk)
    throw Error(std::string("export-c: the reference kernels cannot run this model: ") +
                errors.message());
  const opm::SelfTest* st = model.fb()->self_test();
  HostRun run;
  run.host_arena_bytes = need.total_bytes;
  for (int i = 0; i < interp.num_operators(); ++i) run.kernels.push_back(interp.kernel(i));
  for (int i = 0; i < interp.num_inputs(); ++i) {
    const TensorView& in = interp.input(i);
    const uint8_t* golden = model.BufferData(st->inputs()->Get(i));
    if (golden == nullptr || model.BufferSize(st->inputs()->Get(i)) != in.bytes)
      throw Error("export-c: the self-test input " + std::to_string(i) +
                  " does not match the model's input size");
    memcpy(in.data, golden, in.bytes);
    run.inputs.emplace_back(golden, golden + in.bytes);
  }
  if (interp.Invoke() != Status::kOk)
    throw Error(std::string("export-c: the model failed on its self-test input: ") +
                interp.last_error());
  for (int o = 0; o < interp.num_outputs(); ++o) {
    const TensorView& out = interp.output(o);
    const uint8_t* p = static_cast<const uint8_t*>(out.data);
    run.outputs.emplace_back(p, p + out.bytes);
  }
  return run;
}

std::string Header(const CExportOptions& o, const CExport& e, const std::string& upper,
                   const HostRun& run) {
  std::ostringstream h;
  h << "// " << o.name << ": the model " << o.source_label
    << " for a firmware image. Generated by `outpost export-c`; do not edit.\n"
    << "#pragma once\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#include \"runtime/interpreter.h\"\n#include \"runtime/op_resolver.h\"\n\n"
    << "// The model file, 64-byte aligned (its constants are read in place, from flash).\n"
    << "extern const uint8_t " << o.name << "_model[];\n"
    << "extern const size_t " << o.name << "_model_bytes;\n\n"
    << "// The arena: activations (the offline plan, " << e.plan_bytes << " B";
  if (e.lower_bound_bytes) h << "; live-bytes lower bound " << e.lower_bound_bytes << " B";
  h << "),\n// scratch and kernel state are " << e.model_arena_bytes
    << " B on any target; the tensor views and operator records\n"
    << "// depend on the target's pointer size and are added by its compiler.\n"
    << "#define " << upper << "_PLAN_BYTES " << e.plan_bytes << "u\n"
    << "#define " << upper << "_LOWER_BOUND_BYTES " << e.lower_bound_bytes << "u\n"
    << "#define " << upper << "_MODEL_ARENA_BYTES " << e.model_arena_bytes << "u\n"
    << "#define " << upper << "_NUM_TENSORS " << e.num_tensors << "u\n"
    << "#define " << upper << "_NUM_OPERATORS " << e.num_operators << "u\n"
    << "#define " << upper << "_ARENA_BYTES (" << upper << "_MODEL_ARENA_BYTES + "
    << "outpost::Interpreter::BookkeepingBytes(" << upper << "_NUM_TENSORS, " << upper
    << "_NUM_OPERATORS))\n\n"
    << "// The kernels this model uses, and nothing else";
  if (e.cortex_m_kernels.empty()) {
    h << ".\n"
      << "constexpr size_t " << upper << "_NUM_KERNELS = " << e.kernels.size() << ";\n";
  } else {
    h << " (with the Cortex-M twins\n// of some, in builds that have them).\n"
      << kAnyCortexMTwins << "constexpr size_t " << upper
      << "_NUM_KERNELS = " << e.kernels.size() + e.cortex_m_kernels.size() << ";\n"
      << "#else\n"
      << "constexpr size_t " << upper << "_NUM_KERNELS = " << e.kernels.size() << ";\n"
      << "#endif\n";
  }
  h << "using " << o.name << "_resolver = outpost::MutableOpResolver<" << upper
    << "_NUM_KERNELS>;\n"
    << "outpost::Status " << o.name << "_register_kernels(" << o.name << "_resolver& resolver);\n\n"
    << "// The model's self-test input, and the output the host's reference kernels give for it:\n"
    << "// the device must reproduce it bit for bit.\n"
    << "extern const uint8_t* const " << o.name << "_inputs[];\n"
    << "extern const size_t " << o.name << "_input_bytes[];\n"
    << "extern const uint8_t* const " << o.name << "_expected_outputs[];\n"
    << "extern const size_t " << o.name << "_output_bytes[];\n"
    << "constexpr int " << upper << "_NUM_INPUTS = " << run.inputs.size() << ";\n"
    << "constexpr int " << upper << "_NUM_OUTPUTS = " << run.outputs.size() << ";\n";
  return h.str();
}


// The example firmware's main: @NAME@ once on a static arena, its output checked against the
// host's bit for bit. @NAME@ and @UPPER@ are replaced by the model's names.
constexpr const char* kExampleMain = R"(// Runs @NAME@ once on a static arena and checks its output against the host's, bit for bit.
// Generated by `outpost export-c` from @SOURCE@: an example to start a firmware from.
//
// The board support provides three functions (platform/cortex_m/ does for QEMU's MPS2 and MPS3
// boards): text output, and two empty functions around the inference where an instruction
// counter or a debugger can stop.
#include <string.h>

#include "@NAME@_model.h"

extern "C" void outpost_debug_log(const char* text);
extern "C" void outpost_mcu_mark_begin(void);
extern "C" void outpost_mcu_mark_end(void);

namespace {

// The whole working memory of the model: no heap, no trial and error.
alignas(outpost::Interpreter::kArenaAlignment) uint8_t g_arena[@UPPER@_ARENA_BYTES];

void PrintNumber(const char* label, unsigned long value, const char* unit) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  char text[20];
  for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  outpost_debug_log(label);
  outpost_debug_log(text);
  outpost_debug_log(unit);
}

int Fail(const char* what, const char* why) {
  outpost_debug_log("FAIL: ");
  outpost_debug_log(what);
  outpost_debug_log(": ");
  outpost_debug_log(why);
  outpost_debug_log("\n");
  return 1;
}

}  // namespace

int main() {
  outpost::ErrorReporter errors;
  outpost::Model model;
  if (model.Load(@NAME@_model, @NAME@_model_bytes, &errors) != outpost::Status::kOk)
    return Fail("load", errors.message());
  @NAME@_resolver resolver;
  if (@NAME@_register_kernels(resolver) != outpost::Status::kOk)
    return Fail("kernels", "the resolver is too small");
  outpost::ArenaRequirement need;
  if (outpost::Interpreter::Measure(model, resolver, &need, &errors) != outpost::Status::kOk)
    return Fail("measure", errors.message());
  PrintNumber("@NAME@: arena ", sizeof(g_arena), " B");
  PrintNumber(" (activations ", need.activation_bytes, " B");
  PrintNumber(", scratch ", need.scratch_bytes, " B");
  PrintNumber(", state ", need.state_bytes, " B)\n");
  if (need.total_bytes != sizeof(g_arena)) {
    PrintNumber("the runtime measures ", need.total_bytes, " B\n");
    return Fail("arena", "the exported size differs from Interpreter::Measure");
  }
  outpost::Interpreter interpreter;
  if (interpreter.Init(model, resolver, g_arena, sizeof(g_arena), &errors) != outpost::Status::kOk)
    return Fail("init", errors.message());
  for (int i = 0; i < @UPPER@_NUM_INPUTS; ++i)
    memcpy(interpreter.input(i).data, @NAME@_inputs[i], @NAME@_input_bytes[i]);

  outpost_mcu_mark_begin();
  const outpost::Status status = interpreter.Invoke();
  outpost_mcu_mark_end();
  if (status != outpost::Status::kOk) return Fail("invoke", errors.message());

  for (int o = 0; o < @UPPER@_NUM_OUTPUTS; ++o) {
    const outpost::TensorView& out = interpreter.output(o);
    if (out.bytes != @NAME@_output_bytes[o]) return Fail("output", "size differs from the host's");
    size_t differ = 0;
    const uint8_t* got = static_cast<const uint8_t*>(out.data);
    for (size_t k = 0; k < out.bytes; ++k) differ += got[k] != @NAME@_expected_outputs[o][k];
    PrintNumber("output ", static_cast<unsigned long>(o), ": ");
    PrintNumber("", out.bytes, " B, ");
    PrintNumber("", differ, " differ from the host\n");
    if (differ != 0) return Fail("output", "not bit-exact with the host's reference kernels");
  }
  outpost_debug_log("PASS: @NAME@ matches the host bit for bit\n");
  return 0;
}
)";

std::string ExampleMain(const std::string& name, const std::string& upper,
                        const std::string& source) {
  std::string text = kExampleMain;
  auto replace_all = [&text](const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace_all("@NAME@", name);
  replace_all("@UPPER@", upper);
  replace_all("@SOURCE@", source);
  return text;
}

}  // namespace

std::string CIdentifierFromFileName(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos
                                     ? 0
                                     : path.find_last_of('/') + 1);
  const size_t dot = base.find('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  std::string id;
  for (char c : base) id += isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || isdigit(static_cast<unsigned char>(id[0]))) id = "model_" + id;
  return id;
}

Expected<CExport> ExportC(const Model& model, const CExportOptions& options) {
  return Capture([&]() -> CExport {
    if (!IsCIdentifier(options.name))
      throw Error("export-c: '" + options.name + "' is not a C identifier (use --name)");
    if (model.fb()->self_test() == nullptr || model.fb()->self_test()->inputs() == nullptr)
      throw Error(
          "export-c: the model carries no self-test input (outpost compile and quantize embed "
          "one)");
    ReferenceResolver resolver(0);
    for (const NamedKernel& k : kReferenceKernels) (void)resolver.Add(*k.kernel);

    CExport e;
    e.model_bytes = model.size();
    e.num_tensors = model.num_tensors();
    e.num_operators = model.num_operators();
    e.plan_bytes = model.arena_bytes();
    e.lower_bound_bytes = model.fb()->plan() ? model.fb()->plan()->lower_bound_bytes() : 0;
    const HostRun run = RunOnHost(model, resolver);
    // The kernels the interpreter chose, in the order the model first uses them.
    std::map<const KernelRegistration*, const char*> symbols;
    for (const NamedKernel& k : kReferenceKernels) symbols[k.kernel] = k.symbol;
    for (const KernelRegistration* k : run.kernels) {
      const std::string symbol = symbols.at(k);
      bool seen = false;
      for (const std::string& s : e.kernels) seen = seen || s == symbol;
      if (!seen) e.kernels.push_back(symbol);
    }
    for (const std::string& k : e.kernels)
      for (const CortexMTwins& t : kCortexMTwins) {
        if (k != t.reference) continue;
        e.cortex_m_kernels.push_back(t.dsp);
        e.cortex_m_mve_kernels.push_back(t.mve);
      }
    e.host_arena_bytes = run.host_arena_bytes;
    e.model_arena_bytes =
        run.host_arena_bytes - Interpreter::BookkeepingBytes(static_cast<size_t>(e.num_tensors),
                                                             static_cast<size_t>(e.num_operators));
    for (const auto& o : run.outputs) e.expected_output_bytes += o.size();

    const std::string& n = options.name;
    const std::string upper = Upper(n);
    e.files.push_back({n + "_model.h", Header(options, e, upper, run)});

    std::ostringstream c;
    c << "// " << n << ": the model " << options.source_label
      << " as data. Generated by `outpost export-c`; do not edit.\n"
      << "#include \"" << n << "_model.h\"\n\n"
      << "#include \"runtime/kernels/reference/reference_kernels.h\"\n";
    if (!e.cortex_m_kernels.empty())
      c << kAnyCortexMTwins << "#include \"runtime/kernels/cortex_m/cortex_m_kernels.h\"\n"
        << "#endif\n";
    c << "\n"
      << "alignas(64) const uint8_t " << n << "_model[] = {\n";
    AppendBytes(c, model.bytes(), model.size());
    c << "};\nconst size_t " << n << "_model_bytes = sizeof(" << n << "_model);\n\n";
    c << "outpost::Status " << n << "_register_kernels(" << n << "_resolver& resolver) {\n";
    for (const std::string& k : e.kernels)
      c << "  OUTPOST_RETURN_IF_ERROR(resolver.Add(outpost::kernels::" << k << "));\n";
    if (!e.cortex_m_kernels.empty()) {
      auto add = [&](const std::vector<std::string>& twins) {
        for (const std::string& k : twins)
          c << "  OUTPOST_RETURN_IF_ERROR(resolver.Add(outpost::kernels::" << k << "));\n";
      };
      c << "  // Bit-exact twins, added last so that they are the ones chosen: using MVE (Helium)\n"
        << "  // where the CPU has it, else the DSP extension.\n"
        << "#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)\n";
      add(e.cortex_m_mve_kernels);
      c << "#elif defined(OUTPOST_CORTEX_M_DSP_KERNELS)\n";
      add(e.cortex_m_kernels);
      c << "#endif\n";
    }
    c << "  return outpost::Status::kOk;\n}\n\nnamespace {\n";
    for (size_t i = 0; i < run.inputs.size(); ++i) {
      c << "alignas(16) const uint8_t kInput" << i << "[] = {\n";
      AppendBytes(c, run.inputs[i].data(), run.inputs[i].size());
      c << "};\n";
    }
    for (size_t i = 0; i < run.outputs.size(); ++i) {
      c << "alignas(16) const uint8_t kExpectedOutput" << i << "[] = {\n";
      AppendBytes(c, run.outputs[i].data(), run.outputs[i].size());
      c << "};\n";
    }
    c << "}  // namespace\n\n";
    auto table = [&](const char* what, const char* prefix, size_t count) {
      c << "const uint8_t* const " << n << "_" << what << "[] = {";
      for (size_t i = 0; i < count; ++i) c << (i ? ", " : "") << prefix << i;
      c << "};\n";
    };
    auto sizes = [&](const char* what, const std::vector<std::vector<uint8_t>>& v) {
      c << "const size_t " << n << "_" << what << "[] = {";
      for (size_t i = 0; i < v.size(); ++i) c << (i ? ", " : "") << v[i].size();
      c << "};\n";
    };
    table("inputs", "kInput", run.inputs.size());
    sizes("input_bytes", run.inputs);
    table("expected_outputs", "kExpectedOutput", run.outputs.size());
    sizes("output_bytes", run.outputs);
    e.files.push_back({n + "_model.cc", c.str()});
    e.files.push_back({n + "_main.cc", ExampleMain(n, upper, options.source_label)});
    return e;
  });
}

}  // namespace outpost::exporter
