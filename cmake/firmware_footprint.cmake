# cmake -DSIZE_TOOL=arm-none-eabi-size -DBOARD=name -DBASELINE=empty.elf
#       -DCORES="core.elf|core_no_strings.elf" -DIMAGES="a.elf|b.elf" [-DBUDGET=bytes]
#       -P firmware_footprint.cmake
# Prints text/data/bss of each firmware image, and the flash each runtime core probe adds to
# the baseline: (text + data) minus the baseline's (flash holds the code, the constants and the
# initial values of .data). Fails when the last core probe (the leanest) exceeds BUDGET,
# unless BUDGET is 0 or unset.
function(read_sizes elf prefix)
  execute_process(COMMAND ${SIZE_TOOL} ${elf} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SIZE_TOOL} ${elf} failed")
  endif()
  # Berkeley format: a header line, then "text data bss dec hex filename".
  if(NOT out MATCHES "\n[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)")
    message(FATAL_ERROR "unexpected output of ${SIZE_TOOL}: ${out}")
  endif()
  set(${prefix}_text ${CMAKE_MATCH_1} PARENT_SCOPE)
  set(${prefix}_data ${CMAKE_MATCH_2} PARENT_SCOPE)
  set(${prefix}_bss ${CMAKE_MATCH_3} PARENT_SCOPE)
endfunction()

# Right-aligns `value` in `width` columns, appended to `row`.
macro(append_column row value width)
  string(LENGTH "${value}" len)
  math(EXPR pad "${width} - ${len}")
  if(pad GREATER 0)
    string(REPEAT " " ${pad} spaces)
  else()
    set(spaces "")
  endif()
  string(APPEND ${row} "${spaces}${value}")
endmacro()

string(REPLACE "|" ";" images "${IMAGES}")
string(REPLACE "|" ";" cores "${CORES}")
message("board ${BOARD}, bytes (flash = text + data; RAM = data + bss, plus the stack)")
message("  firmware                        text     data      bss    flash")
foreach(elf IN LISTS images)
  read_sizes(${elf} s)
  get_filename_component(name ${elf} NAME_WE)
  math(EXPR flash "${s_text} + ${s_data}")
  string(LENGTH "${name}" len)
  math(EXPR pad "28 - ${len}")
  string(REPEAT " " ${pad} spaces)
  set(row "  ${name}${spaces}")
  append_column(row ${s_text} 8)
  append_column(row ${s_data} 9)
  append_column(row ${s_bss} 9)
  append_column(row ${flash} 9)
  message("${row}")
endforeach()

read_sizes(${BASELINE} base)
get_filename_component(base_name ${BASELINE} NAME_WE)
foreach(elf IN LISTS cores)
  read_sizes(${elf} core)
  get_filename_component(name ${elf} NAME_WE)
  math(EXPR core_flash "${core_text} + ${core_data} - ${base_text} - ${base_data}")
  message("runtime core alone (${name} - ${base_name}): ${core_flash} bytes of flash")
endforeach()
if(BUDGET AND core_flash GREATER BUDGET)
  message(FATAL_ERROR "the runtime core takes ${core_flash} bytes of flash, over its budget of ${BUDGET}")
endif()
