// Depthwise CONV_2D on INT8 for small planes (AVX-512 VBMI), bit-exact with conv2d_i8_ref.
//
// The row path (conv_int8_dw_avx512.cc) copies each channel into padded phase planes and
// gives every output row vectors of its own. On the 7x7 and 14x14 planes of a MobileNet's
// last stages that costs more than the arithmetic: a 7x7 plane is 9 padded rows to copy and
// 4 vectors, a quarter of their lanes empty, for 49 outputs. Here a vector is instead up to
// 16 consecutive outputs of the flattened plane, across rows, and each tap group's bytes
// come straight from the unpadded input: one masked 64-byte load per group and vector, then
// a vpermi2b that takes each output's taps from the load, or the padding value from a
// second register. The load offsets, masks and byte indexes depend only on the geometry, so
// prepare computes them once into the packed weights (the tables below), and every channel
// reuses them.
//
// A vector takes as many consecutive outputs (at most 16) as keep every group's bytes within
// one 64-byte load; a plane qualifies when it needs at most kDwFlatMaxVectors of them.
#include <string.h>

#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/conv_int8_avx512.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

constexpr int kFlatMaxGroups = 64;     // DepthwiseTapGroups' bound: one per tap at most
constexpr uint8_t kFlatPadIndex = 64;  // vpermi2b index of the padding register's first byte

// The tables of one vector: the byte indexes and loads of each group, and its outputs.
struct FlatVector {
  uint8_t idx[kFlatMaxGroups][64];
  DwFlatLoad load[kFlatMaxGroups];
  DwFlatVec vec;
};

// The input byte (flat index in the channel's h x w plane) tap `tap` of output `o` reads,
// or -1 in the padding.
int64_t FlatTapIndex(const ConvPlan& p, int64_t o, int32_t tap) {
  const int64_t ih = o / p.ow * p.sh - p.pt + tap / p.kw * p.dh;
  const int64_t iw = o % p.ow * p.sw - p.pl + tap % p.kw * p.dw;
  return ih >= 0 && ih < p.h && iw >= 0 && iw < p.w ? ih * p.w + iw : -1;
}

// The vector whose first output is o0: as many outputs as fit (at most 16), into `out` when
// not null. Returns its length, 0 when not even one output fits.
int64_t MakeFlatVector(const ConvPlan& p, const DwTapGroup* groups, int64_t ng, int64_t o0,
                       FlatVector* out) {
  int64_t lo[kFlatMaxGroups], hi[kFlatMaxGroups];
  for (int64_t g = 0; g < ng; ++g) lo[g] = INT64_MAX, hi[g] = -1;
  int64_t len = 0;
  for (; len < 16 && o0 + len < p.npix; ++len) {
    bool fits = true;
    for (int64_t g = 0; g < ng && fits; ++g) {
      int64_t l = lo[g], h = hi[g];
      for (int t = 0; t < 4; ++t) {
        if (groups[g].tap[t] < 0) continue;
        const int64_t i = FlatTapIndex(p, o0 + len, groups[g].tap[t]);
        if (i < 0) continue;
        l = i < l ? i : l;
        h = i > h ? i : h;
      }
      fits = h < 0 || h - l < 64;
    }
    if (!fits) break;
    // Accepted: the output's indexes join the spans.
    for (int64_t g = 0; g < ng; ++g)
      for (int t = 0; t < 4; ++t) {
        if (groups[g].tap[t] < 0) continue;
        const int64_t i = FlatTapIndex(p, o0 + len, groups[g].tap[t]);
        if (i < 0) continue;
        lo[g] = i < lo[g] ? i : lo[g];
        hi[g] = i > hi[g] ? i : hi[g];
      }
  }
  if (out == nullptr || len == 0) return len;
  const int64_t plane = p.h * p.w;
  for (int64_t g = 0; g < ng; ++g) {
    const int64_t base = hi[g] < 0 ? 0 : lo[g];
    const int64_t bytes = plane - base < 64 ? plane - base : 64;
    out->load[g].base = static_cast<int32_t>(base);
    out->load[g].unused = 0;
    // A group with no byte in the input loads nothing.
    out->load[g].mask = hi[g] < 0 ? 0 : bytes == 64 ? ~uint64_t{0} : (uint64_t{1} << bytes) - 1;
    for (int q = 0; q < 16; ++q)
      for (int t = 0; t < 4; ++t) {
        const int64_t i =
            q < len && groups[g].tap[t] >= 0 ? FlatTapIndex(p, o0 + q, groups[g].tap[t]) : -1;
        out->idx[g][q * 4 + t] = i < 0 ? kFlatPadIndex : static_cast<uint8_t>(i - base);
      }
  }
  out->vec.out = static_cast<int32_t>(o0);
  out->vec.mask = len == 16 ? 0xffffu : (1u << len) - 1u;
  return len;
}

