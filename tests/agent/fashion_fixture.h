// The zoo's Fashion-MNIST CNN for the agent's tests, built once per test program: float32 with
// a drift reference made from 1,000 test images (as `outpost compile --reference` makes it),
// its int8 version, and 1,000 other test images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::agent::testing {

inline const std::string kFashionData = "/usr/share/datasets/fashion-mnist";

struct FashionModels {
  ir::Graph float_graph;                  // planned, self-tested, with the reference
  std::vector<uint8_t> float_opm;         // with the reference
  std::vector<uint8_t> float_opm_plain;   // the same model without one
  std::vector<uint8_t> int8_opm;
  // 2,000 evenly spaced test images, alternately: the reference holds the even ones (labelled).
  quant::Dataset reference;
  quant::Dataset fresh;
};

// Whether Fashion-MNIST is installed (Debian package dataset-fashion-mnist).
bool FashionAvailable();
// Built on first use; throws on failure.
const FashionModels& Fashion();

// The float values of an image sample changed in pixel space: every pixel gets `f(value)` where
// value is in [0, 1] (pixel * value_scale), then is normalized again with the model's mean/std.
std::vector<float> MapPixels(const std::vector<float>& sample, const ir::Graph& graph,
                             float (*f)(float value, uint64_t index));

}  // namespace outpost::agent::testing
