# Bare-metal Cortex-M build with Debian's gcc-arm-none-eabi and newlib (nano), run under
# qemu-system-arm with semihosting. `cmake --preset cortex-m4` / `--preset cortex-m55`
# (OUTPOST_MCU=ON: the runtime core, its reference kernels and the firmware images; see
# docs/microcontrollers.md). scripts/setup.sh --mcu installs the compiler and the emulator.
#
# OUTPOST_MCU_BOARD picks the QEMU board, and with it the CPU, the linker script
# (platform/cortex_m/<board>.ld) and the emulator command:
#   mps2-an386  Cortex-M4,  FPv4 single-precision FPU
#   mps3-an547  Cortex-M55, FPv5 double-precision FPU and MVE (Helium) with floating point,
#               all of which QEMU 7.2's cortex-m55 implements
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# No linking in compiler checks: there is no startup code or linker script yet.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(OUTPOST_MCU_BOARD "mps2-an386" CACHE STRING "QEMU board to build for: mps2-an386 or mps3-an547")
set_property(CACHE OUTPOST_MCU_BOARD PROPERTY STRINGS mps2-an386 mps3-an547)
# Try-compile projects re-read this file; pass the board on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES OUTPOST_MCU_BOARD)

if(OUTPOST_MCU_BOARD STREQUAL "mps2-an386")
  set(OUTPOST_MCU_CPU_FLAGS "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16")
elseif(OUTPOST_MCU_BOARD STREQUAL "mps3-an547")
  # -mcpu=cortex-m55 implies +mve.fp+fp.dp; hard-float passes floats in FPU registers.
  set(OUTPOST_MCU_CPU_FLAGS "-mcpu=cortex-m55 -mfloat-abi=hard")
else()
  message(FATAL_ERROR "OUTPOST_MCU_BOARD must be mps2-an386 or mps3-an547, not '${OUTPOST_MCU_BOARD}'")
endif()
# The CPU flags below only seed the cached compiler flags of a new build folder: a folder keeps
# the board it was first configured for.
if(DEFINED CACHE{OUTPOST_MCU_CONFIGURED_BOARD}
   AND NOT OUTPOST_MCU_CONFIGURED_BOARD STREQUAL OUTPOST_MCU_BOARD)
  message(FATAL_ERROR "this build folder is for ${OUTPOST_MCU_CONFIGURED_BOARD}; "
                      "configure ${OUTPOST_MCU_BOARD} in a new one")
endif()
set(OUTPOST_MCU_CONFIGURED_BOARD ${OUTPOST_MCU_BOARD} CACHE INTERNAL "board this folder's flags are for")

# Size first: no unwind tables (no exceptions anywhere), one section per function and object
# so that --gc-sections drops every kernel a firmware does not register, and no guards around
# function-local statics (single-threaded, and the guards would pull in libsupc++).
set(OUTPOST_MCU_COMMON_FLAGS
    "${OUTPOST_MCU_CPU_FLAGS} -mthumb -ffunction-sections -fdata-sections -fno-unwind-tables -fno-asynchronous-unwind-tables")
set(CMAKE_C_FLAGS_INIT "${OUTPOST_MCU_COMMON_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT
    "${OUTPOST_MCU_COMMON_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
# -Os comes with the build type, MinSizeRel (the presets'; also the default with OUTPOST_MCU).
# newlib-nano; no crt0: platform/cortex_m/startup.c is the reset handler.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -nostartfiles -Wl,--gc-sections")

# C++ executables link through the C driver: g++ would add -lstdc++, and nothing of the
# compiled C++ library may be used (no operator new, no exception or RTTI support). A firmware
# that needs any of it fails to link instead of growing. (Debian's libstdc++-arm-none-eabi-dev
# provides the headers only: <new>, <utility>.)
set(CMAKE_CXX_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_CXX_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
# The math library g++ would have added (kernels' prepare uses exp, round, ...).
set(CMAKE_CXX_STANDARD_LIBRARIES_INIT "-lm")
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-lm")

# Nothing of the build machine is searched for target libraries. Programs (flatc) run on the
# build machine; the FlatBuffers headers (header-only) are taken from it too and mirrored into
# the build tree (cmake/flatbuffers_schema.cmake), so that /usr/include never shadows newlib.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Every add_test() of a firmware ELF runs it on the board. Semihosting carries the output and
# the exit status (SYS_EXIT_EXTENDED); no UART, no monitor, no display.
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-system-arm -M ${OUTPOST_MCU_BOARD} -nographic -monitor none -serial none
    -semihosting-config enable=on,target=native -kernel)
