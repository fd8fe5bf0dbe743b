#include "runtime/kernels/cortex_m/twin_util.h"

namespace outpost {
namespace kernels {
namespace cortex_m {

// 32-bit indices: the tensor fits the address space, and 64-bit arithmetic costs two
// instructions per step on these CPUs.
void GatherColumn(const ConvGeometry& g, const int8_t* xn, int32_t oh, int32_t ow, int8_t* col) {
  const int8::ConvData& d = *g.d;
  const int8_t zx = static_cast<int8_t>(d.out.input_zp);
  const int32_t c = static_cast<int32_t>(g.c), h = static_cast<int32_t>(g.h);
  const int32_t wd = static_cast<int32_t>(g.wd), kh = static_cast<int32_t>(g.kh);
  const int32_t kw = static_cast<int32_t>(g.kw), plane = h * wd;
  const int32_t ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
  const int32_t dh = d.dilation_h, dw = d.dilation_w;
  const bool cols_inside = iw0 >= 0 && iw0 + (kw - 1) * dw < wd;
  for (int32_t ci = 0; ci < c; ++ci) {
    const int8_t* xc = xn + ci * plane;
    for (int32_t r = 0; r < kh; ++r) {
      const int32_t ih = ih0 + r * dh;
      if (ih < 0 || ih >= h) {
        for (int32_t t = 0; t < kw; ++t) *col++ = zx;
        continue;
      }
      const int8_t* row = xc + ih * wd + iw0;
      if (cols_inside) {
        for (int32_t t = 0; t < kw; ++t) *col++ = row[t * dw];
      } else {
        for (int32_t t = 0; t < kw; ++t) {
          const int32_t iw = iw0 + t * dw;
          *col++ = (iw >= 0 && iw < wd) ? row[t * dw] : zx;
        }
      }
    }
  }
}

}  // namespace cortex_m
}  // namespace kernels
}  // namespace outpost
