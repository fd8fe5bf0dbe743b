// Arm semihosting: the firmware's only channel to the outside under QEMU (or a debug probe).
// Each call is a `bkpt 0xAB` with the operation in r0 and its argument in r1; the debugger
// (here qemu-system-arm with -semihosting-config enable=on) performs it on the host.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace outpost {
namespace mcu {

// Writes a NUL-terminated string to the host's debug console (SYS_WRITE0; QEMU's stderr).
void SemihostingWrite0(const char* s);

// Writes `n` bytes to the host's stdout (SYS_OPEN ":tt" once, then SYS_WRITE; QEMU's stdout).
// Returns false if the host refused.
bool SemihostingWriteStdout(const void* data, size_t n);

// Copies the command line QEMU was given (the kernel file name, then any -append text) into
// `buf`, NUL-terminated (SYS_GET_CMDLINE). Returns its length, or -1 if the host refused.
int SemihostingGetCmdline(char* buf, size_t size);

// Ends the program with `status` as QEMU's exit status (SYS_EXIT_EXTENDED, reason
// ADP_Stopped_ApplicationExit). Plain SYS_EXIT on 32-bit Arm cannot carry a status: QEMU would
// report 0 for every normal exit.
[[noreturn]] void SemihostingExit(int status);

}  // namespace mcu
}  // namespace outpost
