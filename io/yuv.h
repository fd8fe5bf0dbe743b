// YUV to RGB conversion for camera and video frames: ITU-R BT.601, limited ("studio") range,
// Y in [16, 235] and U, V in [16, 240], the convention of Y4M files, MPEG-4/H.264 video and
// V4L2 webcams that do not say otherwise.
//
//   R = 1.164 (Y - 16)                 + 1.596 (V - 128)
//   G = 1.164 (Y - 16) - 0.392 (U - 128) - 0.813 (V - 128)
//   B = 1.164 (Y - 16) + 2.017 (U - 128)
//
// computed in 16.16 fixed point (within one level of the formula above in double precision),
// one row at a time in loops the compiler vectorizes.
#pragma once

#include <cstdint>

namespace outpost::io {

// Planar Y, U, V with chroma subsampled by 2 on both axes (4:2:0; chroma planes are
// ceil(width / 2) x ceil(height / 2)) to packed RGB (width * 3 bytes a row, rows packed).
void Yuv420ToRgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height,
                 uint8_t* rgb);
// Planar Y, U, V at full resolution (4:4:4) to packed RGB.
void Yuv444ToRgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height,
                 uint8_t* rgb);
// Packed 4:2:2 Y0 U Y1 V (V4L2 YUYV; rows of ceil(width / 2) * 4 bytes, or `stride` bytes when
// nonzero) to packed RGB.
void YuyvToRgb(const uint8_t* yuyv, int width, int height, uint8_t* rgb, int stride = 0);

}  // namespace outpost::io
