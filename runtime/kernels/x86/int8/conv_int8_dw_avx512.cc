// Depthwise CONV_2D on INT8 with AVX-512 VNNI, bit-exact with conv2d_i8_ref.
//
// Each channel's input is copied once into scratch as u8 (x + 128, see avx512_int8_util.h),
// padded with the input zero point (so a padded cell adds (128 + zx) * w, which the
// per-channel correction removes with every other cell's), and split by row stride phase:
// padded row r goes to plane r % sh, row r / sh. Output row oh of kernel row kh then reads
// one row of one plane, and output ow reads bytes sw * ow + kw * dw of it.
//
// vpdpbusd multiplies 4 bytes per lane: one 64-byte load of a row, a vpermd that gives each
// 128-bit lane the 16 bytes its 4 outputs read, and a vpshufb that gathers each output's
// (up to) 4 taps of one kernel row into its dword, apply 4 taps to 16 outputs. A 3x3 window
// is 3 such steps per 16 outputs, with stride 1 or 2. With AVX-512 VBMI one vpermb does what
// the vpermd and vpshufb do.
#include <string.h>

#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/conv_int8_avx512.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

constexpr int kMaxTaps = 64;  // MakeConvPlan routes larger kernels to the GEMM path
constexpr int kNv = 4;        // output vectors in flight

struct DwJob {
  const ConvData* d;
  ConvPacked pk;
  const int8_t* x;
  int8_t* y8;
  int32_t* y32;
  uint8_t* scratch;
  int64_t slot_bytes, planes;
};

// The padded rows of one channel, as u8, into the phase planes: 64 columns per store, the
// input's through a masked load (lanes outside it, which may lie before the row, are not
// read) and the padding from the preset lanes. The column masks are the same for every row
// inside the input, and every channel: FillMasks computes them once per range of channels.
constexpr int64_t kFillChunks = 8;  // 64-column chunks of a row with precomputed masks

struct FillMasks {
  __mmask64 in[kFillChunks];    // the input's columns
  __mmask64 keep[kFillChunks];  // the row's columns
};

// False when the rows are too wide for precomputed masks (FillPlanes computes them per row).
bool MakeFillMasks(const ConvPlan& p, FillMasks* m) {
  const int64_t bytes = p.dw_row_bytes;
  if (bytes > 64 * kFillChunks) return false;
  for (int64_t c = 0, i = 0; c < bytes; c += 64, ++i) {
    const int64_t lo = p.pl - c > 0 ? p.pl - c : 0;
    const int64_t hi = p.pl + p.w - c < 64 ? p.pl + p.w - c : 64;
    m->in[i] = hi > lo ? (hi == 64 ? ~__mmask64{0} : (__mmask64{1} << hi) - 1) &
                             ~((__mmask64{1} << lo) - 1)
                       : 0;
    m->keep[i] = bytes - c >= 64 ? ~__mmask64{0} : (__mmask64{1} << (bytes - c)) - 1;
  }
  return true;
}

