// Boxes and the mapping from model-input pixels back to the camera frame.
//
// Convention everywhere in the pipeline: a box is (x1, y1, x2, y2) in pixels, x to the right,
// y down, x2/y2 exclusive edges (a box from 0 to the image width covers the whole image), so
// width = x2 - x1 and area = width * height, as in torchvision.
#pragma once

namespace outpost::pipeline {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

// Intersection over union, computed exactly as torchvision.ops.nms does in float:
// inter / (area_a + area_b - inter) with area = (x2 - x1) * (y2 - y1) (negative for inverted
// boxes, not clamped) and the intersection sides clamped at 0. Two empty boxes give NaN.
float IoU(const Box& a, const Box& b);

// Clamps every coordinate to [0, width] x [0, height] (torchvision clip_boxes_to_image).
Box ClipBox(const Box& b, float width, float height);

// What the preprocessing did to the camera frame to make the model input:
//   input_x = frame_x * scale_x + pad_x   (and the same for y).
// A stretching resize (io::Preprocess) has scale = input / frame and no padding; a letterbox
// keeps one scale for both axes and centres the frame with padding.
struct FrameTransform {
  float scale_x = 1, scale_y = 1;
  float pad_x = 0, pad_y = 0;
  int frame_width = 0, frame_height = 0;

  // Identity for a frame that is already the model input's size.
  static FrameTransform Identity(int width, int height);
  // Stretch the whole frame to the input (aspect ratio not kept).
  static FrameTransform Resize(int frame_width, int frame_height, int input_width,
                               int input_height);
  // Scale by min(input_w / frame_w, input_h / frame_h), round the scaled size to whole pixels,
  // and centre it: pad = (input - scaled) / 2 on each axis (may be fractional).
  static FrameTransform Letterbox(int frame_width, int frame_height, int input_width,
                                  int input_height);

  // A box in model-input pixels mapped to frame pixels and clipped to the frame.
  Box ToFrame(const Box& input_box) const;
};

}  // namespace outpost::pipeline
