// CONV_2D on INT8 with AVX2, bit-exact with conv2d_i8_ref.
//
// Per batch item and group the convolution is a GEMM: Y[m, p] = sum_k W[m, k] * X[k, p] over
// k = (input channel, kh, kw) and p = output pixel, which NCHW makes contiguous. X is the
// input itself for a 1x1 stride-1 unpadded conv, otherwise an im2col built in scratch (padded
// cells hold the input zero point, which the per-channel correction removes). X is stored as
// pairs of consecutive k per pixel widened to int16, the vpmaddwd operand (see
// avx2_int8_util.h for why not vpmaddubsw); weights are packed at prepare as int32 words of 2
// int16 k and broadcast. Depthwise convolutions have their own path (conv_int8_dw_avx2.cc).
#include "runtime/kernels/x86/int8/conv_int8_avx2.h"

#include <string.h>

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

using int8_plan::ChannelConstants;
using int8_plan::RoundUp;

constexpr int64_t kNv = 3;                // 8-pixel vectors per GEMM tile: 4 x 3 accumulators
constexpr int64_t kPackSlots = 4;         // parallel chunks of the packing, own im2col rows
constexpr int64_t kPackParallel = 32768;  // bytes of packed input worth splitting
// Sizes above this are not planned (the reference runs): keeps every product below in range.
constexpr int64_t kMaxElements = int64_t{1} << 40;

size_t PackedBytesFor(const Avx2ConvPlan& p) {
  const int64_t weights = p.depthwise ? p.m * p.kh * p.kw : p.groups * p.mg_pad * p.kp;
  return int8_plan::ConstantsBytes(p.m, kAvx2Vector) + static_cast<size_t>(4 * weights);
}

size_t ScratchBytesFor(const Avx2ConvPlan& p) {
  if (p.depthwise) return static_cast<size_t>(kAvx2DwSlots * DepthwiseSlotBytesAvx2(p));
  return static_cast<size_t>(p.kp * p.npad * 4 + (p.direct ? 0 : kPackSlots * 2 * p.npad));
}

Status Prepare(KernelContext& ctx) {
  Avx2ConvData* d = ctx.op_data<Avx2ConvData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareConv(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  d->use_reference =
      !MakeAvx2ConvPlan(x.dims, w.dims, y.dims, ctx.options<opm::Conv2DOptions>(), &d->plan) ||
      int8_plan::NeedsReference(d->ref.out, w, w.dims[0]);
  if (d->use_reference) return Status::kOk;
  const Avx2ConvPlan& p = d->plan;
  OUTPOST_KERNEL_CHECK(ctx,
                       ctx.packed() != nullptr && ctx.packed_bytes() >= PackedBytesFor(p) &&
                           ctx.scratch_bytes() >= ScratchBytesFor(p),
                       Status::kInternal, "conv: packed or scratch memory smaller than planned");
  const ChannelConstants cc = int8_plan::ConstantsAt(p.m, kAvx2Vector, ctx.packed());
  // A model's cached copy (ctx.packed_in_model()) holds what the code below writes; its
  // constants are checked (eval trusts them), its weight tiles are plain int8 data.
  if (ctx.packed_in_model()) {
    OUTPOST_KERNEL_CHECK(ctx,
                         int8_plan::CachedChannelsMatch(ctx, d->ref.out, p.m, p.k, !p.depthwise,
                                                        0, int8_plan::RightShift::kPositive, cc),
                         Status::kCorruptModel, "cached packed constants differ from the model's");
    return Status::kOk;
  }
  // Depthwise subtracts the input zero point itself (x - zx in its planes).
  int8_plan::FillChannels(ctx, d->ref.out, p.m, p.k, !p.depthwise, 0,
                          int8_plan::RightShift::kPositive, cc);
  const int8_t* wd = w.as<int8_t>();
  if (p.depthwise)
    PackDepthwiseWeightsAvx2(p, wd, static_cast<int32_t*>(cc.weights));
  else
    int8_plan::PackWeightTiles16(wd, p.groups, p.mg, p.k, p.kp * 2, kAvx2ConvMr, 2,
                                 static_cast<int16_t*>(cc.weights));
  return Status::kOk;
}

// ---------------------------------------------------------------------------------------------
// Eval: GEMM path.

struct GemmJob {
  const Avx2ConvData* d;
  ChannelConstants cc;
  const int32_t* a;  // weight tiles of the group: [mg_pad / 4][kp][4] words of 2 int16
  int64_t g;         // the group
  const int16_t* b;  // [kp][npad][2]
  int8_t* y8;        // output plane of the group's first channel, or
  int32_t* y32;
  int64_t mtiles;
};

// kAvx2ConvMr channels by 8 * NV pixels. The loops over the accumulators are unrolled with
// constant indices so that the accumulators stay in registers.
template <int NV>
OUTPOST_AVX2 void GemmTile(const GemmJob& j, int64_t m0, int64_t p0) {
  constexpr int MR = static_cast<int>(kAvx2ConvMr);
  const Avx2ConvPlan& p = j.d->plan;
  const int64_t bstride = p.npad * 2;
  __m256i acc[MR][NV];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_si256();
  const int32_t* a = j.a + m0 * p.kp;
  const int16_t* b = j.b + p0 * 2;
  for (int64_t q = 0; q < p.kp; ++q, a += MR, b += bstride) {
    __m256i bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + v * 16));
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256i av = _mm256_set1_epi32(a[i]);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(bv[v], av));
    }
  }
  const int8::LinearOutput& o = j.d->ref.out;
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const int64_t m = m0 + i;  // within the group's output planes
    if (m < p.mg) {
      const int64_t gm = j.g * p.mg + m;  // in the model
      const __m256i corr = _mm256_set1_epi32(j.cc.corr[gm]);
      if (j.y32) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
          StoreInt32x8(j.y32 + m * p.npix + p0 + v * 8, _mm256_sub_epi32(acc[i][v], corr),
                       p.npix - (p0 + v * 8));
      } else {
        const RequantVec8 rq = MakeRequantVec8(j.cc.m0[gm], j.cc.left[gm], j.cc.right[gm],
                                               o.output_zp, o.act_min, o.act_max);
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v)
          StoreBytes8(j.y8 + m * p.npix + p0 + v * 8,
                      ApplyRequantVec8I8(rq, _mm256_sub_epi32(acc[i][v], corr)),
                      p.npix - (p0 + v * 8));
      }
    }
  }
}

