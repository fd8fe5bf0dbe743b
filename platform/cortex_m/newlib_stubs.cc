// What newlib and the C++ ABI may ask of the platform, kept to the minimum the runtime needs.
//
// No heap, by design (docs/portability.md): `_sbrk` is deliberately NOT defined anywhere, so a
// firmware that pulls in malloc (directly, or through printf or stdio) fails to link with
// "undefined reference to `_sbrk'" instead of growing a heap. Likewise operator new/delete and
// the exception and RTTI support of libstdc++ are not linked at all
// (cmake/toolchains/arm-none-eabi.cmake links through the C driver).
#include <stdint.h>

#include "platform/cortex_m/console.h"
#include "platform/cortex_m/exit.h"
#include "platform/cortex_m/semihosting.h"

namespace {

// Straight to the debug console (stderr under QEMU), after what the console had buffered.
void Write(const char* s) {
  outpost::mcu::Flush();
  outpost::mcu::SemihostingWrite0(s);
}

[[noreturn]] void Die(const char* what) {
  Write(what);
  outpost_mcu_exit(OUTPOST_MCU_FAULT_STATUS);
}

}  // namespace

extern "C" {

// newlib's exit() and abort() end here.
[[noreturn]] void _exit(int status) { outpost_mcu_exit(status); }

// newlib's abort() raises SIGABRT through _kill and _getpid; this one needs neither.
[[noreturn]] void abort(void) { Die("abort\n"); }

// assert() without newlib's fiprintf (and so without stdio and malloc). Only builds without
// NDEBUG compile asserts in (the FlatBuffers headers have some).
[[noreturn]] void __assert_func(const char* file, int line, const char* func, const char* expr) {
  Write("assertion failed: ");
  Write(expr ? expr : "?");
  Write(" in ");
  Write(func ? func : "?");
  Write(" (");
  Write(file ? file : "?");
  Write(")\n");
  (void)line;
  outpost_mcu_exit(OUTPOST_MCU_FAULT_STATUS);
}

// Called if a pure virtual function is ever reached (OpResolver::Find has one); libsupc++,
// which would otherwise provide it, is not linked.
[[noreturn]] void __cxa_pure_virtual(void) { Die("pure virtual call\n"); }

}  // extern "C"
