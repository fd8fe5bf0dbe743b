# Generates C++ from schema/opm.fbs with flatc into the build tree (target: opm_schema).
find_program(FLATC flatc REQUIRED)
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)

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
