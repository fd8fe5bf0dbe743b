/* How a firmware image ends: its status becomes qemu-system-arm's exit status (semihosting),
 * so a test runner sees success or failure. Usable from C (startup) and C++. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Flushes the console and exits with `status` (0: success). main()'s return value comes here. */
void outpost_mcu_exit(int status) __attribute__((noreturn));

/* Status of an image stopped by a CPU fault, an assertion, abort() or a pure virtual call. */
#define OUTPOST_MCU_FAULT_STATUS 3

#ifdef __cplusplus
}
#endif