OUTPOST_AVX512_VNNI void FillPlanes(const ConvPlan& p, const FillMasks* m, const int8_t* x,
                                    int8_t zx, uint8_t* planes) {
  const int64_t bytes = p.dw_row_bytes;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i pad = _mm512_set1_epi8(zx);  // zx + 128 after the flip
  const __m512i pad_u8 = _mm512_xor_si512(pad, flip);
  for (int64_t phase = 0; phase < p.sh; ++phase) {
    uint8_t* row = planes + phase * p.dw_plane;
    for (int64_t r = phase; r < p.dw_rows * p.sh; r += p.sh, row += bytes) {
      const int64_t ih = r - p.pt;
      const bool inside = ih >= 0 && ih < p.h;
      const int8_t* src = inside ? x + ih * p.w - p.pl : x;  // padded column c: src[c]
      if (m) {
        if (inside) {
          for (int64_t c = 0, i = 0; c < bytes; c += 64, ++i)
            _mm512_mask_storeu_epi8(
                row + c, m->keep[i],
                _mm512_xor_si512(_mm512_mask_loadu_epi8(pad, m->in[i], src + c), flip));
        } else {
          for (int64_t c = 0, i = 0; c < bytes; c += 64, ++i)
            _mm512_mask_storeu_epi8(row + c, m->keep[i], pad_u8);
        }
        continue;
      }
      for (int64_t c = 0; c < bytes; c += 64) {
        __mmask64 in = 0;
        if (inside) {
          const int64_t lo = p.pl - c > 0 ? p.pl - c : 0;
          const int64_t hi = p.pl + p.w - c < 64 ? p.pl + p.w - c : 64;
          if (hi > lo)
            in =
                (hi == 64 ? ~__mmask64{0} : (__mmask64{1} << hi) - 1) & ~((__mmask64{1} << lo) - 1);
        }
        const __mmask64 keep = bytes - c >= 64 ? ~__mmask64{0} : (__mmask64{1} << (bytes - c)) - 1;
        const __m512i v = in ? _mm512_mask_loadu_epi8(pad, in, src + c) : pad;
        _mm512_mask_storeu_epi8(row + c, keep, _mm512_xor_si512(v, flip));
      }
    }
  }
}

// One output vector: its first input byte in the planes, its first output in the channel's
// plane, and the outputs it stores. With Pair (rows of at most 8 outputs) lanes 8-15 hold the
// next output row: their bytes come from base2 and go to the output row after `out`.
struct DwVec {
  int32_t base, base2, out;  // MakeConvPlan keeps planes and outputs within int32
  uint32_t mask;
};

// The same for every channel, so computed once per range of channels (piece by piece for each
// channel when a plane has more than kDwListCap vectors). A multiple of kNv.
constexpr int64_t kDwListCap = 1024;

// The output vectors from position (oh, ow) on in row order, ow a multiple of 16 (Pair: rows
// oh, oh + 1, ow = 0), at most kDwListCap of them, and the position after them. Their count is
// rounded up to kNv: the missing ones of the last batch repeat the last vector with nothing
// stored.
struct DwPos {
  int64_t oh = 0, ow = 0;
};

template <bool Pair>
int64_t DwVectorList(const ConvPlan& p, DwPos* pos, DwVec* list) {
  const uint32_t row_mask = p.ow >= 16 ? 0xffffu : (1u << p.ow) - 1u;
  int64_t n = 0, oh = pos->oh, ow = pos->ow;
  for (; oh < p.oh && n < kDwListCap; ++n) {
    const int32_t base = static_cast<int32_t>(oh * p.dw_row_bytes + ow * p.sw);
    if (Pair) {
      const bool second = oh + 1 < p.oh;
      list[n] = {base, second ? base + static_cast<int32_t>(p.dw_row_bytes) : base,
                 static_cast<int32_t>(oh * p.ow), row_mask | (second ? row_mask << 8 : 0)};
      oh += 2;
    } else {
      const int64_t left = p.ow - ow;
      list[n] = {base, base, static_cast<int32_t>(oh * p.ow + ow),
                 left >= 16 ? 0xffffu : (1u << left) - 1u};
      ow += 16;
      if (ow >= p.ow) ow = 0, ++oh;
    }
  }
  for (; n % kNv != 0; ++n) list[n] = {list[n - 1].base, list[n - 1].base2, list[n - 1].out, 0};
  pos->oh = oh, pos->ow = ow;
  return n;
}

