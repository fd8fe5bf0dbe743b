// CONV_2D on INT8 for Cortex-M with the DSP extension, bit-exact with kConv2DI8Ref (NCHW,
// weights [M, C/groups, kH, kW]). Prepare, operator state and memory are the reference's (no
// scratch: the arena a model needs does not change, and exactly the same models are accepted);
// eval picks a path:
//
//   im2col (groups == 1, depth C * kH * kW <= kMaxDepth, any kernel size, stride, dilation and
//     padding): the receptive fields of two output pixels are gathered into two int8 columns
//     on the stack, padding as the input zero point (which contributes (x - zx) = 0, exactly
//     what the reference's skipping does). Each weight row, contiguous in the model's layout,
//     is then one dot product per column at two MACs per SMLAD (dsp_dot.h), the weights
//     widened once for both columns. Per-channel multipliers are derived once per block of
//     kChannelBlock channels and kept on the stack, not once per pixel pair.
//   depthwise (groups == C == M, kH * ceil(kW / 2) <= kMaxDepthwisePairs): for output pixels
//     whose window lies inside the image, taps are paired along a kernel row and multiplied by
//     weights paired once per channel; the input zero point is taken out once per channel as
//     input_zp * sum(w), an exact identity in integers (computed modulo 2^32; the true result
//     fits int32). Border pixels take the reference's per-tap arithmetic (BorderWindow).
//   reference: everything else runs the reference eval: non-zero weight zero points (ONNX
//     ConvInteger), INT32 raw outputs, grouped convolutions that are not depthwise, and depths
//     beyond the stack buffers.
#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/cortex_m/dsp_dot.h"
#include "runtime/kernels/cortex_m/twin_util.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"

