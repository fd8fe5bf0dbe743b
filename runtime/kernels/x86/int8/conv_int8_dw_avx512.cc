// Depthwise CONV_2D on INT8 with AVX-512 VNNI, bit-exact with conv2d_i8_ref.
//
// Each channel's input is copied once into scratch as int32 values x - input_zp, zero in the
// padding, and split by stride phase: padded cell (r, c) goes to plane (r % sh, c % sw) at
// (r / sh, c / sw). Output (oh, ow) of tap (kh, kw) then reads phase plane
// ((kh*dh) % sh, (kw*dw) % sw) at flat index q + const, where q = oh * cols + ow: every tap is
// one contiguous stream for any stride and dilation, across rows too (the columns ow >= OW
// computed on the way are discarded). vpdpwssd multiplies the low 16 bits of each lane by the
// tap weight stored zero-extended (its high half 0), i.e. acc += (x - zx) * w exactly.
#include <string.h>

#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/conv_int8_avx512.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

struct DwJob {
  const ConvData* d;
  ConvPacked pk;
  const int8_t* x;
  int8_t* y8;
  int32_t* y32;
  uint8_t* scratch;
  int64_t slot_bytes, planes;
};

constexpr int kMaxTaps = 64;  // MakeConvPlan routes larger kernels to the GEMM path

OUTPOST_AVX512_VNNI void FillPhases(const ConvPlan& p, const int8_t* x, int32_t zx,
                                    int32_t* planes) {
  memset(planes, 0, static_cast<size_t>(p.sh * p.sw * p.dw_plane) * 4);
  const __m512i z = _mm512_set1_epi32(zx);
  const int64_t cols = p.dw_cols;
  for (int64_t ih = 0; ih < p.h; ++ih) {
    const int64_t r = ih + p.pt;
    if (r / p.sh >= p.dw_rows) break;  // below every row a tap reads
    int32_t* row = planes + (r % p.sh) * p.sw * p.dw_plane + (r / p.sh) * cols;
    const int8_t* src = x + ih * p.w;
    if (p.sw == 1) {
      int64_t n = cols - p.pl < p.w ? cols - p.pl : p.w;
      int32_t* dst = row + p.pl;
      int64_t i = 0;
      for (; i + 16 <= n; i += 16)
        _mm512_storeu_si512(
            dst + i,
            _mm512_sub_epi32(
                _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))),
                z));
      if (i < n) {  // the tail, masked: short rows (7, 14, 28 wide) stay vectorized
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
        _mm512_mask_storeu_epi32(
            dst + i, m,
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, src + i)), z));
      }
    } else if (p.sw == 2) {
      // 32 inputs at a time: even and odd lanes go to the two column phases.
      const __m512i even =
          _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
      const int64_t n = cols * 2 - p.pl < p.w ? cols * 2 - p.pl : p.w;
      int64_t iw = 0;
      for (; iw + 32 <= n; iw += 32) {
        const __m512i v0 = _mm512_sub_epi32(
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + iw))), z);
        const __m512i v1 = _mm512_sub_epi32(
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + iw + 16))),
            z);
        const int64_t c = iw + p.pl;
        _mm512_storeu_si512(row + (c % 2) * p.dw_plane + c / 2,
                            _mm512_permutex2var_epi32(v0, even, v1));
        _mm512_storeu_si512(row + ((c + 1) % 2) * p.dw_plane + (c + 1) / 2,
                            _mm512_permutex2var_epi32(v0, odd, v1));
      }
      if (iw < n) {  // the tail, masked
        const int64_t rest = n - iw;
        const __mmask16 m0 = static_cast<__mmask16>(rest >= 16 ? 0xffffu : (1u << rest) - 1u);
        const __mmask16 m1 = static_cast<__mmask16>(rest > 16 ? (1u << (rest - 16)) - 1u : 0u);
        const __m512i v0 =
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m0, src + iw)), z);
        const __m512i v1 =
            _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m1, src + iw + 16)), z);
        const int64_t c = iw + p.pl;
        _mm512_mask_storeu_epi32(row + (c % 2) * p.dw_plane + c / 2,
                                 static_cast<__mmask16>((1u << ((rest + 1) / 2)) - 1u),
                                 _mm512_permutex2var_epi32(v0, even, v1));
        _mm512_mask_storeu_epi32(row + ((c + 1) % 2) * p.dw_plane + (c + 1) / 2,
                                 static_cast<__mmask16>((1u << (rest / 2)) - 1u),
                                 _mm512_permutex2var_epi32(v0, odd, v1));
      }
    } else {
      for (int64_t iw = 0; iw < p.w; ++iw) {
        const int64_t c = iw + p.pl;
        if (c / p.sw >= cols) break;
        row[(c % p.sw) * p.dw_plane + c / p.sw] = src[iw] - zx;
      }
    }
  }
}