// G: the number of tap groups when fixed at compile time (3, a 3x3 window, unrolls the tap
// loop), or 0 for p.dw_groups. `out0`: the channel's first output. Vbmi: `shuf` holds vpermb
// indexes (see DwChunks).
template <bool Pair, int G, bool Vbmi, bool Clamped>
OUTPOST_AVX512_VNNI inline __attribute__((always_inline)) void DwVectors(
    const DwJob& j, const DwTapGroup* groups, const __m512i* shuf, const int32_t* w,
    const __m512i& corr, const ChannelRequantI8<Clamped>& rq, const uint8_t* planes, const DwVec* b,
    int64_t out0) {
  const ConvPlan& p = j.d->plan;
  // Dword sources of each 128-bit lane: the 4 outputs of lane L start at byte 4 * sw * L (for
  // Pair, lanes 2 and 3 restart at the second source, dword 16).
  const __m512i lane = Pair ? _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1)
                            : _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m512i perm = _mm512_add_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3, Pair * 16, Pair * 16 + 1, Pair * 16 + 2,
                        Pair * 16 + 3, Pair * 16, Pair * 16 + 1, Pair * 16 + 2, Pair * 16 + 3),
      _mm512_mullo_epi32(_mm512_set1_epi32(static_cast<int32_t>(p.sw)), lane));
  __m512i acc[kNv];
#pragma GCC unroll 4
  for (int v = 0; v < kNv; ++v) acc[v] = _mm512_setzero_si512();
  const int64_t ng = G > 0 ? G : p.dw_groups;
#pragma GCC unroll 4
  for (int64_t g = 0; g < ng; ++g) {
    const __m512i wv = _mm512_set1_epi32(w[g]);
    const __m512i sg = _mm512_loadu_si512(shuf + g);
    const uint8_t* src = planes + groups[g].offset;
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) {
      __m512i bytes;
      if (Vbmi)
        bytes = Pair ? PermuteBytes2(sg, _mm512_loadu_si512(src + b[v].base),
                                     _mm512_loadu_si512(src + b[v].base2))
                     : PermuteBytes(sg, _mm512_loadu_si512(src + b[v].base));
      else
        bytes = _mm512_shuffle_epi8(
            Pair ? _mm512_permutex2var_epi32(_mm512_loadu_si512(src + b[v].base), perm,
                                             _mm512_loadu_si512(src + b[v].base2))
                 : _mm512_permutexvar_epi32(perm, _mm512_loadu_si512(src + b[v].base)),
            sg);
      acc[v] = _mm512_dpbusd_epi32(acc[v], bytes, wv);
    }
  }
  const int64_t up = Pair ? p.ow - 8 : 0;  // lane 8 + i of a pair goes to out + ow + i
  if (j.y32) {
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) {
      const __m512i val = _mm512_sub_epi32(acc[v], corr);
      int32_t* y = j.y32 + out0 + b[v].out;
      _mm512_mask_storeu_epi32(y, static_cast<__mmask16>(b[v].mask & 0xff), val);
      _mm512_mask_storeu_epi32(y + up, static_cast<__mmask16>(b[v].mask & 0xff00), val);
    }
    return;
  }
#pragma GCC unroll 4
  for (int v = 0; v < kNv; ++v) {
    const __m128i r = rq(acc[v]);
    int8_t* y = j.y8 + out0 + b[v].out;
    if (Pair) {
      _mm_mask_storeu_epi8(y, static_cast<__mmask16>(b[v].mask & 0xff), r);
      _mm_mask_storeu_epi8(y + up, static_cast<__mmask16>(b[v].mask & 0xff00), r);
    } else {
      _mm_mask_storeu_epi8(y, static_cast<__mmask16>(b[v].mask), r);
    }
  }
}

