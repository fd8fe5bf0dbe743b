// Retrained variants of an ONNX model, for measuring model deltas: the same graph with some
// weights perturbed as a training run would change them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::testing {

enum class Retrain {
  kLastLayer,  // only the float initializers of the last node that has any (weights, bias)
  kFull,       // every float initializer
};

const char* RetrainName(Retrain r);

// Writes `onnx_path` with the chosen initializers perturbed, w + 0.01 * (|w| + 1e-3) * noise
// (standard normal noise, fixed seed), to `out_path`. Returns how many initializers changed.
Expected<size_t> WriteRetrainedOnnx(const std::string& onnx_path, Retrain retrain,
                                    const std::string& out_path, uint32_t seed = 7);

// Compiles an ONNX file to .opm bytes with default options.
Expected<std::vector<uint8_t>> CompileForDelta(const std::string& onnx_path);

}  // namespace outpost::testing
