#include "platform/cortex_m/semihosting.h"

namespace outpost {
namespace mcu {
namespace {

// Operation numbers from Arm's "Semihosting for AArch32 and AArch64" specification.
constexpr uint32_t kSysOpen = 0x01;
constexpr uint32_t kSysWrite = 0x05;
constexpr uint32_t kSysWrite0 = 0x04;
constexpr uint32_t kSysGetCmdline = 0x15;
constexpr uint32_t kSysExitExtended = 0x20;
constexpr uint32_t kAdpStoppedApplicationExit = 0x20026;
constexpr uint32_t kOpenModeWrite = 4;  // "w"

uint32_t Call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  // "memory": the host reads and writes the argument block and the buffers it points to.
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void SemihostingWrite0(const char* s) { Call(kSysWrite0, s); }

bool SemihostingWriteStdout(const void* data, size_t n) {
  // ":tt" is the host's console; opened once, on first use.
  static int32_t handle = -1;
  if (handle < 0) {
    // {name, mode, length of the name}
    const uint32_t open_args[3] = {reinterpret_cast<uint32_t>(":tt"), kOpenModeWrite, 3};
    handle = static_cast<int32_t>(Call(kSysOpen, open_args));
    if (handle < 0) return false;
  }
  const uint32_t args[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(data),
                            static_cast<uint32_t>(n)};
  return Call(kSysWrite, args) == 0;  // returns the number of bytes NOT written
}

int SemihostingGetCmdline(char* buf, size_t size) {
  if (size == 0) return -1;
  uint32_t args[2] = {reinterpret_cast<uint32_t>(buf), static_cast<uint32_t>(size)};
  if (Call(kSysGetCmdline, args) != 0) return -1;
  return static_cast<int>(args[1]);  // the host writes the length back
}

void SemihostingExit(int status) {
  const uint32_t args[2] = {kAdpStoppedApplicationExit, static_cast<uint32_t>(status)};
  Call(kSysExitExtended, args);
  // Only reached without a semihosting host: stop here rather than run off the end.
  for (;;) __asm__ volatile("wfi");
}

}  // namespace mcu
}  // namespace outpost
