#include "platform/cortex_m/console.h"

#include "platform/cortex_m/semihosting.h"

namespace outpost {
namespace mcu {
namespace {

// Each semihosting call stops the emulated CPU and crosses into the host, so output is sent a
// line at a time rather than a character at a time.
char g_line[128];
size_t g_used = 0;

void Put(char c) {
  g_line[g_used++] = c;
  if (c == '\n' || g_used == sizeof(g_line)) Flush();
}

// 32-bit arithmetic only: 64-bit division would pull libgcc's __aeabi_uldivmod in.
void PutDigits(uint32_t v, uint32_t base, int min_digits) {
  char tmp[32];
  int n = 0;
  do {
    const uint32_t d = v % base;
    tmp[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + (d - 10));
    v /= base;
  } while (v != 0 && n < 32);
  while (n < min_digits && n < 32) tmp[n++] = '0';
  while (n > 0) Put(tmp[--n]);
}

}  // namespace

void Flush() {
  if (g_used == 0) return;
  SemihostingWriteStdout(g_line, g_used);
  g_used = 0;
}

void Print(const char* s) {
  while (*s) Put(*s++);
}

void PrintInt(int32_t v) {
  if (v < 0) {
    Put('-');
    PutDigits(0u - static_cast<uint32_t>(v), 10, 1);
  } else {
    PutDigits(static_cast<uint32_t>(v), 10, 1);
  }
}

void PrintUnsigned(uint32_t v) { PutDigits(v, 10, 1); }

void PrintHex(uint32_t v, int min_digits) { PutDigits(v, 16, min_digits); }

void PrintHexBytes(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    if (i) Put(' ');
    PutDigits(p[i], 16, 2);
  }
}

}  // namespace mcu
}  // namespace outpost

// The text output `outpost export-c`'s example main expects from a board support.
extern "C" void outpost_debug_log(const char* text) { outpost::mcu::Print(text); }
