// The Cortex-M kernels (runtime/kernels/cortex_m/) against the reference kernels, bit for bit,
// on the board: every case of kernel_cases.h is run with a resolver of the reference kernels
// only, then with their DSP-extension twins added after them and, on a CPU with MVE, with
// their MVE twins added after them instead. Each twin run must have chosen the twin (the
// kernel's name), and its output must equal the reference's and the host's, byte for byte.
// Prints one line per case and twin family and PASS or FAIL; exits 0 only on PASS.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel_cases.h"
#include "platform/cortex_m/console.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/model.h"
#include "runtime/op_resolver.h"

namespace {

using outpost::Status;
using namespace outpost::mcu;

constexpr size_t kArenaBytes = 48 * 1024;
alignas(outpost::Interpreter::kArenaAlignment) uint8_t g_arena[kArenaBytes];
uint8_t g_reference_output[8 * 1024];

outpost::Model g_model;
outpost::Interpreter g_interpreter;

// The reference kernels the cases use, and their twins of each family.
#define OUTPOST_REFERENCE_OF(NAME, DT) &outpost::kernels::k##NAME##DT##Ref,
#define OUTPOST_DSP_TWIN_OF(NAME, DT) &outpost::kernels::k##NAME##DT##CortexMDsp,
#define OUTPOST_MVE_TWIN_OF(NAME, DT) &outpost::kernels::k##NAME##DT##CortexMMve,
const outpost::KernelRegistration* const kReferences[] = {
    OUTPOST_CORTEX_M_TWINS(OUTPOST_REFERENCE_OF)};
constexpr size_t kNumTwins = sizeof(kReferences) / sizeof(kReferences[0]);
const outpost::KernelRegistration* const kDspTwins[] = {
    OUTPOST_CORTEX_M_TWINS(OUTPOST_DSP_TWIN_OF)};
#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
const outpost::KernelRegistration* const kMveTwins[] = {
    OUTPOST_CORTEX_M_TWINS(OUTPOST_MVE_TWIN_OF)};
#endif

struct TwinFamily {
  const char* suffix;  // of the twins' names
  const outpost::KernelRegistration* const* twins;
  outpost::MutableOpResolver<2 * kNumTwins> resolver;
};
TwinFamily g_families[] = {
    {"_cortex_m_dsp", kDspTwins, outpost::MutableOpResolver<2 * kNumTwins>(0)},
#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
    {"_cortex_m_mve", kMveTwins, outpost::MutableOpResolver<2 * kNumTwins>(0)},
#endif
};
outpost::MutableOpResolver<kNumTwins> g_reference;

// Runs the loaded case with `resolver`; leaves the output in g_interpreter. Null on success,
// else what failed.
const char* Run(const KernelCase& c, const outpost::OpResolver& resolver,
                outpost::ErrorReporter* errors) {
  if (g_interpreter.Init(g_model, resolver, g_arena, sizeof(g_arena), errors) != Status::kOk)
    return "init";
  outpost::TensorView& in = g_interpreter.input(0);
  if (in.bytes != c.input_bytes) return "input size";
  memcpy(in.data, c.input, c.input_bytes);
  if (g_interpreter.Invoke() != Status::kOk) return "invoke";
  if (g_interpreter.output(0).bytes != c.output_bytes) return "output size";
  return nullptr;
}

bool Failed(const char* what, const outpost::ErrorReporter& errors) {
  Print("FAIL: ");
  Print(what);
  Print(" ");
  Print(errors.message());
  Print("\n");
  return false;
}

// The case with one family of twins, against g_reference_output and the host's output.
bool RunTwins(const KernelCase& c, const TwinFamily& f) {
  Print(c.name);
  Print(": ");
  outpost::ErrorReporter errors;
  const char* failed = Run(c, f.resolver, &errors);
  if (failed == nullptr && strstr(g_interpreter.kernel(0)->name, f.suffix) == nullptr)
    failed = "the twin was not chosen";
  if (failed != nullptr) return Failed(failed, errors);
  const uint8_t* twin = static_cast<const uint8_t*>(g_interpreter.output(0).data);
  size_t differ_ref = 0, differ_host = 0;
  for (size_t i = 0; i < c.output_bytes; ++i) {
    differ_ref += twin[i] != g_reference_output[i];
    differ_host += twin[i] != c.output[i];
  }
  PrintUnsigned(c.output_bytes);
  Print(" B by ");
  Print(g_interpreter.kernel(0)->name);
  Print(", ");
  PrintUnsigned(differ_ref);
  Print(" differ from the reference, ");
  PrintUnsigned(differ_host);
  Print(" from the host\n");
  return differ_ref == 0 && differ_host == 0;
}

bool RunCase(const KernelCase& c) {
  outpost::ErrorReporter errors;
  const char* failed = nullptr;
  if (g_model.Load(c.model, c.model_bytes, &errors) != Status::kOk) failed = "load";
  if (failed == nullptr && c.output_bytes > sizeof(g_reference_output)) failed = "output too big";
  if (failed == nullptr) failed = Run(c, g_reference, &errors);
  if (failed == nullptr) {
    memcpy(g_reference_output, g_interpreter.output(0).data, c.output_bytes);
    if (strstr(g_interpreter.kernel(0)->name, "_ref") == nullptr) failed = "not the reference";
  }
  if (failed != nullptr) {
    Print(c.name);
    Print(": ");
    return Failed(failed, errors);
  }
  bool ok = true;
  for (const TwinFamily& f : g_families) ok = RunTwins(c, f) && ok;
  return ok;
}

}  // namespace

int main() {
  Print("cortex_m_kernels_fw on " OUTPOST_MCU_BOARD_NAME "\n");
  for (const outpost::KernelRegistration* k : kReferences) {
    if (g_reference.Add(*k) != Status::kOk) return 1;
    for (TwinFamily& f : g_families)
      if (f.resolver.Add(*k) != Status::kOk) return 1;
  }
  // After the reference kernels: the later registration wins.
  for (TwinFamily& f : g_families)
    for (size_t i = 0; i < kNumTwins; ++i)
      if (f.resolver.Add(*f.twins[i]) != Status::kOk) return 1;
  size_t failed = 0;
  for (size_t i = 0; i < kNumKernelCases; ++i) failed += RunCase(kKernelCases[i]) ? 0 : 1;
  PrintUnsigned(static_cast<uint32_t>(kNumKernelCases));
  Print(" cases, ");
  PrintUnsigned(static_cast<uint32_t>(sizeof(g_families) / sizeof(g_families[0])));
  Print(" twin families, ");
  PrintUnsigned(static_cast<uint32_t>(failed));
  Print(" cases failed\n");
  if (failed != 0) {
    Print("FAIL\n");
    return 1;
  }
#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
  Print("PASS: the Cortex-M DSP and MVE kernels match the reference bit for bit\n");
#else
  Print("PASS: the Cortex-M DSP kernels match the reference bit for bit\n");
#endif
  return 0;
}
