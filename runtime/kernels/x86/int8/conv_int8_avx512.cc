// CONV_2D on INT8 with AVX-512 VNNI, bit-exact with conv2d_i8_ref.
//
// Per batch item and group the convolution is a GEMM: Y[m, p] = sum_k W[m, k] * X[k, p] over
// k = (input channel, kh, kw) and p = output pixel, which NCHW makes contiguous. X is the
// input itself for a 1x1 stride-1 unpadded conv, otherwise an im2col built in scratch (padded
// cells hold the input zero point, i.e. contribute nothing). X is stored as groups of 4
// consecutive k per pixel, the vpdpbusd operand; weights are packed at prepare as int32 words
// of 4 k each and broadcast. Depthwise convolutions have their own path
// (conv_int8_dw_avx512.cc).
#include "runtime/kernels/x86/int8/conv_int8_avx512.h"

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/kernels/x86/range_mask.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

using int8_plan::RoundUp;

// ---------------------------------------------------------------------------------------------
// Prepare.

// The requantization: FastRequantI8 when every channel takes it.
void SetRequant(ConvData* d, const ConvPacked& pk) {
  const ConvPlan& p = d->plan;
  const int8::LinearOutput& o = d->ref.out;
  if (o.raw_output) return;
  // A depthwise lane sums the 4 products of each tap group.
  const int64_t k = p.depthwise ? p.dw_groups * 4 : p.kq * 4;
  for (int64_t c = 0; c < p.m; ++c)
    if (!FastRequantEligible({pk.m0[c], pk.left[c], pk.right[c]}, o.act_min, o.act_max, k)) return;
  d->requant =
      o.act_min >= o.output_zp ? ConvData::Requant::kFastClamped : ConvData::Requant::kFast;
}

