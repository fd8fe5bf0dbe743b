// Runs a committed int8 model on the board: load and verify it from flash, measure its arena,
// initialize the interpreter on a static arena with only the five kernels it uses, run its
// embedded self-test, then one more inference between the measurement marks, and compare that
// output with the self-test's golden output. Prints the output bytes and PASS or FAIL over
// semihosting; exits 0 only on PASS (the ctest verdict).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "platform/cortex_m/console.h"
#include "platform/cortex_m/measure_marks.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/model.h"
#include "runtime/op_resolver.h"

// tests/mcu/small_cnn_int8.opm, embedded by outpost_add_firmware(EMBED ...).
extern const unsigned char kSmallCnnInt8[];
extern const size_t kSmallCnnInt8_size;

namespace {

using outpost::Status;
using namespace outpost::mcu;

// Measure reports the exact need (printed below); this leaves some room for a model update.
constexpr size_t kArenaBytes = 8 * 1024;
alignas(outpost::Interpreter::kArenaAlignment) uint8_t g_arena[kArenaBytes];

// Statics rather than locals: the Interpreter holds a 160-byte error buffer, and the stack is
// better spent on kernels.
outpost::Model g_model;
outpost::MutableOpResolver<5> g_resolver;
outpost::Interpreter g_interpreter;

int Fail(const char* step, Status s, const char* detail) {
  Print("FAIL: ");
  Print(step);
  Print(": ");
  Print(outpost::StatusName(s));
  if (detail != nullptr && detail[0] != '\0') {
    Print(": ");
    Print(detail);
  }
  Print("\n");
  return 1;
}

}  // namespace

int main() {
  Print("runtime_selftest_fw on " OUTPOST_MCU_BOARD_NAME "\n");
  outpost::ErrorReporter errors;
  Status s = g_model.Load(kSmallCnnInt8, kSmallCnnInt8_size, &errors);
  if (s != Status::kOk) return Fail("load", s, errors.message());
  Print("model: ");
  PrintUnsigned(kSmallCnnInt8_size);
  Print(" bytes, ");
  PrintInt(g_model.num_operators());
  Print(" operators\n");

  // Only what this model uses: --gc-sections drops every other kernel from the image.
  using namespace outpost::kernels;
  for (const outpost::KernelRegistration* k :
       {&kConv2DI8Ref, &kReluI8Ref, &kReshapeI8Ref, &kFullyConnectedI8Ref, &kSoftmaxI8Ref}) {
    s = g_resolver.Add(*k);
    if (s != Status::kOk) return Fail("register kernels", s, nullptr);
  }

  outpost::ArenaRequirement need;
  s = outpost::Interpreter::Measure(g_model, g_resolver, &need, &errors);
  if (s != Status::kOk) return Fail("measure", s, errors.message());
  Print("arena: ");
  PrintUnsigned(need.total_bytes);
  Print(" bytes needed (activations ");
  PrintUnsigned(need.activation_bytes);
  Print(", scratch ");
  PrintUnsigned(need.scratch_bytes);
  Print(", state ");
  PrintUnsigned(need.state_bytes);
  Print("), ");
  PrintUnsigned(kArenaBytes);
  Print(" given\n");

  s = g_interpreter.Init(g_model, g_resolver, g_arena, sizeof(g_arena), &errors);
  if (s != Status::kOk) return Fail("init", s, errors.message());

  s = g_interpreter.RunSelfTest();
  if (s != Status::kOk) return Fail("self-test", s, g_interpreter.last_error());
  Print("self-test: passed\n");

  // Once more on the golden input, between the marks, and compared with the golden output
  // here: a second Invoke must give the same bits as the first.
  const outpost::opm::SelfTest* st = g_model.fb()->self_test();
  outpost::TensorView& in = g_interpreter.input(0);
  memcpy(in.data, g_model.BufferData(st->inputs()->Get(0)), in.bytes);
  outpost_mcu_mark_begin();
  s = g_interpreter.Invoke();
  outpost_mcu_mark_end();
  if (s != Status::kOk) return Fail("invoke", s, g_interpreter.last_error());
  const outpost::TensorView& out = g_interpreter.output(0);
  Print("output: ");
  PrintHexBytes(out.data, out.bytes);
  Print("\n");
  if (memcmp(out.data, g_model.BufferData(st->outputs()->Get(0)), out.bytes) != 0)
    return Fail("invoke", Status::kInternal, "output differs from the golden output");
  Print("PASS\n");
  return 0;
}
