// CONV_2D on INT8 for Cortex-M with MVE (Helium), bit-exact with kConv2DI8Ref (NCHW, weights
// [M, C/groups, kH, kW]). Prepare, operator state and memory are the reference's (no scratch:
// the arena a model needs does not change, and exactly the same models are accepted); eval
// picks a path:
//
//   im2col (groups == 1, depth C * kH * kW <= kMaxDepth): the receptive fields of four output
//     pixels are gathered into four int8 columns on the stack, padding as the input zero point
//     (which then contributes (x - zx) = 0, what the reference's skipping does); for a 1x1
//     kernel sixteen bytes at a time with VLDRB gathers over the channel planes. Each weight
//     row, contiguous in the model's layout, is one dot product per column at sixteen MACs per
//     VMLADAVA.S8, the weight vector loaded once for the four columns; the input zero point is
//     taken out once per channel as zx * sum(w). The four accumulators, consecutive pixels of
//     one channel, are requantized together (mve_util.h) and stored as four bytes.
//   depthwise (groups == C == M, kH * kW <= 16 taps whose offsets in the input plane,
//     (kH - 1) * dilation_h * W + (kW - 1) * dilation_w, fit a byte): one VLDRB gather with
//     byte offsets loads an output pixel's whole window, and one VMLADAVA.S8 multiplies it by
//     the channel's weights (lanes past the window hold weight 0). Taps outside the image,
//     at the borders, are predicated off and replaced by the input zero point (VPSEL), so
//     every pixel takes the same path; the zero point is taken out once per channel as
//     zx * sum(w). Four consecutive outputs of the plane are requantized together.
//   everything else goes to the DSP-extension twin's eval (conv_int8_dsp.cc): depthwise
//     windows beyond one gather, which it covers, and what it hands to the reference eval
//     (grouped convolutions that are not depthwise, im2col depths above kMaxDepth); non-zero
//     weight zero points (ONNX ConvInteger) and INT32 raw outputs run the reference eval.
//
// Exactness: every product and partial sum is an exact integer computed modulo 2^32, and the
// reference prepare proved that the true accumulator, bias included, fits int32, so the sum is
// the reference's whatever the order of the additions.
#include <string.h>

#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/cortex_m/mve_util.h"
#include "runtime/kernels/cortex_m/twin_util.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"

