// The runtime core alone, for the footprint check: model reader and verifier, resolver and
// interpreter (Measure, Init, Invoke, RunSelfTest), with no kernel registered, so none is
// linked. The model's address and size are read from volatile variables so that nothing is
// known at compile time and every path stays in the image; they are null here, and the run
// only checks that Load refuses that cleanly.
#include <stddef.h>
#include <stdint.h>

#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "runtime/op_resolver.h"

namespace {

const void* volatile g_model_bytes = nullptr;
volatile size_t g_model_size = 0;

alignas(outpost::Interpreter::kArenaAlignment) uint8_t g_arena[1024];
outpost::Model g_model;
outpost::MutableOpResolver<1> g_resolver;
outpost::Interpreter g_interpreter;

}  // namespace

int main() {
  using outpost::Status;
  Status s = g_model.Load(g_model_bytes, g_model_size);
  if (s == Status::kOk) {
    outpost::ArenaRequirement need;
    s = outpost::Interpreter::Measure(g_model, g_resolver, &need);
    if (s == Status::kOk) s = g_interpreter.Init(g_model, g_resolver, g_arena, sizeof(g_arena));
    if (s == Status::kOk) s = g_interpreter.RunSelfTest();
    if (s == Status::kOk) s = g_interpreter.Invoke();
  }
  // No model was given: Load must have refused it as an invalid argument.
  return s == Status::kInvalidArgument ? 0 : 1;
}
