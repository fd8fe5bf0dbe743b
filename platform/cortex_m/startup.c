/* Reset and fault handling for the Cortex-M firmware images: the vector table, then C and C++
 * start-up without newlib's crt0 (linked with -nostartfiles). Written in C because C may call
 * main() directly. Symbols come from the linker scripts (sections.ld). */
#include <stdint.h>

#include "platform/cortex_m/exit.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[], __stack_limit[];
extern void (*__preinit_array_start[])(void), (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

int main(void);
void Reset_Handler(void) __attribute__((noreturn));
void outpost_mcu_fault_handler(void);

typedef void (*Handler)(void);

/* The architecture's 16 system exception entries; no interrupt is ever enabled, so no device
 * entries follow. The boot ROM of neither board exists in QEMU: the CPU reads the initial stack
 * pointer and the reset vector from address 0 (VTOR's reset value on both boards), where the
 * linker scripts place this table. */
__attribute__((section(".vectors"), used)) const Handler outpost_mcu_vectors[16] = {
    (Handler)__stack_top,      /* initial main stack pointer */
    Reset_Handler,
    outpost_mcu_fault_handler, /* NMI */
    outpost_mcu_fault_handler, /* HardFault */
    outpost_mcu_fault_handler, /* MemManage */
    outpost_mcu_fault_handler, /* BusFault */
    outpost_mcu_fault_handler, /* UsageFault */
    outpost_mcu_fault_handler, /* SecureFault (Armv8-M) */
    0, 0, 0,                   /* reserved */
    outpost_mcu_fault_handler, /* SVCall */
    outpost_mcu_fault_handler, /* DebugMonitor */
    0,                         /* reserved */
    outpost_mcu_fault_handler, /* PendSV */
    outpost_mcu_fault_handler, /* SysTick */
};

#define OUTPOST_SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)

/* Fills the stack below the current frame with a pattern, so that the exit can report the
 * deepest the stack went (outpost_mcu_stack_used). 64 words under the stack pointer are left
 * alone: whatever this function and its caller still keep there. Volatile stores: a memset call
 * would have its own frame in the region it fills. */
static void PaintStack(void) {
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t* p = __stack_limit; p < sp - 64; ++p) *p = OUTPOST_MCU_STACK_PAINT;
}

/* The copy and clear loops run before .data and .bss are valid; they use no global state.
 * Loop-to-memcpy/memset conversion is harmless here (newlib's versions use no globals). */
void Reset_Handler(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* Full access to coprocessors 10 and 11 (the FPU and, on the M55, MVE) before any
   * floating-point instruction: the compiler may use them in anything after this point. */
  OUTPOST_SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
  /* Armv8-M checks the main stack against this limit: an overflow becomes a UsageFault
   * (STKOF) instead of silently overwriting .bss. */
  __asm__ volatile("msr msplim, %0" : : "r"(__stack_limit));
#endif
  PaintStack();
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  for (void (**f)(void) = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
  for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)();
  outpost_mcu_exit(main());
}
