// Turns 8-bit pixels into a model input tensor, as the model's InputSpec says:
//
//   colour conversion (gray / rgb / bgr)  ->  bilinear resize to the input's H x W
//   ->  x = (pixel * value_scale - mean[c]) / std[c]  ->  NCHW or NHWC float32
//
// The plan is computed once per model input; Preprocess itself does not allocate, so it can
// run per frame in a real-time pipeline.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "io/image.h"
#include "runtime/model.h"

namespace outpost::io {

struct PreprocessPlan {
  opm::Layout layout = opm::Layout::NCHW;           // resolved: NCHW or NHWC
  opm::ColorFormat color = opm::ColorFormat::GRAY;  // resolved: GRAY, RGB or BGR
  int height = 0;
  int width = 0;
  int channels = 1;  // 1 for GRAY, 3 for RGB/BGR
  float value_scale = 1.0f;
  std::vector<float> mean;  // one per model channel (channel 0 is B for BGR)
  std::vector<float> std;

  size_t num_values() const {
    return static_cast<size_t>(height) * static_cast<size_t>(width) * static_cast<size_t>(channels);
  }
  // "[1,3,224,224] NCHW rgb, x = (p*0.00392157 - mean) / std"
  std::string Describe() const;
};

// Builds the plan for an input of shape `shape` ([1,C,H,W], [1,H,W,C], [C,H,W] or [H,W,C];
// C is 1 or 3; a rank-2 input is taken for a feature vector, not an image) and its spec (null:
// defaults, layout and colour inferred from the shape). Fails when the input is not image-like or
// the spec disagrees with the shape.
Expected<PreprocessPlan> MakePreprocessPlan(std::span<const int32_t> shape,
                                            const opm::InputSpec* spec);
// The plan for model input `input_index`, using its InputSpec when the model has one.
Expected<PreprocessPlan> MakePreprocessPlan(const Model& model, int input_index);

// Writes plan.num_values() floats to `out`. `image` may have any size and pixel format
// (alpha is ignored). Resizing is bilinear with half-pixel centres (OpenCV INTER_LINEAR
// without antialiasing); a same-size image passes through exactly.
void Preprocess(const ImageView& image, const PreprocessPlan& plan, float* out);

// The model's InputSpec for input `input_index`, or null.
const opm::InputSpec* FindInputSpec(const Model& model, int input_index);

}  // namespace outpost::io