// Channel t: `list` holds its `n` vectors when they all fit (whole), else this computes the
// list piece by piece.
template <bool Pair, int G, bool Vbmi, bool Clamped>
OUTPOST_AVX512_VNNI void DwPlane(const DwJob& j, int64_t t, const DwTapGroup* groups,
                                 const __m512i* shuf, const FillMasks* masks, uint8_t* planes,
                                 DwVec* list, int64_t n, bool whole) {
  const ConvPlan& p = j.d->plan;
  const int64_t ch = t % p.c;
  FillPlanes(p, masks, j.x + t * p.h * p.w, static_cast<int8_t>(j.d->ref.out.input_zp), planes);
  const int32_t* w = j.pk.weights + ch * p.dw_groups;
  const int8::LinearOutput& o = j.d->ref.out;
  const ChannelRequantI8<Clamped> rq({j.pk.m0[ch], j.pk.left[ch], j.pk.right[ch]}, o.output_zp,
                                     o.act_min, o.act_max, j.pk.corr[ch]);
  const __m512i corr = _mm512_set1_epi32(j.pk.corr[ch]);
  const int64_t out0 = t * p.oh * p.ow;
  if (whole) {
    for (int64_t i = 0; i < n; i += kNv)
      DwVectors<Pair, G, Vbmi, Clamped>(j, groups, shuf, w, corr, rq, planes, list + i, out0);
    return;
  }
  for (DwPos pos; pos.oh < p.oh;) {
    const int64_t m = DwVectorList<Pair>(p, &pos, list);
    for (int64_t i = 0; i < m; i += kNv)
      DwVectors<Pair, G, Vbmi, Clamped>(j, groups, shuf, w, corr, rq, planes, list + i, out0);
  }
}

template <bool Pair, int G, bool Vbmi, bool Clamped = false>
OUTPOST_AVX512_VNNI void DwRange(const DwJob& j, int64_t lo, int64_t hi, const DwTapGroup* groups,
                                 const __m512i* shuf, const FillMasks* masks, uint8_t* planes) {
  const ConvPlan& p = j.d->plan;
  DwVec list[kDwListCap];
  DwPos pos;
  const int64_t n = DwVectorList<Pair>(p, &pos, list);
  const bool whole = pos.oh >= p.oh;
  for (int64_t t = lo; t < hi; ++t) {
    // The next channel's input, which FillPlanes would otherwise wait for line by line.
    if (t + 1 < hi) {
      const char* next = reinterpret_cast<const char*>(j.x + (t + 1) * p.h * p.w);
      for (int64_t i = 0; i < p.h * p.w; i += 64) _mm_prefetch(next + i, _MM_HINT_T0);
    }
    DwPlane<Pair, G, Vbmi, Clamped>(j, t, groups, shuf, masks, planes, list, n, whole);
  }
}

// A fixed number of chunks, each with its own scratch slice, so that concurrent ranges never
// share memory and the result does not depend on the split.
template <bool Vbmi>
OUTPOST_AVX512_VNNI void DwChunks(void* arg, int64_t begin, int64_t end) {
  const DwJob& j = *static_cast<const DwJob*>(arg);
  const ConvPlan& p = j.d->plan;
  DwTapGroup groups[kMaxTaps];
  DepthwiseTapGroups(p, groups);
  // vpshufb pattern of each group: output position q (of 4 per 128-bit lane) takes tap t
  // from byte sw * q + col[t] of its lane (unused taps read byte 0 and have weight 0). For
  // vpermb the byte of the whole load instead: lane L's outputs start at byte 4 * sw * L (Pair:
  // lanes 2 and 3 at the same bytes of the second load, index bit 6).
  __m512i shuf[kMaxTaps];
  for (int64_t g = 0; g < p.dw_groups; ++g) {
    alignas(64) uint8_t b[64];
    for (int i = 0; i < 64; ++i) {
      const int q = (i % 16) / 4, tap = i % 4, lane = i / 16;
      const int64_t start = !Vbmi       ? 0
                            : p.ow <= 8 ? (lane >= 2 ? 64 : 0) + 4 * p.sw * (lane % 2)
                                        : 4 * p.sw * lane;
      b[i] = static_cast<uint8_t>(groups[g].tap[tap] < 0 ? start
                                                         : start + p.sw * q + groups[g].col[tap]);
    }
    shuf[g] = _mm512_load_si512(b);
  }
  FillMasks fill;
  const FillMasks* masks = MakeFillMasks(p, &fill) ? &fill : nullptr;
  for (int64_t s = begin; s < end; ++s) {
    uint8_t* planes = j.scratch + s * j.slot_bytes;
    const int64_t lo = s * j.planes / kDepthwiseSlots, hi = (s + 1) * j.planes / kDepthwiseSlots;
    // 3x3 windows; their requantization as FastRequantI8 without the negative-product
    // correction where it applies (ConvData::requant: every MobileNet depthwise layer).
    const bool clamped = j.d->requant == ConvData::Requant::kFastClamped;
    if (p.dw_groups == 3 && clamped) {
      if (p.ow <= 8)
        DwRange<true, 3, Vbmi, true>(j, lo, hi, groups, shuf, masks, planes);
      else
        DwRange<false, 3, Vbmi, true>(j, lo, hi, groups, shuf, masks, planes);
    } else if (p.dw_groups == 3) {
      if (p.ow <= 8)
        DwRange<true, 3, Vbmi>(j, lo, hi, groups, shuf, masks, planes);
      else
        DwRange<false, 3, Vbmi>(j, lo, hi, groups, shuf, masks, planes);
    } else if (p.ow <= 8) {
      DwRange<true, 0, Vbmi>(j, lo, hi, groups, shuf, masks, planes);
    } else {
      DwRange<false, 0, Vbmi>(j, lo, hi, groups, shuf, masks, planes);
    }
  }
}

}  // namespace

