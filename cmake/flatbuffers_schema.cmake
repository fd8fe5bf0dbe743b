# Generates C++ from schema/opm.fbs with flatc into the build tree (target: opm_schema).
find_program(FLATC flatc REQUIRED)
if(OUTPOST_MCU)
  # Bare metal: the headers are the build machine's (header-only, nothing to link), but its
  # /usr/include must not become an include directory, or glibc's <string.h> and friends would
  # shadow newlib's. Only the flatbuffers/ folder is mirrored into the build tree.
  find_path(FLATBUFFERS_HOST_INCLUDE_DIR flatbuffers/flatbuffers.h PATHS /usr/include /usr/local/include
            NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  set(FLATBUFFERS_INCLUDE_DIR ${PROJECT_BINARY_DIR}/flatbuffers_include)
  file(COPY ${FLATBUFFERS_HOST_INCLUDE_DIR}/flatbuffers DESTINATION ${FLATBUFFERS_INCLUDE_DIR})
  # FlatBuffers 2.0 defines its 2 GiB buffer limit as an unsigned long long, so the verifier's
  # `FLATBUFFERS_MAX_BUFFER_SIZE / elem_size` links the 64-bit division routine (700 bytes on a
  # Cortex-M). Later releases define it as soffset_t's maximum, a 32-bit value: the mirror takes
  # that definition. Same limit, so the same buffers pass; a header without the old line is
  # left as it is.
  set(fb_base ${FLATBUFFERS_INCLUDE_DIR}/flatbuffers/base.h)
  file(READ ${fb_base} fb_base_text)
  string(REPLACE
    "#define FLATBUFFERS_MAX_BUFFER_SIZE ((1ULL << (sizeof(::flatbuffers::soffset_t) * 8 - 1)) - 1)"
    "#define FLATBUFFERS_MAX_BUFFER_SIZE (static_cast<::flatbuffers::uoffset_t>(0x7FFFFFFFu))"
    fb_base_text "${fb_base_text}")
  file(WRITE ${fb_base} "${fb_base_text}")
else()
  find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)
endif()

set(OPM_SCHEMA ${PROJECT_SOURCE_DIR}/schema/opm.fbs)
set(OPM_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
set(OPM_GENERATED ${OPM_GENERATED_DIR}/opm_generated.h)
add_custom_command(
  OUTPUT ${OPM_GENERATED}
  COMMAND ${FLATC} --cpp --scoped-enums --gen-object-api -o ${OPM_GENERATED_DIR} ${OPM_SCHEMA}
  DEPENDS ${OPM_SCHEMA}
  COMMENT "flatc: generating opm_generated.h")
add_custom_target(opm_schema_gen DEPENDS ${OPM_GENERATED})

add_library(opm_schema INTERFACE)
add_dependencies(opm_schema opm_schema_gen)
target_include_directories(opm_schema INTERFACE ${OPM_GENERATED_DIR} ${FLATBUFFERS_INCLUDE_DIR})

# outpost_precompile_schema(target): the generated header as the target's precompiled header.
# Nearly every runtime file includes it (runtime/tensor.h), and with the object API's standard
# containers parsing it is most of a small kernel file's compile time. Release build, 13 of the
# runtime's 63 files: 38 s of compiler time (user + system) parsing it, 30 s loading it
# precompiled, plus 5 s once for the header itself. The object code is the same, file for file
# (objdump -d); only the compiler's work changes. C sources are left alone.
function(outpost_precompile_schema target)
  target_precompile_headers(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${OPM_GENERATED}>")
endfunction()