Status Prepare(KernelContext& ctx) {
  ConvData* d = ctx.op_data<ConvData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareConv(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  OUTPOST_KERNEL_CHECK(
      ctx, MakeConvPlan(x.dims, w.dims, y.dims, ctx.options<opm::Conv2DOptions>(), &d->plan),
      Status::kInternal, "conv plan failed on validated shapes");
  const ConvPlan& p = d->plan;
  // vpdpbusd folds the weights' zero point nowhere: asymmetric weights (ONNX ConvInteger)
  // and weights known only at run time take the reference path.
  d->use_reference = int8_plan::NeedsReference(d->ref.out, w, p.m);
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(ctx, ctx.packed() != nullptr && ctx.packed_bytes() >= ConvPackedBytes(p),
                       Status::kInternal, "packed memory missing");
  const ConvPacked pk = ConvPackedView(p, ctx.packed());
  // Set after the channel constants are written or checked (SetRequant).
  d->requant = ConvData::Requant::kGeneral;
  // A model's cached copy (ctx.packed_in_model()) holds what the code below writes; its
  // constants are checked (eval trusts them), its weight tiles are plain int8 data.
  if (ctx.packed_in_model()) {
    OUTPOST_KERNEL_CHECK(ctx,
                         int8_plan::CachedChannelsMatch(
                             ctx, d->ref.out, p.m, p.k, true, 128, int8_plan::RightShift::kPositive,
                             {pk.corr, pk.m0, pk.left, pk.right, pk.weights}),
                         Status::kCorruptModel, "cached packed constants differ from the model's");
    OUTPOST_KERNEL_CHECK(ctx, p.dw_flat == 0 || DepthwiseFlatTables(p, pk.dw_flat, true),
                         Status::kCorruptModel,
                         "cached depthwise tables differ from the convolution's geometry");
    SetRequant(d, pk);
    return Status::kOk;
  }
  const int8_t* wd = w.as<int8_t>();
  // Activations enter vpdpbusd as x + 128 (see avx512_int8_util.h).
  int8_plan::FillChannels(ctx, d->ref.out, p.m, p.k, true, 128, int8_plan::RightShift::kPositive,
                          {pk.corr, pk.m0, pk.left, pk.right, pk.weights});
  // GEMM weights: [g][m / kConvMr][q][m % kConvMr] words of w[m][4q .. 4q+3], so that a tile
  // reads its channels' words for one q from one cache line.
  if (p.depthwise) {
    PackDepthwiseWeights(p, wd, pk.weights);
    OUTPOST_KERNEL_CHECK(ctx, p.dw_flat == 0 || DepthwiseFlatTables(p, pk.dw_flat, false),
                         Status::kInternal, "depthwise tables do not match their plan");
  } else {
    int8_plan::PackWeightTiles(wd, p.groups, p.mg, p.k, p.kq * 4, kConvMr, 4,
                               reinterpret_cast<int8_t*>(pk.weights));
  }
  SetRequant(d, pk);
  return Status::kOk;
}

// ---------------------------------------------------------------------------------------------
// Eval: GEMM path.

struct GemmJob {
  const ConvData* d;
  ConvPacked pk;
  const int32_t* a;  // packed weights of the group
  int64_t g;         // the group
  const uint8_t* b;  // [kq][npad][4]
  int8_t* y8;        // output plane of the group's first channel, or
  int32_t* y32;
  int64_t mtiles, nblocks;
};

constexpr int64_t kNv = 3;  // 16-pixel vectors per tile

// MR channels (all kConvMr of a tile, or half of them with NV = 4: 8 x 4 accumulators would
// leave no register for the operands) by 16 * NV pixels. Every loop over the accumulators is
// unrolled with constant indices and the edges are handled by conditions, not early exits, so
// that the accumulators stay in registers (an indexed access makes the compiler keep them in
// memory).
template <int MR, int NV, ConvData::Requant R>
OUTPOST_AVX512_VNNI void GemmTile(const GemmJob& j, int64_t m0, int64_t p0) {
  const ConvPlan& p = j.d->plan;
  const int64_t kq = p.kq, bstride = p.npad * 4;
  __m512i acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_si512();
  const int32_t* a = j.a + (m0 / kConvMr * kConvMr) * kq + m0 % kConvMr;
  const uint8_t* b = j.b + p0 * 4;
  for (int64_t q = 0; q < kq; ++q, a += kConvMr, b += bstride) {
    __m512i bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(b + v * 64);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i av = _mm512_set1_epi32(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], bv[v], av);
    }
  }
  // The smaller tiles' sums go through memory to the requantization below: GCC 12 otherwise
  // allocates their loop's accumulators around the registers the requantization needs, and
  // copies all of them from register to register on every pass of the loop (the 4 x 4 tile
  // ran 40% slower). The 8 x 3 tile, with most of the work, keeps them in registers (through
  // memory it lost the gain of FastRequantI8).
  alignas(64) __m512i sums[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) sums[i][v] = acc[i][v];
  if (MR * NV < 24) __asm__ volatile("" : : "r"(&sums[0][0]) : "memory");
  const int8::LinearOutput& o = j.d->ref.out;
  __mmask16 masks[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t left = p.npix - (p0 + v * 16);
    masks[v] = static_cast<__mmask16>(left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1u : 0u);
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    const int64_t m = m0 + i;  // within the group's output planes
    if (m < p.mg) {
      const int64_t gm = j.g * p.mg + m;  // in the model
      if (R != ConvData::Requant::kGeneral) {
        const FastRequantI8 rq = MakeFastRequantI8({j.pk.m0[gm], j.pk.left[gm], j.pk.right[gm]},
                                                   o.output_zp, j.pk.corr[gm]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm_mask_storeu_epi8(j.y8 + m * p.npix + p0 + v * 16, masks[v],
                               ApplyFastRequantI8<R == ConvData::Requant::kFast>(rq, sums[i][v]));
      } else if (j.y32) {
        const __m512i corr = _mm512_set1_epi32(j.pk.corr[gm]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm512_mask_storeu_epi32(j.y32 + m * p.npix + p0 + v * 16, masks[v],
                                   _mm512_sub_epi32(sums[i][v], corr));
      } else {
        const __m512i corr = _mm512_set1_epi32(j.pk.corr[gm]);
        const RequantVec rq = MakeRequantVec({j.pk.m0[gm], j.pk.left[gm], j.pk.right[gm]},
                                             o.output_zp, o.act_min, o.act_max);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const __m128i r = ApplyRequantVecI8(rq, _mm512_sub_epi32(sums[i][v], corr));
          _mm_mask_storeu_epi8(j.y8 + m * p.npix + p0 + v * 16, masks[v], r);
        }
      }
    }
  }
}