int64_t DepthwiseTapGroups(const ConvPlan& p, DwTapGroup* out) {
  // Consecutive taps of one kernel row share a group while it has room (4 taps) and each
  // output's bytes stay inside its 16-byte lane: sw * 3 + col <= 15.
  int64_t n = 0;
  for (int64_t kh = 0; kh < p.kh; ++kh) {
    const int64_t r = kh * p.dh;
    const int64_t row = (r % p.sh) * p.dw_plane + (r / p.sh) * p.dw_row_bytes;
    int64_t kw = 0;
    while (kw < p.kw) {
      DwTapGroup g;
      g.offset = row + kw * p.dw;
      int used = 0;
      for (; kw < p.kw && used < 4; ++kw, ++used) {
        const int64_t col = (kw * p.dw) - (g.offset - row);
        if (used > 0 && p.sw * 3 + col > 15) break;
        g.tap[used] = static_cast<int32_t>(kh * p.kw + kw);
        g.col[used] = static_cast<int32_t>(col);
      }
      for (int u = used; u < 4; ++u) g.tap[u] = -1, g.col[u] = 0;
      if (out) out[n] = g;
      ++n;
    }
  }
  return n;
}

int64_t DepthwiseSlotBytes(const ConvPlan& p) {
  // A 64-byte load may start at the last byte a tap reads.
  return (p.sh * p.dw_plane + 64 + 63) / 64 * 64;
}

void PackDepthwiseWeights(const ConvPlan& p, const int8_t* w, int32_t* out) {
  DwTapGroup groups[kMaxTaps];
  DepthwiseTapGroups(p, groups);
  const int64_t taps = p.kh * p.kw;
  for (int64_t c = 0; c < p.m; ++c)
    for (int64_t g = 0; g < p.dw_groups; ++g) {
      uint32_t word = 0;
      for (int t = 0; t < 4; ++t)
        if (groups[g].tap[t] >= 0)
          word |= static_cast<uint32_t>(static_cast<uint8_t>(w[c * taps + groups[g].tap[t]]))
                  << (8 * t);
      out[c * p.dw_groups + g] = static_cast<int32_t>(word);
    }
}

void EvalDepthwise(const ConvData& d, const ConvPacked& pk, const int8_t* x, void* y, void* scratch,
                   const Executor& ex, bool vbmi) {
  const ConvPlan& p = d.plan;
  DwJob j;
  j.d = &d;
  j.pk = pk;
  j.x = x;
  j.y8 = d.ref.out.raw_output ? nullptr : static_cast<int8_t*>(y);
  j.y32 = d.ref.out.raw_output ? static_cast<int32_t*>(y) : nullptr;
  j.scratch = static_cast<uint8_t*>(scratch);
  j.slot_bytes = DepthwiseSlotBytes(p);
  j.planes = p.n * p.c;
  ex.ParallelFor(kDepthwiseSlots, 1, vbmi ? DwChunks<true> : DwChunks<false>, &j);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
