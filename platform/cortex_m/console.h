// Console output for firmware, over semihosting, without printf: newlib's printf family would
// add its formatter, stdio buffers and (through them) malloc to every image.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace outpost {
namespace mcu {

void Print(const char* s);
void PrintInt(int32_t v);         // decimal
void PrintUnsigned(uint32_t v);   // decimal
void PrintHex(uint32_t v, int min_digits = 1);  // lower-case hex, no prefix
// `n` bytes as two hex digits each, separated by spaces.
void PrintHexBytes(const void* data, size_t n);
// Sends what is buffered to the host. Print* flush by themselves at every '\n' and when the
// buffer fills; call this before exiting if the last line has no newline.
void Flush();

}  // namespace mcu
}  // namespace outpost

// The board-support hook of `outpost export-c`'s example main: Print, with C linkage.
extern "C" void outpost_debug_log(const char* text);