void GemmTiles(void* arg, int64_t begin, int64_t end) {
  const GemmJob& j = *static_cast<const GemmJob*>(arg);
  const Avx2ConvPlan& p = j.d->plan;
  for (int64_t t = begin; t < end; ++t) {
    // Pixel blocks outermost: one block of X stays in L1 while every channel tile uses it.
    const int64_t nb = t / j.mtiles, mt = t % j.mtiles;
    const int64_t p0 = nb * kNv * 8;
    const int64_t rest = (p.npix - p0 + 7) / 8;
    const int64_t m0 = mt * kAvx2ConvMr;
    if (rest >= 3)
      GemmTile<3>(j, m0, p0);
    else if (rest == 2)
      GemmTile<2>(j, m0, p0);
    else
      GemmTile<1>(j, m0, p0);
  }
}

// Interleaves two rows of n int8 values into n int16 pairs (row 0 first). A null row reads as
// zeros (its weights are zero). The tail up to npad pairs is zeroed.
OUTPOST_AVX2 void InterleaveRows2(const int8_t* r0, const int8_t* r1, int64_t n, int64_t npad,
                                  int16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + i)));
    const __m256i b =
        r1 ? _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + i)))
           : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
    __m256i* o = reinterpret_cast<__m256i*>(out + 2 * i);
    _mm256_storeu_si256(o, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  for (; i < n; ++i) {
    out[2 * i] = r0[i];
    out[2 * i + 1] = r1 ? r1[i] : 0;
  }
  for (; i < npad; ++i) out[2 * i] = out[2 * i + 1] = 0;
}

// Stride-2 im2col rows, 16 outputs at a time: the even bytes of a 32-byte load, while all of
// it lies in the input row.
OUTPOST_AVX2 int64_t Stride2Row(const int8_t* src, int64_t sw, int64_t begin, int64_t end,
                                int64_t src_bytes, int8_t* row) {
  int64_t i = begin;
  if (sw != 2) return i;
  const __m256i even = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  for (; i + 16 <= end && 2 * i + 32 <= src_bytes; i += 16) {
    const __m256i v = _mm256_shuffle_epi8(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i)), even);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + i),
                     _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, 0x08)));
  }
  return i;
}

struct PackJob {
  const Avx2ConvPlan* p;
  const int8_t* xg;  // the group's first input channel
  int8_t zx;
  int16_t* b;
  int8_t* rows;  // kPackSlots x 2 im2col rows
  int64_t slots;
};

