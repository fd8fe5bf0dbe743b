// The board support an exported firmware main expects (docs/microcontrollers.md), for running
// it as a host program: text to stdout, and the two marks around the inference do nothing.
#include <stdio.h>

extern "C" void outpost_debug_log(const char* text) { fputs(text, stdout); }
extern "C" void outpost_mcu_mark_begin(void) {}
extern "C" void outpost_mcu_mark_end(void) {}
