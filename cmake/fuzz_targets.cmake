# libFuzzer targets (the `fuzz` preset: clang, OUTPOST_FUZZ=ON, OUTPOST_HOST=OFF). Each reader of
# untrusted bytes is built from its own sources, so that the fuzz build needs neither the
# compiler nor the other host layers; scripts/test.sh runs each from tests/fuzz/corpus/<name>.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
find_package(nlohmann_json REQUIRED)

# The model reader needs only the runtime: untrusted bytes never reach host code first.
add_executable(fuzz_model_load tests/fuzz/fuzz_model_load.cc)
target_link_libraries(fuzz_model_load PRIVATE outpost_runtime)
target_link_options(fuzz_model_load PRIVATE -fsanitize=fuzzer)

# The media parsers of the pipeline's sources (video and audio files).
add_executable(fuzz_y4m tests/fuzz/fuzz_y4m.cc pipeline/sources/y4m_reader.cc io/yuv.cc)
add_executable(fuzz_wav tests/fuzz/fuzz_wav.cc pipeline/sources/wav_reader.cc)

# The package reader: verification, decryption and the model checks behind them (seeds from
# tests/fuzz/make_package_corpus).
# The manifest and key codecs are compiled once for it and the fleet JSON target below
# (manifest.cc was the slowest file of this build, and was compiled twice).
add_library(fuzz_package_codecs OBJECT package/codec.cc package/keys.cc package/manifest.cc)
target_link_libraries(fuzz_package_codecs PRIVATE PkgConfig::SODIUM nlohmann_json::nlohmann_json)
set(package_sources content_key pack package_file package_header payload_cipher unpack verify)
list(TRANSFORM package_sources PREPEND package/)
list(TRANSFORM package_sources APPEND .cc)
add_executable(fuzz_package tests/fuzz/fuzz_package.cc ${package_sources} io/model_file.cc
               io/mapped_file.cc)
target_link_libraries(fuzz_package PRIVATE fuzz_package_codecs outpost_runtime PkgConfig::SODIUM
                      nlohmann_json::nlohmann_json)

# The model delta reader, applied to a fixed base model (the committed valid_small.opm).
add_executable(fuzz_delta tests/fuzz/fuzz_delta.cc package/delta_body.cc package/delta_header.cc
               package/delta_zstd.cc package/model_delta.cc package/opm_buffers.cc)
target_compile_definitions(fuzz_delta PRIVATE
  OUTPOST_FUZZ_BASE_MODEL="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/valid_small.opm")
target_link_libraries(fuzz_delta PRIVATE outpost_runtime PkgConfig::ZSTD PkgConfig::SODIUM)

# The fleet server's parsers of untrusted JSON: request bodies (fleet/server/api_input.cc), the
# strict reader under them, rollout plans and alert rules; header-only JSON, no HTTP, no store.
add_executable(fuzz_fleet_json tests/fuzz/fuzz_fleet_json.cc common/json/strict_json.cc
               fleet/server/api_input.cc fleet/server/validation.cc fleet/rollout/rollout_plan.cc
               fleet/rollout/alert_rules.cc)
# libsodium (package/codec.cc, keys.cc): the base64 of the device public key sent at enrollment.
target_link_libraries(fuzz_fleet_json PRIVATE fuzz_package_codecs nlohmann_json::nlohmann_json
                      PkgConfig::SODIUM)

# Each target's own sources as one unity unit: they share the JSON and libsodium headers,
# whose parsing and instrumented inline code would otherwise be paid per file (the host build
# compiles the same files as unity units of their libraries).
foreach(target fuzz_package_codecs fuzz_y4m fuzz_wav fuzz_package fuzz_delta fuzz_fleet_json)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
endforeach()
foreach(target fuzz_y4m fuzz_wav fuzz_package fuzz_delta fuzz_fleet_json)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
endforeach()
