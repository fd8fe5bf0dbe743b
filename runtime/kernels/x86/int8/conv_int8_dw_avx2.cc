// Depthwise CONV_2D on INT8 with AVX2, bit-exact with conv2d_i8_ref.
//
// Each channel's input is copied once into scratch as int32 x - zx, zero in the padding (so
// the per-channel correction is the bias alone), and split by column stride phase: padded
// column c goes to plane c % sw, column c / sw. Output column i of tap (kh, kw) then reads
// column i + kw * dw / sw of one plane's row oh * sh + kh * dh: 8 consecutive int32 for 8
// outputs, whatever the stride. vpmaddwd multiplies them by the tap's weight in the low int16
// of each lane and 0 in the high one (which holds the sign of x - zx), exactly.
#include <string.h>

#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/conv_int8_avx2.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

constexpr int kNv = 4;  // output vectors in flight along a row

struct DwJob {
  const Avx2ConvData* d;
  int8_plan::ChannelConstants cc;
  const int8_t* x;
  int8_t* y8;
  int32_t* y32;
  uint8_t* scratch;
  int64_t slot_bytes, planes;
};

int64_t PlaneValues(const Avx2ConvPlan& p) { return p.sw * p.dw_rows * p.dw_cols; }

// The padded rows of one channel into the phase planes, through `tmp` (one padded int8 row).
OUTPOST_AVX2 void FillPlanes(const Avx2ConvPlan& p, const int8_t* x, int8_t zx, int32_t* planes,
                             int8_t* tmp) {
  const int64_t width = p.dw_cols * p.sw;
  const __m256i vzx = _mm256_set1_epi32(zx);
  const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i odd = _mm_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, -1, -1, -1, -1, -1, -1, -1, -1);
  for (int64_t r = 0; r < p.dw_rows; ++r) {
    const int64_t ih = r - p.pt;
    if (ih < 0 || ih >= p.h) {
      for (int64_t ph = 0; ph < p.sw; ++ph)
        memset(planes + (ph * p.dw_rows + r) * p.dw_cols, 0, static_cast<size_t>(p.dw_cols) * 4);
      continue;
    }
    memset(tmp, zx, static_cast<size_t>(width));
    const int64_t hi = p.pl + p.w < width ? p.pl + p.w : width;
    if (hi > p.pl) memcpy(tmp + p.pl, x + ih * p.w, static_cast<size_t>(hi - p.pl));
    for (int64_t ph = 0; ph < p.sw; ++ph) {
      int32_t* out = planes + (ph * p.dw_rows + r) * p.dw_cols;
      int64_t j = 0;
      if (p.sw == 1) {
        for (; j + 8 <= p.dw_cols; j += 8)
          _mm256_storeu_si256(
              reinterpret_cast<__m256i*>(out + j),
              _mm256_sub_epi32(
                  _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tmp + j))),
                  vzx));
      } else if (p.sw == 2) {
        const __m128i pick = ph == 0 ? even : odd;
        for (; j + 8 <= p.dw_cols; j += 8)
          _mm256_storeu_si256(
              reinterpret_cast<__m256i*>(out + j),
              _mm256_sub_epi32(
                  _mm256_cvtepi8_epi32(_mm_shuffle_epi8(
                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(tmp + 2 * j)), pick)),
                  vzx));
      }
      for (; j < p.dw_cols; ++j) out[j] = tmp[j * p.sw + ph] - zx;
    }
  }
}

// NV vectors of 8 outputs of one output row: `src` points at the planes' row oh * sh, column
// of the first output; off[t] is tap t's offset from there.
template <int NV>
OUTPOST_AVX2 void DwVectors(const DwJob& j, const int32_t* src, const int64_t* off,
                            const int32_t* w, int64_t taps, const RequantVec8& rq,
                            const __m256i corr, int64_t out, int64_t left) {
  __m256i acc[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_setzero_si256();
  for (int64_t t = 0; t < taps; ++t) {
    const __m256i wv = _mm256_set1_epi32(w[t]);
    const int32_t* s = src + off[t];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[v] = _mm256_add_epi32(
          acc[v],
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 8 * v)), wv));
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const __m256i val = _mm256_sub_epi32(acc[v], corr);
    if (j.y32)
      StoreInt32x8(j.y32 + out + 8 * v, val, left - 8 * v);
    else
      StoreBytes8(j.y8 + out + 8 * v, ApplyRequantVec8I8(rq, val), left - 8 * v);
  }
}

