# Firmware images for the bare-metal build (OUTPOST_MCU, docs/microcontrollers.md).
#
#   outpost_add_firmware(NAME SOURCES a.cc ... [LIBRARIES lib ...] [EMBED file=symbol ...])
#
# links NAME.elf from SOURCES, the platform layer (platform/cortex_m: start-up, semihosting,
# console) and LIBRARIES (usually outpost_runtime), with the board's linker script, writes
# NAME.map, and prints the image's size (arm-none-eabi-size: text = code, constants and the
# initial values of .data, all in flash; data and bss = RAM) after every link.
# EMBED turns a file into a 64-byte aligned constant array in flash, declared in C++ as
#   extern const unsigned char symbol[];  extern const size_t symbol_size;   (namespace-scope)
# 64 bytes: the alignment mmap gives on a host; Model::Load itself requires 16.

find_program(OUTPOST_MCU_SIZE NAMES arm-none-eabi-size REQUIRED)

function(outpost_add_firmware name)
  cmake_parse_arguments(FW "" "" "SOURCES;LIBRARIES;EMBED" ${ARGN})
  if(NOT FW_SOURCES)
    message(FATAL_ERROR "outpost_add_firmware(${name}): no SOURCES")
  endif()
  set(embedded "")
  foreach(entry IN LISTS FW_EMBED)
    if(NOT entry MATCHES "^(.+)=([A-Za-z_][A-Za-z0-9_]*)$")
      message(FATAL_ERROR "outpost_add_firmware(${name}): EMBED wants file=symbol, not '${entry}'")
    endif()
    set(file ${CMAKE_MATCH_1})
    set(symbol ${CMAKE_MATCH_2})
    if(NOT IS_ABSOLUTE ${file})
      set(file ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    endif()
    set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}_${symbol}.cc)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DINPUT=${file} -DOUTPUT=${out} -DSYMBOL=${symbol}
              -P ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
      DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/embed_binary.cmake
      COMMENT "embedding ${file} as ${symbol}")
    list(APPEND embedded ${out})
  endforeach()

  add_executable(${name} ${FW_SOURCES} ${embedded})
  set_target_properties(${name} PROPERTIES SUFFIX .elf)
  target_compile_options(${name} PRIVATE -fno-exceptions -fno-rtti)
  target_compile_definitions(${name} PRIVATE OUTPOST_MCU_BOARD_NAME="${OUTPOST_MCU_BOARD}")
  target_link_libraries(${name} PRIVATE outpost_cortex_m ${FW_LIBRARIES})
  get_target_property(scripts outpost_cortex_m OUTPOST_LINKER_SCRIPT_DEPENDS)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS "${scripts}")
  target_link_options(${name} PRIVATE -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${OUTPOST_MCU_SIZE} $<TARGET_FILE:${name}>
    VERBATIM)
endfunction()