struct FlatLayout {
  int64_t idx, load, vec;  // byte offsets in the tables
};

FlatLayout FlatTableLayout(const ConvPlan& p) {
  const int64_t entries = p.dw_flat * p.dw_groups;
  return {0, entries * 64, entries * (64 + static_cast<int64_t>(sizeof(DwFlatLoad)))};
}

}  // namespace

int64_t DepthwiseFlatVectors(const ConvPlan& p) {
  if (p.dw_groups > kFlatMaxGroups || p.npix > kDwFlatMaxVectors * 16) return 0;
  DwTapGroup groups[kFlatMaxGroups];
  DepthwiseTapGroups(p, groups);
  int64_t n = 0;
  for (int64_t o = 0; o < p.npix; ++n) {
    if (n == kDwFlatMaxVectors) return 0;
    const int64_t len = MakeFlatVector(p, groups, p.dw_groups, o, nullptr);
    if (len == 0) return 0;
    o += len;
  }
  return n;
}

size_t DepthwiseFlatBytes(const ConvPlan& p) {
  return static_cast<size_t>(FlatTableLayout(p).vec +
                             p.dw_flat * static_cast<int64_t>(sizeof(DwFlatVec)));
}

bool DepthwiseFlatTables(const ConvPlan& p, uint8_t* tables, bool verify) {
  DwTapGroup groups[kFlatMaxGroups];
  DepthwiseTapGroups(p, groups);
  const FlatLayout at = FlatTableLayout(p);
  const int64_t ng = p.dw_groups;
  FlatVector v;
  int64_t o = 0;
  for (int64_t n = 0; n < p.dw_flat; ++n) {
    memset(&v, 0, sizeof(v));
    const int64_t len = MakeFlatVector(p, groups, ng, o, &v);
    if (len == 0) return false;
    o += len;
    for (int64_t g = 0; g < ng; ++g) {
      uint8_t* idx = tables + at.idx + (n * ng + g) * 64;
      uint8_t* load = tables + at.load + (n * ng + g) * static_cast<int64_t>(sizeof(DwFlatLoad));
      if (verify) {
        if (memcmp(idx, v.idx[g], 64) != 0 || memcmp(load, &v.load[g], sizeof(DwFlatLoad)) != 0)
          return false;
      } else {
        memcpy(idx, v.idx[g], 64);
        memcpy(load, &v.load[g], sizeof(DwFlatLoad));
      }
    }
    uint8_t* vec = tables + at.vec + n * static_cast<int64_t>(sizeof(DwFlatVec));
    if (verify) {
      if (memcmp(vec, &v.vec, sizeof(DwFlatVec)) != 0) return false;
    } else {
      memcpy(vec, &v.vec, sizeof(DwFlatVec));
    }
  }
  return o == p.npix;
}