OUTPOST_AVX2 void DwPlane(const DwJob& j, int64_t t, const int64_t* off, int32_t* planes,
                          int8_t* tmp) {
  const Avx2ConvPlan& p = j.d->plan;
  const int8::LinearOutput& o = j.d->ref.out;
  const int64_t ch = t % p.c, taps = p.kh * p.kw;
  FillPlanes(p, j.x + t * p.h * p.w, static_cast<int8_t>(o.input_zp), planes, tmp);
  const int32_t* w = static_cast<const int32_t*>(j.cc.weights) + ch * taps;
  const RequantVec8 rq = MakeRequantVec8(j.cc.m0[ch], j.cc.left[ch], j.cc.right[ch], o.output_zp,
                                         o.act_min, o.act_max);
  const __m256i corr = _mm256_set1_epi32(j.cc.corr[ch]);
  for (int64_t oh = 0; oh < p.oh; ++oh) {
    const int32_t* row = planes + oh * p.sh * p.dw_cols;
    const int64_t out = (t * p.oh + oh) * p.ow;
    int64_t i = 0;
    for (; i + 8 * kNv <= p.ow; i += 8 * kNv)
      DwVectors<kNv>(j, row + i, off, w, taps, rq, corr, out + i, p.ow - i);
    for (; i < p.ow; i += 8) DwVectors<1>(j, row + i, off, w, taps, rq, corr, out + i, p.ow - i);
  }
}

// A fixed number of chunks, each with its own scratch slice, so that concurrent ranges never
// share memory and the result does not depend on the split.
void DwChunks(void* arg, int64_t begin, int64_t end) {
  const DwJob& j = *static_cast<const DwJob*>(arg);
  const Avx2ConvPlan& p = j.d->plan;
  int64_t off[kAvx2DwMaxTaps];
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const int64_t c = kw * p.dw;
      off[kh * p.kw + kw] = ((c % p.sw) * p.dw_rows + kh * p.dh) * p.dw_cols + c / p.sw;
    }
  for (int64_t s = begin; s < end; ++s) {
    uint8_t* slot = j.scratch + s * j.slot_bytes;
    int32_t* planes = reinterpret_cast<int32_t*>(slot);
    int8_t* tmp = reinterpret_cast<int8_t*>(planes + PlaneValues(p));
    const int64_t lo = s * j.planes / kAvx2DwSlots, hi = (s + 1) * j.planes / kAvx2DwSlots;
    for (int64_t t = lo; t < hi; ++t) DwPlane(j, t, off, planes, tmp);
  }
}

}  // namespace

int64_t DepthwiseSlotBytesAvx2(const Avx2ConvPlan& p) {
  return (PlaneValues(p) * 4 + p.dw_cols * p.sw + 32 + 63) / 64 * 64;
}

void PackDepthwiseWeightsAvx2(const Avx2ConvPlan& p, const int8_t* w, int32_t* out) {
  const int64_t taps = p.kh * p.kw;
  for (int64_t i = 0; i < p.m * taps; ++i)
    out[i] = static_cast<int32_t>(static_cast<uint16_t>(static_cast<int16_t>(w[i])));
}

void EvalDepthwiseAvx2(const Avx2ConvData& d, const int8_plan::ChannelConstants& cc,
                       const int8_t* x, void* y, void* scratch, const Executor& ex) {
  DwJob j;
  j.d = &d;
  j.cc = cc;
  j.x = x;
  j.y8 = d.ref.out.raw_output ? nullptr : static_cast<int8_t*>(y);
  j.y32 = d.ref.out.raw_output ? static_cast<int32_t*>(y) : nullptr;
  j.scratch = static_cast<uint8_t*>(scratch);
  j.slot_bytes = DepthwiseSlotBytesAvx2(d.plan);
  j.planes = d.plan.n * d.plan.c;
  ex.ParallelFor(kAvx2DwSlots, 1, DwChunks, &j);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
