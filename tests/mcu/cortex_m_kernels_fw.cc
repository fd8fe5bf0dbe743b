// The Cortex-M DSP kernels (runtime/kernels/cortex_m/) against the reference kernels, bit for
// bit, on the board: every case of kernel_cases.h is run twice, once with a resolver of the
// reference kernels only and once with their DSP twins added after them. The second run must
// have chosen the twin (the kernel's name), and both outputs must equal each other and the
// host's, byte for byte. Prints one line per case and PASS or FAIL; exits 0 only on PASS.
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
outpost::MutableOpResolver<2> g_reference;
outpost::MutableOpResolver<4> g_dsp;

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

bool RunCase(const KernelCase& c) {
  Print(c.name);
  Print(": ");
  outpost::ErrorReporter errors;
  const char* failed = nullptr;
  if (g_model.Load(c.model, c.model_bytes, &errors) != Status::kOk) failed = "load";
  if (failed == nullptr && c.output_bytes > sizeof(g_reference_output)) failed = "output too big";
  if (failed == nullptr) failed = Run(c, g_reference, &errors);
  if (failed == nullptr) {
    memcpy(g_reference_output, g_interpreter.output(0).data, c.output_bytes);
    if (strstr(g_interpreter.kernel(0)->name, "_ref") == nullptr) failed = "not the reference";
  }
  if (failed == nullptr) failed = Run(c, g_dsp, &errors);
  if (failed == nullptr && strstr(g_interpreter.kernel(0)->name, "_cortex_m_dsp") == nullptr)
    failed = "the DSP kernel was not chosen";
  if (failed != nullptr) {
    Print("FAIL: ");
    Print(failed);
    Print(" ");
    Print(errors.message());
    Print("\n");
    return false;
  }
  const uint8_t* dsp = static_cast<const uint8_t*>(g_interpreter.output(0).data);
  size_t differ_ref = 0, differ_host = 0;
  for (size_t i = 0; i < c.output_bytes; ++i) {
    differ_ref += dsp[i] != g_reference_output[i];
    differ_host += dsp[i] != c.output[i];
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

}  // namespace

int main() {
  Print("cortex_m_kernels_fw on " OUTPOST_MCU_BOARD_NAME "\n");
  using namespace outpost::kernels;
  const outpost::KernelRegistration* refs[] = {&kConv2DI8Ref, &kFullyConnectedI8Ref};
  for (const outpost::KernelRegistration* k : refs) {
    if (g_reference.Add(*k) != Status::kOk || g_dsp.Add(*k) != Status::kOk) return 1;
  }
  // After the reference kernels: the later registration wins.
  if (g_dsp.Add(kConv2DI8CortexMDsp) != Status::kOk ||
      g_dsp.Add(kFullyConnectedI8CortexMDsp) != Status::kOk)
    return 1;
  size_t failed = 0;
  for (size_t i = 0; i < kNumKernelCases; ++i) failed += RunCase(kKernelCases[i]) ? 0 : 1;
  PrintUnsigned(static_cast<uint32_t>(kNumKernelCases));
  Print(" cases, ");
  PrintUnsigned(static_cast<uint32_t>(failed));
  Print(" failed\n");
  if (failed != 0) {
    Print("FAIL\n");
    return 1;
  }
  Print("PASS: the Cortex-M DSP kernels match the reference bit for bit\n");
  return 0;
}
