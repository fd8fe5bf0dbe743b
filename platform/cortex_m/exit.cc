#include "platform/cortex_m/exit.h"

#include <stdint.h>

#include "platform/cortex_m/console.h"
#include "platform/cortex_m/semihosting.h"

extern "C" uint32_t __stack_top[], __stack_limit[];

extern "C" unsigned outpost_mcu_stack_used(void) {
  const uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == OUTPOST_MCU_STACK_PAINT) ++p;
  return static_cast<unsigned>(reinterpret_cast<uintptr_t>(__stack_top) -
                               reinterpret_cast<uintptr_t>(p));
}

// The stack figure goes with every run: RAM is the statics (arm-none-eabi-size) plus this.
extern "C" void outpost_mcu_exit(int status) {
  using namespace outpost::mcu;
  Flush();
  Print("stack: ");
  PrintUnsigned(outpost_mcu_stack_used());
  Print(" of ");
  PrintUnsigned(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(__stack_top) -
                                      reinterpret_cast<uintptr_t>(__stack_limit)));
  Print(" B used\n");
  outpost::mcu::SemihostingExit(status);
}

namespace {

// Configurable Fault Status and HardFault Status registers (System Control Block).
constexpr uintptr_t kScbCfsr = 0xE000ED28u;
constexpr uintptr_t kScbHfsr = 0xE000ED2Cu;

uint32_t Read(uintptr_t address) { return *reinterpret_cast<volatile uint32_t*>(address); }

}  // namespace

// Says where the CPU stopped and ends the run: under QEMU a fault otherwise just hangs.
// `frame` is the exception frame the CPU pushed: r0-r3, r12, lr, pc, xpsr.
extern "C" [[noreturn]] __attribute__((used)) void outpost_mcu_fault_report(const uint32_t* frame) {
  using namespace outpost::mcu;
  Flush();
  Print("\nfault: CFSR=0x");
  PrintHex(Read(kScbCfsr), 8);
  Print(" HFSR=0x");
  PrintHex(Read(kScbHfsr), 8);
  Print(" PC=0x");
  PrintHex(frame[6], 8);
  Print(" LR=0x");
  PrintHex(frame[5], 8);
  Print("\n");
  outpost_mcu_exit(OUTPOST_MCU_FAULT_STATUS);
}

// Naked: the frame is found from the stack pointer before any prologue moves it. Bit 2 of the
// exception return value in lr says which stack the frame went to (only the main stack is
// used, but a fault report should not lie). On Armv8-M the stack limit is lifted first: after a
// stack overflow (STKOF) the report itself would overflow again and lock the CPU up; it may
// now write a little below the limit, into .bss, which no longer matters.
extern "C" __attribute__((naked)) void outpost_mcu_fault_handler(void) {
  __asm__ volatile(
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
      "movs r0, #0\n\t"
      "msr msplim, r0\n\t"
#endif
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "b outpost_mcu_fault_report\n\t");
}
