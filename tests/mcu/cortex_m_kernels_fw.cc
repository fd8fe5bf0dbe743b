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
#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
#include "runtime/kernels/cortex_m/mve_util.h"
#endif
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/model.h"
#include "runtime/op_resolver.h"

namespace {

using outpost::Status;
using namespace outpost::mcu;

constexpr size_t kArenaBytes = 48 * 1024;
alignas(outpost::Interpreter::kArenaAlignment) uint8_t g_arena[kArenaBytes];
uint8_t g_reference_output[10 * 1024];

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

#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
// RequantizeMve against int8::Requantize, lane by lane, on accumulators the model cases seldom
// reach: every shift from -31 to 30, multipliers 0, 2^30, 2^31 - 1 and random ones, the int32
// extremes, and values that the high multiply turns into exact ties of the rounding right
// shift, negative and positive (with m0 = 2^30 the high multiply of 2v is v). Returns how many
// of the checked values differ.
uint32_t CheckRequantize(uint32_t* checked) {
  uint32_t seed = 12345, differ = 0;
  auto next = [&seed]() {
    seed = seed * 1664525u + 1013904223u;
    return seed;
  };
  const int32_t ranges[3][3] = {{0, -128, 127}, {-128, -128, 127}, {127, -5, 6}};
  for (int32_t shift = -31; shift <= 30; ++shift) {
    const int32_t right = shift < 0 ? -shift : 0;
    const int32_t m0s[5] = {0, 1 << 30, INT32_MAX,
                            static_cast<int32_t>(next() | (1u << 30)) & INT32_MAX,
                            static_cast<int32_t>(next() | (1u << 30)) & INT32_MAX};
    for (int32_t mi = 0; mi < 5; ++mi) {
      outpost::kernels::QuantizedMultiplier q;
      q.m0 = m0s[mi];
      q.shift = shift;
      const outpost::kernels::cortex_m::MveMultiplier mm =
          outpost::kernels::cortex_m::MveMultiplierOf(q);
      int32_t xs[64];
      int32_t n = 0;
      xs[n++] = INT32_MIN, xs[n++] = INT32_MAX, xs[n++] = 0, xs[n++] = 1, xs[n++] = -1;
      xs[n++] = INT32_MIN + 1, xs[n++] = INT32_MAX - 1;
      for (int32_t k = -3; k <= 3 && right > 0; ++k) {
        // v = (2k + 1) * 2^(right - 1): a tie; x = 2v when it fits.
        const int64_t v = (2 * static_cast<int64_t>(k) + 1) << (right - 1);
        if (2 * v >= INT32_MIN && 2 * v <= INT32_MAX) xs[n++] = static_cast<int32_t>(2 * v);
        if (v + 1 >= INT32_MIN && v + 1 <= INT32_MAX) xs[n++] = static_cast<int32_t>(v + 1);
      }
      while (n < 64) {
        const uint32_t r = next();
        xs[n++] = static_cast<int32_t>(r) >> (r & 31);  // every magnitude
      }
      for (const auto& range : ranges) {
        outpost::kernels::int8::LinearOutput o = {};
        o.output_zp = range[0];
        o.act_min = range[1];
        o.act_max = range[2];
        for (int32_t i = 0; i < 64; i += 4) {
          const int32x4_t v = outpost::kernels::cortex_m::RequantizeMve(vld1q_s32(xs + i), mm, o);
          int32_t lanes[4];
          vst1q_s32(lanes, v);
          for (int32_t l = 0; l < 4; ++l) {
            const int32_t want =
                outpost::kernels::Requantize(xs[i + l], q, o.output_zp, o.act_min, o.act_max);
            differ += lanes[l] != want;
            ++*checked;
          }
        }
      }
    }
  }
  return differ;
}
#endif

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
#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)
  uint32_t checked = 0;
  const uint32_t differ = CheckRequantize(&checked);
  Print("RequantizeMve: ");
  PrintUnsigned(checked);
  Print(" accumulators, ");
  PrintUnsigned(differ);
  Print(" differ from Requantize\n");
  failed += differ != 0;
#endif
  for (size_t i = 0; i < kNumKernelCases; ++i) failed += RunCase(kKernelCases[i]) ? 0 : 1;
  PrintUnsigned(static_cast<uint32_t>(kNumKernelCases));
  constexpr size_t kFamilies = sizeof(g_families) / sizeof(g_families[0]);
  Print(" cases, each with ");
  PrintUnsigned(static_cast<uint32_t>(kFamilies));
  Print(kFamilies == 1 ? " family of twins, " : " families of twins, ");
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
