// Bare-metal test firmware for the instruction-counting plugin (tools/qemu_icount).
//
// It runs three windows between the markers outpost_mcu_mark_begin / outpost_mcu_mark_end,
// each written in assembly so that the instructions it executes are known exactly:
//
//   window 1: a loop of WINDOW1_ITERATIONS iterations                     2 * N1 + 2
//   window 2: a loop of WINDOW2_ITERATIONS iterations, then an SVC whose
//             handler returns at once (an exception taken and returned)    2 * N2 + 4
//   window 3: a division by zero that traps (UsageFault) in the middle of
//             a translation block, the handler skipping the division; then
//             an IT block whose condition fails                            11
//
// A window counts from the first instruction of outpost_mcu_mark_begin (its `bx lr`) up to
// the `bl outpost_mcu_mark_end` that closes it. The third window checks that a block left
// early is counted only as far as it ran (counting whole blocks would count the instructions
// after the division twice), and that an instruction skipped by its condition still counts, as
// the core still executes it (as a no-op). Outside the windows the run executes 23
// instructions, so the total is known as well.
//
// It exits through semihosting: SYS_EXIT with EXIT_REASON (by default
// ADP_Stopped_ApplicationExit) when every step ran, another reason (QEMU then exits with
// status 1) on any unexpected fault.
#include <stdint.h>

#ifndef WINDOW1_ITERATIONS
#define WINDOW1_ITERATIONS 1000
#endif
#ifndef WINDOW2_ITERATIONS
#define WINDOW2_ITERATIONS 12345
#endif

// The semihosting exit reason. The test also builds the firmware with another reason, to
// check that a failing firmware fails the count.
#ifndef EXIT_REASON
#define EXIT_REASON 0x20026  // ADP_Stopped_ApplicationExit: QEMU exits with status 0
#endif

#define SYS_EXIT 0x18
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023

extern uint32_t __stack_top;

void reset_handler(void);
void svc_handler(void);
void usage_fault_handler(void);
void unexpected_handler(void);

// The markers: one instruction each, so the windows' counts are exact. Other firmware can
// define them in C (docs/mcu-instruction-counting.md); naked functions keep this test
// independent of the compiler's code.
__attribute__((naked, noinline, used)) void outpost_mcu_mark_begin(void) {
  __asm__ volatile("bx lr");
}
__attribute__((naked, noinline, used)) void outpost_mcu_mark_end(void) {
  __asm__ volatile("bx lr");
}

__attribute__((noreturn)) static void semihosting_exit(uint32_t reason) {
  // AArch32 SYS_EXIT takes the reason itself in r1 (not a parameter block).
  register uint32_t op __asm__("r0") = SYS_EXIT;
  register uint32_t arg __asm__("r1") = reason;
  __asm__ volatile("bkpt 0xAB" : : "r"(op), "r"(arg) : "memory");
  for (;;) {
  }
}

__attribute__((section(".vectors"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))&__stack_top,  // initial main stack pointer
    reset_handler,
    unexpected_handler,   // NMI
    unexpected_handler,   // HardFault
    unexpected_handler,   // MemManage
    unexpected_handler,   // BusFault
    usage_fault_handler,  // UsageFault
    0, 0, 0, 0,
    svc_handler,
    unexpected_handler,   // DebugMonitor
    0,
    unexpected_handler,   // PendSV
    unexpected_handler,   // SysTick
};

// Returns at once: the exception entry and return are done by the core, not by instructions.
__attribute__((naked)) void svc_handler(void) {
  __asm__ volatile("bx lr");
}

// Resumes after the trapping 32-bit SDIV: the stacked return address (sp + 24 in the basic
// frame; no floating-point context, the FPU is never enabled) points at the division.
__attribute__((naked)) void usage_fault_handler(void) {
  __asm__ volatile(
      "ldr r0, [sp, #24]\n"
      "adds r0, r0, #4\n"
      "str r0, [sp, #24]\n"
      "bx lr\n");
}

void unexpected_handler(void) { semihosting_exit(ADP_STOPPED_RUNTIME_ERROR_UNKNOWN); }

#define STR_(x) #x
#define STR(x) STR_(x)

// The whole program is assembly so that the run's total is known too, not only its windows:
// 23 instructions outside the windows (counted on the right), whatever the compiler.
__attribute__((naked)) void reset_handler(void) {
  __asm__ volatile(
      // Division by zero traps (UsageFault) instead of giving 0; the UsageFault handler is
      // enabled so that the trap does not escalate to HardFault, which stays unexpected.
      "ldr r0, =0xE000ED14\n"        // CCR                                outside  1
      "ldr r1, [r0]\n"               //                                             1
      "orr r1, r1, #0x10\n"          // DIV_0_TRP                                   1
      "str r1, [r0]\n"               //                                             1
      "ldr r0, =0xE000ED24\n"        // SHCSR                                       1
      "ldr r1, [r0]\n"               //                                             1
      "orr r1, r1, #0x40000\n"       // USGFAULTENA                                 1
      "str r1, [r0]\n"               //                                             1
      "dsb\n"                        //                                             1
      "isb\n"                        //                                             1

      // Window 1: a loop.
      "ldr r4, =" STR(WINDOW1_ITERATIONS) "\n"  //                         outside  1
      "bl outpost_mcu_mark_begin\n"  //                                    outside  1
      //                                window opens in the marker: its bx lr       1
      "1: subs r4, r4, #1\n"         //                                             N1
      "bne 1b\n"                     //                                             N1
      "bl outpost_mcu_mark_end\n"    //                                             1
      //                                the end marker's bx lr            outside  1

      // Window 2: a loop, then an exception taken and returned from.
      "ldr r4, =" STR(WINDOW2_ITERATIONS) "\n"  //                         outside  1
      "bl outpost_mcu_mark_begin\n"  //                                    outside  1
      //                                bx lr                                       1
      "2: subs r4, r4, #1\n"         //                                             N2
      "bne 2b\n"                     //                                             N2
      "svc #0\n"                     //                                             1
      //                                svc_handler: bx lr                          1
      "bl outpost_mcu_mark_end\n"    //                                             1
      //                                bx lr                             outside  1

      // Window 3: a trap in the middle of a block.
      "movs r4, #7\n"                //                                    outside  1
      "movs r5, #0\n"                //                                    outside  1
      "bl outpost_mcu_mark_begin\n"  //                                    outside  1
      //                                bx lr                                       1
      "sdiv r4, r4, r5\n"            // traps                                       1
      //                                usage_fault_handler                         4
      "adds r4, r4, #1\n"            // same block as the division                  1
      "cmp r4, r4\n"                 //                                             1
      "it ne\n"                      // an IT block whose condition fails:          1
      "addne r4, r4, #1\n"           //   the skipped instruction counts too        1
      "bl outpost_mcu_mark_end\n"    //                                             1
      //                                bx lr                             outside  1

      // SYS_EXIT with EXIT_REASON.
      "movs r0, #0x18\n"             //                                    outside  1
      "ldr r1, =" STR(EXIT_REASON) "\n"  //                                outside  1
      "bkpt 0xAB\n"                  //                                    outside  1
      "3: b 3b\n"
      ".ltorg\n");
}