namespace {

struct FlatJob {
  const ConvData* d;
  ConvPacked pk;
  const int8_t* x;
  int8_t* y8;
  int32_t* y32;
};

// G: the number of tap groups when fixed at compile time (3: a 3x3 window, the weights in
// registers), or 0 for p.dw_groups.
template <int G, bool Clamped>
OUTPOST_AVX512_VNNI void FlatChannels(const FlatJob& j, int64_t lo, int64_t hi) {
  const ConvPlan& p = j.d->plan;
  const int64_t ng = G > 0 ? G : p.dw_groups;
  const FlatLayout at = FlatTableLayout(p);
  const uint8_t* idx = j.pk.dw_flat + at.idx;
  const DwFlatLoad* loads = reinterpret_cast<const DwFlatLoad*>(j.pk.dw_flat + at.load);
  const DwFlatVec* vecs = reinterpret_cast<const DwFlatVec*>(j.pk.dw_flat + at.vec);
  const int8::LinearOutput& o = j.d->ref.out;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  // The padding as the input's zero point, flipped like the input (x + 128).
  const __m512i pad = _mm512_set1_epi8(static_cast<char>(o.input_zp ^ 0x80));
  const int64_t plane = p.h * p.w, out_plane = p.oh * p.ow;
  for (int64_t t = lo; t < hi; ++t) {
    const int64_t ch = t % p.c;
    const int8_t* x = j.x + t * plane;
    const int32_t* w = j.pk.weights + ch * p.dw_groups;
    const ChannelRequantI8<Clamped> rq({j.pk.m0[ch], j.pk.left[ch], j.pk.right[ch]}, o.output_zp,
                                       o.act_min, o.act_max, j.pk.corr[ch]);
    const __m512i corr = _mm512_set1_epi32(j.pk.corr[ch]);
    for (int64_t v = 0; v < p.dw_flat; ++v) {
      __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int64_t g = 0; g < ng; ++g) {
        const DwFlatLoad& l = loads[v * ng + g];
        const __m512i in = _mm512_xor_si512(_mm512_maskz_loadu_epi8(l.mask, x + l.base), flip);
        const __m512i bytes = PermuteBytes2(_mm512_loadu_si512(idx + (v * ng + g) * 64), in, pad);
        acc = _mm512_dpbusd_epi32(acc, bytes, _mm512_set1_epi32(w[g]));
      }
      const __mmask16 mask = static_cast<__mmask16>(vecs[v].mask);
      const int64_t out = t * out_plane + vecs[v].out;
      if (j.y32)
        _mm512_mask_storeu_epi32(j.y32 + out, mask, _mm512_sub_epi32(acc, corr));
      else
        _mm_mask_storeu_epi8(j.y8 + out, mask, rq(acc));
    }
  }
}

// Fixed chunks of channels, as the row path, so that the split never depends on the thread
// count (not that it could change a channel's bytes here).
OUTPOST_AVX512_VNNI void FlatChunks(void* arg, int64_t begin, int64_t end) {
  const FlatJob& j = *static_cast<const FlatJob*>(arg);
  const ConvPlan& p = j.d->plan;
  const int64_t planes = p.n * p.c;
  for (int64_t s = begin; s < end; ++s) {
    const int64_t lo = s * planes / kDepthwiseSlots, hi = (s + 1) * planes / kDepthwiseSlots;
    if (p.dw_groups == 3 && j.d->requant == ConvData::Requant::kFastClamped)
      FlatChannels<3, true>(j, lo, hi);
    else if (p.dw_groups == 3)
      FlatChannels<3, false>(j, lo, hi);
    else
      FlatChannels<0, false>(j, lo, hi);
  }
}

}  // namespace

void EvalDepthwiseFlat(const ConvData& d, const ConvPacked& pk, const int8_t* x, void* y,
                       const Executor& ex) {
  FlatJob j;
  j.d = &d;
  j.pk = pk;
  j.x = x;
  j.y8 = d.ref.out.raw_output ? nullptr : static_cast<int8_t*>(y);
  j.y32 = d.ref.out.raw_output ? static_cast<int32_t*>(y) : nullptr;
  ex.ParallelFor(kDepthwiseSlots, 1, FlatChunks, &j);
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