template <ConvData::Requant R>
void GemmTiles(void* arg, int64_t begin, int64_t end) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const ConvPlan& p = j.d->plan;
  for (int64_t t = begin; t < end; ++t) {
    // Pixel blocks outermost: one block of X stays in L1 while every channel tile uses it.
    const int64_t nb = t / j.mtiles, mt = t % j.mtiles;
    const int64_t p0 = nb * kNv * 16;
    const int64_t rest = (p.npix - p0 + 15) / 16;
    const int64_t m0 = mt * kConvMr;
    if (rest == 4) {  // the last block takes the vector a block of 3 would leave alone
      GemmTile<kConvMr / 2, 4, R>(j, m0, p0);
      GemmTile<kConvMr / 2, 4, R>(j, m0 + kConvMr / 2, p0);
    } else if (rest >= 3) {
      GemmTile<kConvMr, 3, R>(j, m0, p0);
    } else if (rest == 2) {
      GemmTile<kConvMr, 2, R>(j, m0, p0);
    } else {
      GemmTile<kConvMr, 1, R>(j, m0, p0);
    }
  }
}

// Pixel blocks of kNv vectors; a last vector on its own joins the block before it.
int64_t PixelBlocks(const ConvPlan& p) {
  const int64_t vectors = (p.npix + 15) / 16;
  return vectors >= 4 && vectors % kNv == 1 ? vectors / kNv : (vectors + kNv - 1) / kNv;
}

// Stride-2 im2col rows, 32 outputs at a time: the low bytes of 32 int16 loads, while all 64
// bytes lie in the input row.
OUTPOST_AVX512_VNNI int64_t Stride2Row(const int8_t* src, int64_t sw, int64_t begin, int64_t end,
                                       int64_t src_bytes, int8_t* row) {
  int64_t i = begin;
  if (sw != 2) return i;
  for (; i + 32 <= end && 2 * i + 64 <= src_bytes; i += 32)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + i),
                        _mm512_cvtepi16_epi8(_mm512_loadu_si512(src + 2 * i)));
  return i;
}

// int8_plan::Im2colRow for a column stride of 1: per 64 output columns of an output row, one
// load masked to the input's columns over the zero point and one store masked to the row. The
// portable version makes a memset, a memcpy and a memset per output row, library calls for
// rows of 7 to 56 bytes on ResNet18's 3x3 layers: about a fifth of the int8 model's time.
OUTPOST_AVX512_VNNI void Im2colRowStride1(const ConvPlan& p, const int8_t* xg, int64_t k, int8_t zx,
                                          int8_t* row) {
  const int64_t ci = k / (p.kh * p.kw), t = k % (p.kh * p.kw);
  const int64_t kh = t / p.kw, kw = t % p.kw;
  // Output column i reads input column i + off_w.
  const int64_t off_w = kw * p.dw - p.pl;
  const __m512i fill = _mm512_set1_epi8(zx);
  // Addresses as integers: a row's start may lie outside the plane where every lane loaded
  // from it is masked off (never read).
  const uintptr_t plane = reinterpret_cast<uintptr_t>(xg + ci * p.h * p.w);
  for (int64_t oh = 0; oh < p.oh; ++oh) {
    int8_t* r = row + oh * p.ow;
    const int64_t ih = oh * p.sh + kh * p.dh - p.pt;
    const bool inside = ih >= 0 && ih < p.h;
    const uintptr_t src = plane + static_cast<uintptr_t>(ih * p.w + off_w);
    for (int64_t i0 = 0; i0 < p.ow; i0 += 64) {
      const __mmask64 store = RangeMask(i0, p.ow, 64);
      const __mmask64 load = inside ? RangeMask(i0 + off_w, p.w, 64) & store : 0;
      const __m512i v = _mm512_mask_loadu_epi8(fill, load, reinterpret_cast<const void*>(src + i0));
      _mm512_mask_storeu_epi8(r + i0, store, v);
    }
  }
}

constexpr int64_t kPackSlots = 4;         // parallel chunks of the packing, own im2col rows
constexpr int64_t kPackParallel = 32768;  // bytes of packed input worth splitting

