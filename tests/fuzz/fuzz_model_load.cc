// libFuzzer target: arbitrary bytes through the model reader, the planner check, every kernel's
// prepare and one invocation. Any crash, sanitizer report or hang is a bug.
#include "tests/fuzz/load_and_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::LoadAndRun(data, size);
  return 0;
}