void PackChunks(void* arg, int64_t begin, int64_t end) {
  const PackJob& j = *static_cast<const PackJob*>(arg);
  const Avx2ConvPlan& p = *j.p;
  for (int64_t s = begin; s < end; ++s) {
    int8_t* rows = j.rows + s * 2 * p.npad;
    for (int64_t q = s * p.kp / j.slots; q < (s + 1) * p.kp / j.slots; ++q) {
      const int8_t* r[2];
      int8_plan::GemmRowGroup(p, j.xg, q, 2, j.zx, rows, p.npad, Stride2Row, r);
      InterleaveRows2(r[0], r[1], p.npix, p.npad, j.b + q * p.npad * 2);
    }
  }
}

Status Eval(KernelContext& ctx) {
  const Avx2ConvData& d = *ctx.op_data<Avx2ConvData>();
  if (d.use_reference) return int8::EvalConv(ctx);
  const Avx2ConvPlan& p = d.plan;
  const ChannelConstants cc = int8_plan::ConstantsAt(p.m, kAvx2Vector, ctx.packed());
  const int8_t* x = ctx.input(0).as<int8_t>();
  const TensorView& y = ctx.output(0);
  if (p.depthwise) {
    EvalDepthwiseAvx2(d, cc, x, y.data, ctx.scratch(), ctx.executor());
    return Status::kOk;
  }
  int16_t* b = static_cast<int16_t*>(ctx.scratch());
  int8_t* rows = reinterpret_cast<int8_t*>(b + p.kp * p.npad * 2);
  GemmJob j;
  j.d = &d;
  j.cc = cc;
  j.b = b;
  j.mtiles = p.mg_pad / kAvx2ConvMr;
  const int64_t nblocks = (p.npad / 8 + kNv - 1) / kNv;
  const bool raw = d.ref.out.raw_output;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t g = 0; g < p.groups; ++g) {
      PackJob pack{&p,
                   x + (n * p.c + g * p.cg) * p.h * p.w,
                   static_cast<int8_t>(d.ref.out.input_zp),
                   b,
                   rows,
                   p.kp * p.npad * 4 >= kPackParallel ? kPackSlots : 1};
      ctx.executor().ParallelFor(pack.slots, 1, PackChunks, &pack);
      j.a = static_cast<const int32_t*>(cc.weights) + g * p.mg_pad * p.kp;
      j.g = g;
      const int64_t first = (n * p.m + g * p.mg) * p.npix;
      j.y8 = raw ? nullptr : y.as<int8_t>() + first;
      j.y32 = raw ? y.as<int32_t>() + first : nullptr;
      ctx.executor().ParallelFor(nblocks * j.mtiles, 1, GemmTiles, &j);
    }
  return Status::kOk;
}

}  // namespace

bool MakeAvx2ConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                      const opm::Conv2DOptions* o, Avx2ConvPlan* p) {
  if (!int8_plan::MakeConvGeometry(x, wt, y, o, p)) return false;
  p->depthwise = p->cg == 1 && p->mg == 1 && p->kh * p->kw <= kAvx2DwMaxTaps;
  p->kp = (p->k + 1) / 2;
  p->npad = RoundUp(p->npix, 8);
  p->mg_pad = RoundUp(p->mg, kAvx2ConvMr);
  // Depthwise: output column i of tap kw reads padded column i * sw + kw * dw, i.e. column
  // i + kw * dw / sw of phase plane kw * dw % sw; vectors of 8 outputs cover ow rounded up.
  p->dw_rows = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  p->dw_cols = RoundUp(p->ow, 8) + (p->kw - 1) * p->dw / p->sw;
  return p->k * p->npad < kMaxElements && p->groups * p->mg_pad * p->kp < kMaxElements &&
         p->sw * p->dw_rows * p->dw_cols < kMaxElements;
}

namespace {
constexpr auto ScratchBytes =
    int8_plan::ConvPlanBytes<Avx2ConvPlan, MakeAvx2ConvPlan, ScratchBytesFor>;
constexpr auto PackedBytes =
    int8_plan::ConvPlanBytes<Avx2ConvPlan, MakeAvx2ConvPlan, PackedBytesFor>;
}  // namespace

const KernelRegistration kConv2DI8Avx2 = {OpCode::CONV_2D,
                                          DType::INT8,
                                          KernelFamily::kX86,
                                          "conv2d_i8_avx2",
                                          sizeof(Avx2ConvData),
                                          ScratchBytes,
                                          Prepare,
                                          Eval,
                                          kCpuX86Avx2Fma,
                                          PackedBytes,
                                          "i8-conv/avx2/v1"};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
