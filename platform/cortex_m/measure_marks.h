// Marks around the code a firmware wants measured (an inference), for tools that count
// instructions under an emulator: they watch for the CPU reaching these two functions'
// addresses (arm-none-eabi-nm FIRMWARE.elf | grep outpost_mcu_mark).
//
//   outpost_mcu_mark_begin();  interp.Invoke();  outpost_mcu_mark_end();
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

void outpost_mcu_mark_begin(void);
void outpost_mcu_mark_end(void);

#ifdef __cplusplus
}
#endif