namespace outpost {
namespace kernels {
namespace cortex_m {
namespace {

constexpr int32_t kMaxDepth = 512;  // the columns: 2 KiB of stack; a multiple of 16
constexpr int32_t kColumns = 4;
constexpr int32_t kChannelBlock = 64;  // per-channel constants on the stack: 768 B
constexpr int32_t kMaxTaps = 16;       // one byte vector
constexpr int32_t kPixelChunk = 256;   // depthwise pixel table: 1.5 KiB of stack

// sum w[i] over a row of k weights (read under a predicate past the last full vector).
int32_t RowSum(const int8_t* w, int32_t k) {
  int32_t s = 0;
  for (int32_t i = 0; i < k; i += 16)
    s = vaddvaq_s8(s, vldrbq_z_s8(w + i, vctp8q(static_cast<uint32_t>(k - i))));
  return s;
}

// Output channels [m0, m0 + count): each one's bias less zx * sum(w), and its multiplier.
struct ChannelBlock {
  int32_t base[kChannelBlock];
  int32_t m0[kChannelBlock];
  int32_t shift[kChannelBlock];
};

// The four columns of four output pixels, interleaved by vectors: bytes [16 i, 16 i + 16) of
// column j at bytes + 64 i + 16 j, so that one pointer with immediate offsets reads all four.
struct Columns {
  alignas(16) int8_t bytes[kColumns * kMaxDepth];
  int8_t* column(int32_t j) { return bytes + 16 * j; }
};

// The channels of `blk` for the four pixels of `cols` (depth k): each weight row (contiguous,
// k bytes, w the first) is multiplied by the four columns, one weight vector for four
// VMLADAVA.S8; past depth k the weights are loaded as 0 (VCTP8), so what the columns hold
// there adds nothing. The four accumulators, consecutive pixels of one channel, are
// requantized together and stored at y (`lanes` of them), y + npix for the next channel.
__attribute__((noinline)) void ChannelsOfColumns(const Columns& cols, const int8_t* w, int32_t k,
                                                 int32_t count, const ChannelBlock& blk,
                                                 const int8::LinearOutput& o, int8_t* y,
                                                 int32_t npix, int32_t lanes) {
  const int32_t full = k >> 4;
  const mve_pred16_t tail = vctp8q(static_cast<uint32_t>(k & 15));
  for (int32_t m = 0; m < count; ++m, y += npix) {
    const int8_t* c = cols.bytes;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t i = 0; i < full; ++i, w += 16, c += 64) {
      const int8x16_t wv = vldrbq_s8(w);
      a0 = vmladavaq_s8(a0, vldrbq_s8(c), wv);
      a1 = vmladavaq_s8(a1, vldrbq_s8(c + 16), wv);
      a2 = vmladavaq_s8(a2, vldrbq_s8(c + 32), wv);
      a3 = vmladavaq_s8(a3, vldrbq_s8(c + 48), wv);
    }
    if (k & 15) {
      const int8x16_t wv = vldrbq_z_s8(w, tail);
      a0 = vmladavaq_s8(a0, vldrbq_s8(c), wv);
      a1 = vmladavaq_s8(a1, vldrbq_s8(c + 16), wv);
      a2 = vmladavaq_s8(a2, vldrbq_s8(c + 32), wv);
      a3 = vmladavaq_s8(a3, vldrbq_s8(c + 48), wv);
      w += k & 15;
    }
    const int32x4_t dots = {a0, a1, a2, a3};
    const MveMultiplier mult = MveMultiplierOf(vdupq_n_s32(blk.m0[m]), vdupq_n_s32(blk.shift[m]));
    StoreInt8(y, RequantizeMve(vaddq_n_s32(dots, blk.base[m]), mult, o), lanes);
  }
}

// A 1x1 kernel's column (c channels, plane bytes apart from xp) into column `col`: eight
// bytes per VLDRB gather with 16-bit offsets (7 * plane <= 65535) and narrowing store.
void GatherPointwise(const int8_t* xp, int32_t c, uint16x8_t offsets, int32_t plane, int8_t* col) {
  for (int32_t ci = 0; ci < c; ci += 8, xp += 8 * plane) {
    const mve_pred16_t p = vctp16q(static_cast<uint32_t>(c - ci));
    vstrbq_p_s16(col + 64 * (ci >> 4) + (ci & 8), vldrbq_gather_offset_z_s16(xp, offsets, p), p);
  }
}

void EvalIm2col(const ConvGeometry& g, const TensorView& wv) {
  const int8::ConvData& d = *g.d;
  const int32_t k = static_cast<int32_t>(g.c * g.kh * g.kw), vectors = (k + 15) / 16;
  const int32_t zx = d.out.input_zp;
  const int32_t npix = static_cast<int32_t>(g.oh * g.ow), ow = static_cast<int32_t>(g.ow);
  const int32_t c = static_cast<int32_t>(g.c), h = static_cast<int32_t>(g.h);
  const int32_t wd = static_cast<int32_t>(g.wd), plane = h * wd;
  const bool pointwise = g.kh == 1 && g.kw == 1 && 7 * plane <= 65535;
  const uint16x8_t offsets = vmulq_n_u16(vidupq_n_u16(0, 1), static_cast<uint16_t>(plane));
  Columns cols;
  alignas(16) int8_t gathered[kMaxDepth];
  // Every byte the dot products read is defined (the bytes past depth k count times 0).
  memset(cols.bytes, 0, sizeof(cols.bytes));
  memset(gathered, 0, sizeof(gathered));
  ChannelBlock blk;
  for (int64_t n = 0; n < g.n; ++n) {
    const int8_t* xn = g.x + n * g.c * plane;
    int8_t* yn = g.y + n * g.m * npix;
    for (int32_t mb = 0; mb < g.m; mb += kChannelBlock) {
      const int32_t count =
          g.m - mb < kChannelBlock ? static_cast<int32_t>(g.m) - mb : kChannelBlock;
      for (int32_t i = 0; i < count; ++i) {
        QuantizedMultiplier q;
        int32_t zw;
        int8::ChannelParams(d.out, wv, mb + i, &q, &zw);
        const uint32_t sum_w = static_cast<uint32_t>(RowSum(g.w + (mb + i) * k, k));
        const uint32_t b = static_cast<uint32_t>(g.bias ? g.bias[mb + i] : 0);
        blk.base[i] = static_cast<int32_t>(b - static_cast<uint32_t>(zx) * sum_w);
        blk.m0[i] = q.m0;
        blk.shift[i] = q.shift;
      }
      for (int32_t p0 = 0; p0 < npix; p0 += kColumns) {
        const int32_t lanes = npix - p0 < kColumns ? npix - p0 : kColumns;
        // The columns of pixels p0..p0+3 (a last, partial group repeats its last pixel).
        for (int32_t j = 0; j < kColumns; ++j) {
          const int32_t p = p0 + (j < lanes ? j : lanes - 1);
          const int32_t oh = p / ow, owi = p % ow;
          int8_t* col = cols.column(j);
          const int32_t ih = oh * d.stride_h - d.pad_top, iw = owi * d.stride_w - d.pad_left;
          if (pointwise && ih >= 0 && ih < h && iw >= 0 && iw < wd) {
            GatherPointwise(xn + ih * wd + iw, c, offsets, plane, col);
          } else {
            if (pointwise)
              memset(gathered, zx, static_cast<size_t>(c));
            else
              GatherColumn(g, xn, oh, owi, gathered);
            for (int32_t i = 0; i < vectors; ++i)
              vstrbq_s8(col + 64 * i, vldrbq_s8(gathered + 16 * i));
          }
        }
        ChannelsOfColumns(cols, g.w + mb * k, k, count, blk, d.out, yn + mb * npix + p0, npix,
                          lanes);
      }
    }
  }
}

// The depthwise window as one byte vector: lane i is tap (i / kW, i % kW).
struct Window {
  uint8x16_t offsets;            // of each tap from the window's first, in the input plane
  uint16_t row_lanes[kMaxTaps];  // the lanes of kernel row r
  uint16_t col_lanes[kMaxTaps];  // the lanes of kernel column t
};

// The lanes of the kernel rows (or columns) r whose input first + r * step is in [0, size).
uint16_t LanesInside(const uint16_t* lanes, int32_t n, int32_t first, int32_t step, int32_t size) {
  uint16_t m = 0;
  for (int32_t r = 0; r < n; ++r) {
    const int32_t i = first + r * step;
    if (i >= 0 && i < size) m = static_cast<uint16_t>(m | lanes[r]);
  }
  return m;
}

// Where each output pixel of a run of the plane reads its window, the same for every channel:
// the window's first tap relative to the plane (it may lie outside at the borders) and the
// lanes of the taps inside the image. The run is padded to a multiple of four with empty
// windows (mask 0: nothing is read).
struct PixelTable {
  int32_t corner[kPixelChunk];
  uint16_t mask[kPixelChunk];
};

// One output of a depthwise channel: the window (taps outside the image read as zx) times the
// weights, sixteen lanes in one VMLADAVA.S8.
__attribute__((always_inline)) inline int32_t WindowDot(const int8_t* xc, int32_t corner,
                                                        uint16_t mask, uint8x16_t offsets,
                                                        int8x16_t w, int8x16_t zxv) {
  // Only the lanes inside the image are read: the corner itself may lie outside the plane.
  const int8_t* at = reinterpret_cast<const int8_t*>(reinterpret_cast<uintptr_t>(xc) +
                                                     static_cast<uint32_t>(corner));
  return vmladavq_s8(vpselq_s8(vldrbq_gather_offset_z_s8(at, offsets, mask), zxv, mask), w);
}

// `count` outputs of channel plane xc, as `t` describes them, stored at y.
__attribute__((noinline)) void DepthwiseRun(const int8_t* xc, const PixelTable& t, int32_t count,
                                            uint8x16_t offsets, int8x16_t w, int8x16_t zxv,
                                            int32_t base, QuantizedMultiplier q,
                                            const int8::LinearOutput& o, int8_t* y) {
  const MveMultiplier mult = MveMultiplierOf(q);
  for (int32_t p = 0; p < count; p += 4) {
    const int32x4_t acc = {WindowDot(xc, t.corner[p], t.mask[p], offsets, w, zxv),
                           WindowDot(xc, t.corner[p + 1], t.mask[p + 1], offsets, w, zxv),
                           WindowDot(xc, t.corner[p + 2], t.mask[p + 2], offsets, w, zxv),
                           WindowDot(xc, t.corner[p + 3], t.mask[p + 3], offsets, w, zxv)};
    StoreInt8(y + p, RequantizeMve(vaddq_n_s32(acc, base), mult, o), count - p);
  }
}

void EvalDepthwise(const ConvGeometry& g, const TensorView& wv) {
  const int8::ConvData& d = *g.d;
  const int32_t zx = d.out.input_zp;
  const int32_t h = static_cast<int32_t>(g.h), wd = static_cast<int32_t>(g.wd);
  const int32_t kh = static_cast<int32_t>(g.kh), kw = static_cast<int32_t>(g.kw);
  const int32_t ow_n = static_cast<int32_t>(g.ow);
  const int32_t taps = kh * kw, npix = static_cast<int32_t>(g.oh) * ow_n;
  Window win;
  alignas(16) uint8_t offsets[16] = {};
  for (int32_t i = 0; i < kMaxTaps; ++i) win.row_lanes[i] = win.col_lanes[i] = 0;
  for (int32_t i = 0; i < taps; ++i) {
    const int32_t r = i / kw, t = i % kw;
    offsets[i] = static_cast<uint8_t>(r * d.dilation_h * wd + t * d.dilation_w);
    win.row_lanes[r] = static_cast<uint16_t>(win.row_lanes[r] | (1u << i));
    win.col_lanes[t] = static_cast<uint16_t>(win.col_lanes[t] | (1u << i));
  }
  win.offsets = vldrbq_u8(offsets);
  const int8x16_t zxv = vdupq_n_s8(static_cast<int8_t>(zx));
  PixelTable table;
  for (int32_t p0 = 0; p0 < npix; p0 += kPixelChunk) {
    const int32_t count = npix - p0 < kPixelChunk ? npix - p0 : kPixelChunk;
    for (int32_t i = 0; i < (count + 3) / 4 * 4; ++i) {
      table.corner[i] = 0;
      table.mask[i] = 0;
      if (i >= count) continue;
      const int32_t oh = (p0 + i) / ow_n, ow = (p0 + i) % ow_n;
      const int32_t ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
      table.corner[i] = ih0 * wd + iw0;
      table.mask[i] = static_cast<uint16_t>(LanesInside(win.row_lanes, kh, ih0, d.dilation_h, h) &
                                            LanesInside(win.col_lanes, kw, iw0, d.dilation_w, wd));
    }
    for (int64_t n = 0; n < g.n; ++n) {
      for (int32_t ch = 0; ch < static_cast<int32_t>(g.c); ++ch) {
        const int8_t* xc = g.x + (n * g.c + ch) * g.h * g.wd;
        const int8x16_t w = vldrbq_z_s8(g.w + ch * taps, vctp8q(static_cast<uint32_t>(taps)));
        QuantizedMultiplier q;
        int32_t zw;
        int8::ChannelParams(d.out, wv, ch, &q, &zw);
        // bias + sum over the window of (x - zx) * w, padding read as zx, modulo 2^32.
        const int32_t base =
            static_cast<int32_t>(static_cast<uint32_t>(g.bias ? g.bias[ch] : 0) -
                                 static_cast<uint32_t>(zx) * static_cast<uint32_t>(vaddvq_s8(w)));
        DepthwiseRun(xc, table, count, win.offsets, w, zxv, base, q, d.out,
                     g.y + (n * g.m + ch) * npix + p0);
      }
    }
  }
}

}  // namespace

Status EvalConvMve(KernelContext& ctx) {
  ConvGeometry g;
  if (!ReadConvGeometry(ctx, &g)) return int8::EvalConv(ctx);
  const TensorView& w = ctx.input(1);
  const int8::ConvData& d = *g.d;
  if (d.groups == 1 && g.c * g.kh * g.kw <= kMaxDepth) {
    EvalIm2col(g, w);
    return Status::kOk;
  }
  const int64_t span = (g.kh - 1) * d.dilation_h * g.wd + (g.kw - 1) * d.dilation_w;
  if (d.groups == g.c && g.m == g.c && w.dims[1] == 1 && g.kh * g.kw <= kMaxTaps && span <= 255) {
    EvalDepthwise(g, w);
    return Status::kOk;
  }
  return EvalConvDsp(ctx);
}

}  // namespace cortex_m

const KernelRegistration kConv2DI8CortexMMve =
    cortex_m::TwinRegistration(OpCode::CONV_2D, "conv2d_i8_cortex_m_mve", sizeof(int8::ConvData),
                               int8::PrepareConv, cortex_m::EvalConvMve);

}  // namespace kernels
}  // namespace outpost