struct PackJob {
  const ConvPlan* p;
  const int8_t* xg;  // the group's first input channel
  int8_t zx;
  uint8_t* b;
  int8_t* rows;  // kPackSlots x 4 im2col rows
  int64_t slots;
};

OUTPOST_AVX512_VNNI void PackChunks(void* arg, int64_t begin, int64_t end) {
  const PackJob& j = *static_cast<const PackJob*>(arg);
  const ConvPlan& p = *j.p;
  for (int64_t s = begin; s < end; ++s) {
    int8_t* rows = j.rows + s * 4 * p.npad;
    for (int64_t q = s * p.kq / j.slots; q < (s + 1) * p.kq / j.slots; ++q) {
      const int8_t* r[4];
      if (p.direct || p.sw != 1) {
        int8_plan::GemmRowGroup(p, j.xg, q, 4, j.zx, rows, p.npad, Stride2Row, r);
      } else {
        for (int i = 0; i < 4; ++i) {
          r[i] = q * 4 + i < p.k ? rows + i * p.npad : nullptr;
          if (r[i] != nullptr) Im2colRowStride1(p, j.xg, q * 4 + i, j.zx, rows + i * p.npad);
        }
      }
      InterleaveRows4(r, p.npix, j.b + q * p.npad * 4);
    }
  }
}

Status EvalWith(KernelContext& ctx, bool vbmi) {
  const ConvData& d = *ctx.op_data<ConvData>();
  if (d.use_reference) return int8::EvalConv(ctx);
  const ConvPlan& p = d.plan;
  const ConvPacked pk = ConvPackedView(p, ctx.packed());
  const int8_t* x = ctx.input(0).as<int8_t>();
  const TensorView& y = ctx.output(0);
  if (p.depthwise && vbmi && p.dw_flat > 0) {
    EvalDepthwiseFlat(d, pk, x, y.data, ctx.executor());
    return Status::kOk;
  }
  if (p.depthwise) {
    EvalDepthwise(d, pk, x, y.data, ctx.scratch(), ctx.executor(), vbmi);
    return Status::kOk;
  }
  uint8_t* b = static_cast<uint8_t*>(ctx.scratch());
  int8_t* rows = reinterpret_cast<int8_t*>(b + p.kq * p.npad * 4);
  GemmJob j;
  j.d = &d;
  j.pk = pk;
  j.b = b;
  j.mtiles = p.mg_pad / kConvMr;
  j.nblocks = PixelBlocks(p);
  const bool raw = d.ref.out.raw_output;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t g = 0; g < p.groups; ++g) {
      PackJob pack{&p,
                   x + (n * p.c + g * p.cg) * p.h * p.w,
                   static_cast<int8_t>(d.ref.out.input_zp),
                   b,
                   rows,
                   p.kq * p.npad * 4 >= kPackParallel ? kPackSlots : 1};
      ctx.executor().ParallelFor(pack.slots, 1, PackChunks, &pack);
      j.a = pk.weights + g * p.mg_pad * p.kq;
      j.g = g;
      const int64_t first = (n * p.m + g * p.mg) * p.npix;
      j.y8 = raw ? nullptr : y.as<int8_t>() + first;
      j.y32 = raw ? y.as<int32_t>() + first : nullptr;
      ctx.executor().ParallelFor(
          j.nblocks * j.mtiles, 1,
          d.requant == ConvData::Requant::kFastClamped ? GemmTiles<ConvData::Requant::kFastClamped>
          : d.requant == ConvData::Requant::kFast      ? GemmTiles<ConvData::Requant::kFast>
                                                       : GemmTiles<ConvData::Requant::kGeneral>,
          &j);
    }
  return Status::kOk;
}

Status Eval(KernelContext& ctx) { return EvalWith(ctx, false); }
Status EvalVbmi(KernelContext& ctx) { return EvalWith(ctx, true); }

}  // namespace