OUTPOST_AVX512_VNNI void DwPlane(const DwJob& j, int64_t t, int32_t* planes, void* tmp) {
  const ConvPlan& p = j.d->plan;
  const int8::LinearOutput& o = j.d->ref.out;
  const int64_t ch = t % p.c;
  FillPhases(p, j.x + t * p.h * p.w, o.input_zp, planes);
  const int64_t taps = p.kh * p.kw;
  int64_t off[kMaxTaps];
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const int64_t r = kh * p.dh, c = kw * p.dw;
      off[kh * p.kw + kw] =
          ((r % p.sh) * p.sw + c % p.sw) * p.dw_plane + (r / p.sh) * p.dw_cols + c / p.sw;
    }
  const int32_t* w = j.pk.weights + ch * taps;
  const __m512i corr = _mm512_set1_epi32(j.pk.corr[ch]);
  const ChannelRequant rq = {j.pk.m0[ch], j.pk.left[ch], j.pk.right[ch]};
  const __m512i zp = _mm512_set1_epi32(o.output_zp);
  const __m512i lo_zp = _mm512_set1_epi32(o.act_min - o.output_zp);
  const __m512i hi_zp = _mm512_set1_epi32(o.act_max - o.output_zp);
  int8_t* t8 = static_cast<int8_t*>(tmp);
  int32_t* t32 = static_cast<int32_t*>(tmp);
  for (int64_t q = 0; q < p.dw_q; q += 64) {
    __m512i acc[4];
    for (int v = 0; v < 4; ++v) acc[v] = _mm512_setzero_si512();
    for (int64_t k = 0; k < taps; ++k) {
      const __m512i wv = _mm512_set1_epi32(w[k]);
      const int32_t* src = planes + off[k] + q;
      for (int v = 0; v < 4; ++v)
        acc[v] = _mm512_dpwssd_epi32(acc[v], _mm512_loadu_si512(src + 16 * v), wv);
    }
    for (int v = 0; v < 4; ++v) {
      const __m512i val = _mm512_sub_epi32(acc[v], corr);
      if (j.y32) {
        _mm512_storeu_si512(t32 + q + 16 * v, val);
      } else {
        const __m512i r = RequantizeUniformAvx512(val, rq, zp, lo_zp, hi_zp);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(t8 + q + 16 * v), _mm512_cvtepi32_epi8(r));
      }
    }
  }
  for (int64_t oh = 0; oh < p.oh; ++oh) {
    if (j.y32)
      memcpy(j.y32 + (t * p.oh + oh) * p.ow, t32 + oh * p.dw_cols, static_cast<size_t>(p.ow) * 4);
    else
      memcpy(j.y8 + (t * p.oh + oh) * p.ow, t8 + oh * p.dw_cols, static_cast<size_t>(p.ow));
  }
}

// A fixed number of chunks, each with its own scratch slice, so that concurrent ranges never
// share memory and the result does not depend on the split.
void DwChunks(void* arg, int64_t begin, int64_t end) {
  const DwJob& j = *static_cast<const DwJob*>(arg);
  const ConvPlan& p = j.d->plan;
  for (int64_t s = begin; s < end; ++s) {
    int32_t* planes = reinterpret_cast<int32_t*>(j.scratch + s * j.slot_bytes);
    void* tmp = planes + p.sh * p.sw * p.dw_plane;
    const int64_t lo = s * j.planes / kDepthwiseSlots, hi = (s + 1) * j.planes / kDepthwiseSlots;
    for (int64_t t = lo; t < hi; ++t) DwPlane(j, t, planes, tmp);
  }
}

}  // namespace

void PackDepthwiseWeights(const ConvPlan& p, const int8_t* w, int32_t* out) {
  // Zero-extended 16-bit weights: vpdpwssd then adds (x - zx) * w + (high half) * 0.
  for (int64_t i = 0; i < p.m * p.kh * p.kw; ++i)
    out[i] = static_cast<int32_t>(static_cast<uint16_t>(static_cast<int16_t>(w[i])));
}

void EvalDepthwise(const ConvData& d, const ConvPacked& pk, const int8_t* x, void* y, void* scratch,
                   const Executor& ex) {
  const ConvPlan& p = d.plan;
  DwJob j;
  j.d = &d;
  j.pk = pk;
  j.x = x;
  j.y8 = d.ref.out.raw_output ? nullptr : static_cast<int8_t*>(y);
  j.y32 = d.ref.out.raw_output ? static_cast<int32_t*>(y) : nullptr;
  j.scratch = static_cast<uint8_t*>(scratch);
  j.slot_bytes = p.sh * p.sw * p.dw_plane * 4 + p.dw_q * 4;
  j.planes = p.n * p.c;
  ex.ParallelFor(kDepthwiseSlots, 1, DwChunks, &j);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
