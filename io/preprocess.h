// Turns 8-bit pixels into a model input tensor, as the model's InputSpec says:
//
//   fit (stretch / letterbox / centre crop)  ->  resize (bilinear / area) to the input's H x W
//   ->  colour conversion (gray / rgb / bgr)  ->  x = (pixel * value_scale - mean[c]) / std[c]
//   ->  NCHW or NHWC float32, or int8 / uint8 quantized in the same pass
//
// The plan is computed once per model input; Preprocess keeps its row buffers per thread and
// only grows them, so per frame in a real-time pipeline it does not allocate.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "io/image.h"
#include "runtime/model.h"

namespace outpost::io {

// How source pixels are interpolated. kArea averages every source pixel a destination pixel
// covers, weighted by the covered fraction (OpenCV INTER_AREA) on an axis that shrinks; on an
// axis that grows it interpolates bilinearly, like kBilinear.
enum class ResizeMethod : uint8_t { kBilinear, kArea };

// How the frame's aspect ratio meets the input's. kStretch scales each axis independently;
// kLetterbox scales both by the same factor and pads the rest with `pad_value` (the geometry
// of pipeline::FrameTransform::Letterbox); kCenterCrop keeps the largest centred region of the
// frame with the input's aspect ratio and stretches it.
enum class FitMode : uint8_t { kStretch, kLetterbox, kCenterCrop };

struct PreprocessPlan {
  opm::Layout layout = opm::Layout::NCHW;           // resolved: NCHW or NHWC
  opm::ColorFormat color = opm::ColorFormat::GRAY;  // resolved: GRAY, RGB or BGR
  int height = 0;
  int width = 0;
  int channels = 1;  // 1 for GRAY, 3 for RGB/BGR
  float value_scale = 1.0f;
  std::vector<float> mean;  // one per model channel (channel 0 is B for BGR)
  std::vector<float> std;
  ResizeMethod resize = ResizeMethod::kBilinear;
  FitMode fit = FitMode::kStretch;
  float pad_value = 114.0f;  // letterbox padding, in pixel units before normalization

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

// Where a frame of a given size lands in the model input:
//   input_x = frame_x * scale_x + pad_x   (and the same for y),
// the terms of pipeline::FrameTransform. The frame region [src_x, src_x + src_width) x
// [src_y, src_y + src_height) is resampled into the input region [dst_x, dst_x + dst_width) x
// [dst_y, dst_y + dst_height); input pixels outside it are padding.
struct PreprocessGeometry {
  float scale_x = 1, scale_y = 1;
  float pad_x = 0, pad_y = 0;
  int src_x = 0, src_y = 0, src_width = 0, src_height = 0;
  int dst_x = 0, dst_y = 0, dst_width = 0, dst_height = 0;
};
PreprocessGeometry ComputeGeometry(const PreprocessPlan& plan, int frame_width, int frame_height);

// Writes plan.num_values() floats to `out`. `image` may have any size and pixel format
// (alpha is ignored). Bilinear resizing uses half-pixel centres (OpenCV INTER_LINEAR without
// antialiasing); a same-size image passes through exactly.
void Preprocess(const ImageView& image, const PreprocessPlan& plan, float* out);

// Preprocess followed by per-tensor quantization, q = clamp(nearbyint(x / scale) + zero_point),
// the rounding io::Session::SetInputFromFloat applies (half to even in the default rounding
// mode), fused so no float tensor is materialized. Equal to quantizing Preprocess's output.
void PreprocessQuantized(const ImageView& image, const PreprocessPlan& plan, float scale,
                         int32_t zero_point, int8_t* out);
void PreprocessQuantized(const ImageView& image, const PreprocessPlan& plan, float scale,
                         int32_t zero_point, uint8_t* out);

// The model's InputSpec for input `input_index`, or null.
const opm::InputSpec* FindInputSpec(const Model& model, int input_index);

}  // namespace outpost::io
