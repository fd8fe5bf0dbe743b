// Tiny .opm models written with the emitter's file writer, so that io and CLI tests do not
// depend on the ONNX importer: a 4-class "classifier" (x + bias) and a 4x4 gray "image" model
// (relu of the preprocessed image).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::testing {

struct TinyModelOptions {
  bool self_test = true;
  bool wrong_golden_output = false;  // a self-test that must fail
  bool labels = true;
  int features = 4;  // the classifier's input and output width, 1..16 (labels only with 4)
  std::string reference_json;  // non-empty: stored as the drift reference (metadata outpost.reference)
};

// input 'x' [1,4] float32 -> ADD(bias = {0.5, -1, 2, 0}) -> output 'scores' [1,4];
// task classification, labels {cat, dog, bird, fish}.
std::vector<uint8_t> TinyClassifierOpm(const TinyModelOptions& options = {});
constexpr float kTinyBias[4] = {0.5f, -1.0f, 2.0f, 0.0f};

// input 'image' [1,1,4,4] float32 -> RELU -> output 'y' [1,1,4,4]; input spec NCHW gray,
// value_scale 1/255, mean 0.5, std 0.25.
std::vector<uint8_t> TinyImageOpm();

// Writes bytes to a file (test helper; no atomicity needed).
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> ReadBytes(const std::string& path);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(const std::string& name);

}  // namespace outpost::testing