namespace outpost {
namespace kernels {
namespace cortex_m {
namespace {

constexpr int64_t kMaxDepth = 512;          // two int8 columns: 1 KiB of stack
constexpr int64_t kChannelBlock = 32;       // multipliers on the stack: 256 B
constexpr int64_t kMaxDepthwisePairs = 64;  // paired weights of one channel: 256 B

void EvalIm2col(const ConvGeometry& g, const TensorView& wv) {
  const int8::ConvData& d = *g.d;
  const int32_t k = static_cast<int32_t>(g.c * g.kh * g.kw);
  const int32_t zx = d.out.input_zp;
  const uint32_t nzx = NegatedPair(zx);
  int8_t col0[kMaxDepth], col1[kMaxDepth];
  QuantizedMultiplier mult[kChannelBlock];
  const int64_t npix = g.oh * g.ow;
  for (int64_t n = 0; n < g.n; ++n) {
    const int8_t* xn = g.x + n * g.c * g.h * g.wd;
    int8_t* yn = g.y + n * g.m * npix;
    for (int64_t m0 = 0; m0 < g.m; m0 += kChannelBlock) {
      const int64_t m1 = m0 + kChannelBlock < g.m ? m0 + kChannelBlock : g.m;
      for (int64_t m = m0; m < m1; ++m) {
        int32_t zw;
        int8::ChannelParams(d.out, wv, m, &mult[m - m0], &zw);
      }
      for (int64_t p = 0; p < npix; p += 2) {
        const bool two = p + 1 < npix;
        const int32_t ow = static_cast<int32_t>(g.ow);
        const int32_t p0 = static_cast<int32_t>(p);
        GatherColumn(g, xn, p0 / ow, p0 % ow, col0);
        if (two) GatherColumn(g, xn, (p0 + 1) / ow, (p0 + 1) % ow, col1);
        for (int64_t m = m0; m < m1; ++m) {
          const int32_t b = g.bias ? g.bias[m] : 0;
          const int8_t* wr = g.w + m * k;
          int32_t a0 = b, a1 = b;
          if (two)
            Dot2(col0, col1, wr, k, zx, nzx, &a0, &a1);
          else
            a0 = Dot(col0, wr, k, zx, nzx, a0);
          int8_t* ym = yn + m * npix + p;
          ym[0] = static_cast<int8_t>(int8::FinishAccumulator(d.out, a0, mult[m - m0]));
          if (two) ym[1] = static_cast<int8_t>(int8::FinishAccumulator(d.out, a1, mult[m - m0]));
        }
      }
    }
  }
}

// Two int16 values in one word, `lo` in the low half: SMLAD's operand.
inline uint32_t Pair(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xffffu) | (static_cast<uint32_t>(hi) << 16);
}

// One depthwise output whose window lies inside the image: a + sum of x * w over the window,
// taps paired along each kernel row (x at the window's first tap, rows `row_step` apart, taps
// `dw` apart; wp the row-paired weights, w the plain ones). Out of line and in 32-bit indices:
// inlined into the loop nest, or in 64-bit arithmetic, its loop costs several times as much.
__attribute__((noinline)) uint32_t InsideWindow(const int8_t* x, int32_t row_step, int32_t dw,
                                                int32_t kh, int32_t kw, const uint32_t* wp,
                                                const int8_t* w, uint32_t a) {
  const int32_t pairs = (kw + 1) / 2;
  for (int32_t r = 0; r < kh; ++r, x += row_step, wp += pairs, w += kw) {
    const int8_t* xt = x;
    int32_t t = 0;
    for (; t + 2 <= kw; t += 2, xt += 2 * dw)
      a = static_cast<uint32_t>(__smlad(Pair(xt[0], xt[dw]), wp[t >> 1], static_cast<int32_t>(a)));
    if (t < kw) a += static_cast<uint32_t>(xt[0] * static_cast<int32_t>(w[t]));
  }
  return a;
}

// One depthwise output at the border: a + the reference's arithmetic, skipping taps outside
// the image (rows h, row length wd; the window's first tap at (ih0, iw0)). Out of line and in
// 32-bit indices, as InsideWindow.
__attribute__((noinline)) int32_t BorderWindow(const int8_t* xc, int32_t h, int32_t wd, int32_t ih0,
                                               int32_t iw0, int32_t dh, int32_t dw, int32_t kh,
                                               int32_t kw, const int8_t* w, int32_t zx, int32_t a) {
  for (int32_t r = 0; r < kh; ++r, w += kw) {
    const int32_t ih = ih0 + r * dh;
    if (ih < 0 || ih >= h) continue;
    for (int32_t t = 0; t < kw; ++t) {
      const int32_t iw = iw0 + t * dw;
      if (iw >= 0 && iw < wd) a += (xc[ih * wd + iw] - zx) * w[t];
    }
  }
  return a;
}

void EvalDepthwise(const ConvGeometry& g, const TensorView& wv) {
  const int8::ConvData& d = *g.d;
  const int32_t zx = d.out.input_zp;
  const int64_t pairs_per_row = (g.kw + 1) / 2, taps = g.kh * g.kw;
  const int64_t dh = d.dilation_h, dw = d.dilation_w;
  // Output positions whose whole window is inside the image: [oh_lo, oh_hi) x [ow_lo, ow_hi).
  auto first_inside = [](int64_t pad, int64_t stride) { return (pad + stride - 1) / stride; };
  const int64_t oh_lo = first_inside(d.pad_top, d.stride_h);
  const int64_t ow_lo = first_inside(d.pad_left, d.stride_w);
  const int64_t span_h = (g.kh - 1) * dh, span_w = (g.kw - 1) * dw;
  // Last inside position: oh * s - pad + span <= size - 1.
  auto end_inside = [](int64_t size, int64_t span, int64_t pad, int64_t stride, int64_t out) {
    const int64_t room = size - 1 - span + pad;
    const int64_t e = room < 0 ? 0 : room / stride + 1;
    return e < out ? e : out;
  };
  const int64_t oh_hi = end_inside(g.h, span_h, d.pad_top, d.stride_h, g.oh);
  const int64_t ow_hi = end_inside(g.wd, span_w, d.pad_left, d.stride_w, g.ow);
  const int32_t wd32 = static_cast<int32_t>(g.wd), kh32 = static_cast<int32_t>(g.kh);
  const int32_t kw32 = static_cast<int32_t>(g.kw), row_step = static_cast<int32_t>(dh) * wd32;
  uint32_t wpair[kMaxDepthwisePairs];
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t c = 0; c < g.c; ++c) {
      const int8_t* xc = g.x + (n * g.c + c) * g.h * g.wd;
      const int8_t* wc = g.w + c * taps;
      int8_t* yc = g.y + (n * g.m + c) * g.oh * g.ow;
      QuantizedMultiplier mult;
      int32_t zw;
      int8::ChannelParams(d.out, wv, c, &mult, &zw);
      const int32_t b = g.bias ? g.bias[c] : 0;
      // Inside the image every tap counts: acc = b - zx * sum(w) + sum x * w, modulo 2^32.
      uint32_t sum_w = 0;
      for (int64_t r = 0; r < g.kh; ++r) {
        for (int64_t t = 0; t < g.kw; t += 2) {
          const int32_t w0 = wc[r * g.kw + t];
          const int32_t w1 = t + 1 < g.kw ? wc[r * g.kw + t + 1] : 0;
          wpair[r * pairs_per_row + t / 2] = Pair(w0, w1);
          sum_w += static_cast<uint32_t>(w0 + w1);
        }
      }
      const uint32_t inside_base = static_cast<uint32_t>(b) - static_cast<uint32_t>(zx) * sum_w;
      for (int64_t oh = 0; oh < g.oh; ++oh) {
        const int64_t ih0 = oh * d.stride_h - d.pad_top;
        const bool row_inside = oh >= oh_lo && oh < oh_hi;
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          const int64_t iw0 = ow * d.stride_w - d.pad_left;
          int32_t acc;
          if (row_inside && ow >= ow_lo && ow < ow_hi) {
            acc = static_cast<int32_t>(InsideWindow(
                xc + static_cast<int32_t>(ih0) * wd32 + static_cast<int32_t>(iw0), row_step,
                static_cast<int32_t>(dw), kh32, kw32, wpair, wc, inside_base));
          } else {
            acc = BorderWindow(xc, static_cast<int32_t>(g.h), wd32, static_cast<int32_t>(ih0),
                               static_cast<int32_t>(iw0), static_cast<int32_t>(dh),
                               static_cast<int32_t>(dw), kh32, kw32, wc, zx, b);
          }
          yc[oh * g.ow + ow] = static_cast<int8_t>(int8::FinishAccumulator(d.out, acc, mult));
        }
      }
    }
  }
}

}  // namespace

Status EvalConvDsp(KernelContext& ctx) {
  ConvGeometry g;
  if (!ReadConvGeometry(ctx, &g)) return int8::EvalConv(ctx);
  const TensorView& w = ctx.input(1);
  if (g.d->groups == 1 && g.c * g.kh * g.kw <= kMaxDepth) {
    EvalIm2col(g, w);
  } else if (g.d->groups == g.c && g.m == g.c && w.dims[1] == 1 &&
             g.kh * ((g.kw + 1) / 2) <= kMaxDepthwisePairs) {
    EvalDepthwise(g, w);
  } else {
    return int8::EvalConv(ctx);
  }
  return Status::kOk;
}

}  // namespace cortex_m

const KernelRegistration kConv2DI8CortexMDsp =
    cortex_m::TwinRegistration(OpCode::CONV_2D, "conv2d_i8_cortex_m_dsp", sizeof(int8::ConvData),
                               int8::PrepareConv, cortex_m::EvalConvDsp);

}  // namespace kernels
}  // namespace outpost
