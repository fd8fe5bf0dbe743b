/* How a firmware image ends: its status becomes qemu-system-arm's exit status (semihosting),
 * so a test runner sees success or failure. Usable from C (startup) and C++. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Flushes the console and exits with `status` (0: success). main()'s return value comes here. */
void outpost_mcu_exit(int status) __attribute__((noreturn));

/* The deepest the main stack went so far, in bytes: the start-up fills the stack with
 * OUTPOST_MCU_STACK_PAINT and this finds the lowest word that changed. The exit prints it. */
unsigned outpost_mcu_stack_used(void);
#define OUTPOST_MCU_STACK_PAINT 0x5354414Bu /* "STAK" */

/* Status of an image stopped by a CPU fault, an assertion, abort() or a pure virtual call. */
#define OUTPOST_MCU_FAULT_STATUS 3

#ifdef __cplusplus
}
#endif