bool MakeConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                  const opm::Conv2DOptions* o, ConvPlan* p) {
  if (!int8_plan::MakeConvGeometry(x, wt, y, o, p)) return false;
  p->depthwise = p->cg == 1 && p->mg == 1 && p->kh * p->kw <= 64 && p->sw <= kDwMaxStride;
  p->kq = (p->k + 3) / 4;
  p->npad = RoundUp(p->npix, 16);
  p->mg_pad = RoundUp(p->mg, kConvMr);
  // Depthwise: the padded input rows and columns actually read. A row holds the columns of
  // every output vector (16 outputs, sw apart) and the widest tap group's reach.
  const int64_t ph = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  const int64_t pw = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
  p->dw_rows = (ph + p->sh - 1) / p->sh;
  p->dw_row_bytes = RoundUp(pw > RoundUp(p->ow, 16) * p->sw ? pw : RoundUp(p->ow, 16) * p->sw, 4);
  p->dw_plane = p->dw_rows * p->dw_row_bytes;
  // The depthwise path addresses planes and output planes with int32 offsets.
  if (p->sh * p->dw_plane + 128 > INT32_MAX || p->oh * p->ow > INT32_MAX) p->depthwise = false;
  p->dw_groups = p->depthwise ? DepthwiseTapGroups(*p, nullptr) : 0;
  p->dw_flat = p->depthwise ? DepthwiseFlatVectors(*p) : 0;
  return true;
}

namespace {
// Bytes of the channel constants and weights; the flat tables start at this rounded to 64.
int64_t ConstantsAndWeightsBytes(const ConvPlan& p) {
  const int64_t channels = RoundUp(p.m, 16);
  const int64_t weights = p.depthwise ? p.m * p.dw_groups : p.groups * p.mg_pad * p.kq;
  return 4 * (4 * channels + weights);
}
}  // namespace

size_t ConvPackedBytes(const ConvPlan& p) {
  const int64_t bytes = ConstantsAndWeightsBytes(p);
  if (p.dw_flat == 0) return static_cast<size_t>(bytes);
  return static_cast<size_t>(RoundUp(bytes, 64)) + DepthwiseFlatBytes(p);
}

ConvPacked ConvPackedView(const ConvPlan& p, void* packed) {
  int32_t* base = static_cast<int32_t*>(packed);
  const int64_t channels = RoundUp(p.m, 16);
  uint8_t* flat = p.dw_flat == 0
                      ? nullptr
                      : static_cast<uint8_t*>(packed) + RoundUp(ConstantsAndWeightsBytes(p), 64);
  return {base, base + channels, base + 2 * channels, base + 3 * channels, base + 4 * channels,
          flat};
}

size_t ConvScratchBytes(const ConvPlan& p) {
  if (p.depthwise) return static_cast<size_t>(kDepthwiseSlots * DepthwiseSlotBytes(p));
  return static_cast<size_t>(p.kq * p.npad * 4 + (p.direct ? 0 : kPackSlots * 4 * p.npad));
}

namespace {
constexpr auto ScratchBytes = int8_plan::ConvPlanBytes<ConvPlan, MakeConvPlan, ConvScratchBytes>;
constexpr auto PackedBytes = int8_plan::ConvPlanBytes<ConvPlan, MakeConvPlan, ConvPackedBytes>;
}  // namespace

const KernelRegistration kConv2DI8Avx512Vnni = {OpCode::CONV_2D,
                                                DType::INT8,
                                                KernelFamily::kX86,
                                                "conv2d_i8_avx512vnni",
                                                sizeof(ConvData),
                                                ScratchBytes,
                                                Prepare,
                                                Eval,
                                                kCpuX86Avx512Vnni,
                                                PackedBytes,
                                                "i8-conv/avx512vnni/v2"};

// The same kernel with the depthwise path's byte gathers done by vpermb (one instruction where
// the other needs a vpermd and a vpshufb). Same prepare and packed layout.
const KernelRegistration kConv2DI8Avx512Vbmi = {OpCode::CONV_2D,
                                                DType::INT8,
                                                KernelFamily::kX86,
                                                "conv2d_i8_avx512vbmi",
                                                sizeof(ConvData),
                                                ScratchBytes,
                                                Prepare,
                                                EvalVbmi,
                                                kCpuX86Avx512Vnni | kCpuX86Avx512Vbmi,
                                                PackedBytes,
                                                "i8-conv/avx512vnni/v2"};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
