# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu. Test binaries run under
# qemu-user (no binfmt registration needed: CMake prefixes every test with the emulator).
#   cmake --preset aarch64        (OUTPOST_HOST=OFF: the runtime core and its kernel tests)
# Libraries the tests link (GoogleTest, libsodium) come from Debian multiarch packages
# (libgtest-dev:arm64, libsodium-dev:arm64; scripts/setup.sh --arm64 installs them).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The cross sysroot first, then the multiarch tree (/usr/lib/aarch64-linux-gnu, /usr/include).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # flatc and friends run on the build machine
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# `-cpu max` emulates every extension QEMU knows, the dot product (SDOT) included, so that the
# int8 dot-product kernels are selected and tested (tests/runtime/arm_int8_kernels_test.cc); the
# plain NEON kernels are tested on the same CPU by restricting the resolver's features.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu)
