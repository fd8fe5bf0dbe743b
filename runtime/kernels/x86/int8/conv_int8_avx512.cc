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

#include <string.h>

#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

int64_t RoundUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

bool ModelDims(const Model& model, const opm::Operator& op, bool input, int i, int32_t dims[4]) {
  const auto* list = input ? op.inputs() : op.outputs();
  if (list == nullptr || static_cast<int>(list->size()) <= i) return false;
  const int32_t t = list->Get(i);
  if (t < 0 || t >= model.num_tensors()) return false;
  const auto* shape = model.fb()->tensors()->Get(t)->shape();
  if (shape == nullptr || shape->size() != 4) return false;
  for (int a = 0; a < 4; ++a) dims[a] = shape->Get(a);
  return true;
}

bool PlanFromModel(const Model& model, const opm::Operator& op, ConvPlan* p) {
  int32_t x[4], w[4], y[4];
  return ModelDims(model, op, true, 0, x) && ModelDims(model, op, true, 1, w) &&
         ModelDims(model, op, false, 0, y) &&
         MakeConvPlan(x, w, y, op.options_as<opm::Conv2DOptions>(), p);
}

size_t PackedBytes(const Model& model, const opm::Operator& op) {
  ConvPlan p;
  return PlanFromModel(model, op, &p) ? ConvPackedBytes(p) : 0;
}

size_t ScratchBytes(const Model& model, const opm::Operator& op) {
  ConvPlan p;
  return PlanFromModel(model, op, &p) ? ConvScratchBytes(p) : 0;
}

// ---------------------------------------------------------------------------------------------
// Prepare.

void PackGemmWeights(const ConvPlan& p, const int8_t* w, int32_t* out) {
  // out[g][m / kConvMr][q][m % kConvMr] holds w[m][4q .. 4q+3] (zero past k and for the
  // padding channels): a tile reads its channels' words for one q from one cache line.
  memset(out, 0, static_cast<size_t>(p.groups * p.mg_pad * p.kq) * 4);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t m = 0; m < p.mg; ++m) {
      const int8_t* src = w + (g * p.mg + m) * p.k;
      int32_t* tile = out + (g * p.mg_pad + m / kConvMr * kConvMr) * p.kq;
      for (int64_t i = 0; i < p.k; ++i)
        reinterpret_cast<uint8_t*>(tile + (i / 4) * kConvMr + m % kConvMr)[i % 4] =
            static_cast<uint8_t>(src[i]);
    }
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
  d->use_reference = !w.is_constant;
  for (int64_t m = 0; m < p.m && !d->use_reference; ++m)
    if ((d->ref.out.per_channel ? w.quant.zp(static_cast<int32_t>(m)) : d->ref.out.weight_zp) != 0)
      d->use_reference = true;
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(ctx, ctx.packed() != nullptr && ctx.packed_bytes() >= ConvPackedBytes(p),
                       Status::kInternal, "packed memory missing");
  const ConvPacked pk = ConvPackedView(p, ctx.packed());
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  const int64_t k = p.k;
  for (int64_t m = 0; m < p.m; ++m) {
    QuantizedMultiplier mult;
    int32_t zw;
    int8::ChannelParams(d->ref.out, w, m, &mult, &zw);
    const ChannelRequant rq = MakeChannelRequant(mult);
    pk.m0[m] = rq.m0;
    pk.left[m] = rq.left;
    pk.right[m] = rq.right;
    // Unsigned arithmetic: wraps exactly like the int32 lanes it is subtracted from.
    uint32_t corr = bias ? 0u - static_cast<uint32_t>(bias[m]) : 0u;
    int32_t sum = 0;
    for (int64_t i = 0; i < k; ++i) sum += wd[m * k + i];
    corr += static_cast<uint32_t>(128 + d->ref.out.input_zp) * static_cast<uint32_t>(sum);
    pk.corr[m] = static_cast<int32_t>(corr);
  }
  if (p.depthwise)
    PackDepthwiseWeights(p, wd, pk.weights);
  else
    PackGemmWeights(p, wd, pk.weights);
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
template <int MR, int NV>
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
      const __m512i corr = _mm512_set1_epi32(j.pk.corr[gm]);
      if (j.y32) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm512_mask_storeu_epi32(j.y32 + m * p.npix + p0 + v * 16, masks[v],
                                   _mm512_sub_epi32(acc[i][v], corr));
      } else {
        const RequantVec rq = MakeRequantVec({j.pk.m0[gm], j.pk.left[gm], j.pk.right[gm]},
                                             o.output_zp, o.act_min, o.act_max);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const __m128i r = ApplyRequantVecI8(rq, _mm512_sub_epi32(acc[i][v], corr));
          _mm_mask_storeu_epi8(j.y8 + m * p.npix + p0 + v * 16, masks[v], r);
        }
      }
    }
  }
}

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
      GemmTile<kConvMr / 2, 4>(j, m0, p0);
      GemmTile<kConvMr / 2, 4>(j, m0 + kConvMr / 2, p0);
    } else if (rest >= 3) {
      GemmTile<kConvMr, 3>(j, m0, p0);
    } else if (rest == 2) {
      GemmTile<kConvMr, 2>(j, m0, p0);
    } else {
      GemmTile<kConvMr, 1>(j, m0, p0);
    }
  }
}

// Pixel blocks of kNv vectors; a last vector on its own joins the block before it.
int64_t PixelBlocks(const ConvPlan& p) {
  const int64_t vectors = (p.npix + 15) / 16;
  return vectors >= 4 && vectors % kNv == 1 ? vectors / kNv : (vectors + kNv - 1) / kNv;
}

// Row `k` of the im2col matrix of input channels `xg` (the group's first), n output pixels.
OUTPOST_AVX512_VNNI void Im2colRow(const ConvPlan& p, const int8_t* xg, int64_t k, int8_t zx,
                                   int8_t* row) {
  const int64_t ci = k / (p.kh * p.kw), t = k % (p.kh * p.kw);
  const int64_t kh = t / p.kw, kw = t % p.kw;
  const int8_t* plane = xg + ci * p.h * p.w;
  const int64_t off_w = kw * p.dw - p.pl;
  const ref::Range rw = ref::ValidRange(off_w, p.sw, p.w, p.ow);
  for (int64_t oh = 0; oh < p.oh; ++oh) {
    int8_t* r = row + oh * p.ow;
    const int64_t ih = oh * p.sh + kh * p.dh - p.pt;
    if (ih < 0 || ih >= p.h || rw.size() == 0) {
      memset(r, zx, static_cast<size_t>(p.ow));
      continue;
    }
    const int8_t* src = plane + ih * p.w + off_w;
    for (int64_t i = 0; i < rw.begin; ++i) r[i] = zx;
    if (p.sw == 1) {
      memcpy(r + rw.begin, src + rw.begin, static_cast<size_t>(rw.size()));
    } else {
      int64_t i = rw.begin;
      if (p.sw == 2) {
        // 32 outputs at a time: the low bytes of 32 int16 loads, while all 64 bytes lie in
        // the input row.
        for (; i + 32 <= rw.end && 2 * i + 64 <= p.w - off_w; i += 32)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(r + i),
                              _mm512_cvtepi16_epi8(_mm512_loadu_si512(src + 2 * i)));
      }
      for (; i < rw.end; ++i) r[i] = src[i * p.sw];
    }
    for (int64_t i = rw.end; i < p.ow; ++i) r[i] = zx;
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
      for (int i = 0; i < 4; ++i) {
        const int64_t k = q * 4 + i;
        if (k >= p.k) {
          r[i] = nullptr;
        } else if (p.direct) {
          r[i] = j.xg + k * p.npix;
        } else {
          Im2colRow(p, j.xg, k, j.zx, rows + i * p.npad);
          r[i] = rows + i * p.npad;
        }
      }
      InterleaveRows4(r, p.npix, j.b + q * p.npad * 4);
    }
  }
}

Status Eval(KernelContext& ctx) {
  const ConvData& d = *ctx.op_data<ConvData>();
  if (d.use_reference) return int8::EvalConv(ctx);
  const ConvPlan& p = d.plan;
  const ConvPacked pk = ConvPackedView(p, ctx.packed());
  const int8_t* x = ctx.input(0).as<int8_t>();
  const TensorView& y = ctx.output(0);
  if (p.depthwise) {
    EvalDepthwise(d, pk, x, y.data, ctx.scratch(), ctx.executor());
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
      ctx.executor().ParallelFor(j.nblocks * j.mtiles, 1, GemmTiles, &j);
    }
  return Status::kOk;
}

}  // namespace

bool MakeConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                  const opm::Conv2DOptions* o, ConvPlan* p) {
  if (o == nullptr) return false;
  for (int a = 0; a < 4; ++a)
    if (x[a] <= 0 || wt[a] <= 0 || y[a] <= 0) return false;
  if (o->groups() < 1 || o->stride_h() < 1 || o->stride_w() < 1 || o->dilation_h() < 1 ||
      o->dilation_w() < 1 || o->pad_top() < 0 || o->pad_left() < 0)
    return false;
  p->n = x[0], p->c = x[1], p->h = x[2], p->w = x[3];
  p->m = wt[0], p->kh = wt[2], p->kw = wt[3];
  p->oh = y[2], p->ow = y[3];
  p->groups = o->groups();
  if (p->c % p->groups != 0 || p->m % p->groups != 0) return false;
  p->cg = p->c / p->groups;
  p->mg = p->m / p->groups;
  p->sh = o->stride_h(), p->sw = o->stride_w();
  p->dh = o->dilation_h(), p->dw = o->dilation_w();
  p->pt = o->pad_top(), p->pl = o->pad_left();
  p->depthwise = p->cg == 1 && p->mg == 1 && p->kh * p->kw <= 64 && p->sw <= kDwMaxStride;
  p->direct = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
              p->oh == p->h && p->ow == p->w;
  p->k = p->cg * p->kh * p->kw;
  p->kq = (p->k + 3) / 4;
  p->npix = p->oh * p->ow;
  p->npad = RoundUp(p->npix, 16);
  p->mg_pad = RoundUp(p->mg, kConvMr);
  // Depthwise: the padded input rows and columns actually read. A row holds the columns of
  // every output vector (16 outputs, sw apart) and the widest tap group's reach.
  const int64_t ph = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  const int64_t pw = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
  p->dw_rows = (ph + p->sh - 1) / p->sh;
  p->dw_row_bytes = RoundUp(pw > RoundUp(p->ow, 16) * p->sw ? pw : RoundUp(p->ow, 16) * p->sw, 4);
  p->dw_plane = p->dw_rows * p->dw_row_bytes;
  p->dw_groups = p->depthwise ? DepthwiseTapGroups(*p, nullptr) : 0;
  return true;
}

size_t ConvPackedBytes(const ConvPlan& p) {
  const int64_t channels = RoundUp(p.m, 16);
  const int64_t weights = p.depthwise ? p.m * p.dw_groups : p.groups * p.mg_pad * p.kq;
  return static_cast<size_t>(4 * (4 * channels + weights));
}

ConvPacked ConvPackedView(const ConvPlan& p, void* packed) {
  int32_t* base = static_cast<int32_t*>(packed);
  const int64_t channels = RoundUp(p.m, 16);
  return {base, base + channels, base + 2 * channels, base + 3 * channels, base + 4 * channels};
}

size_t ConvScratchBytes(const ConvPlan& p) {
  if (p.depthwise) return static_cast<size_t>(kDepthwiseSlots * DepthwiseSlotBytes(p));
  return static_cast<size_t>(p.kq * p.npad * 4 + (p.direct ? 0 : kPackSlots * 4 * p.npad));
}

const KernelRegistration kConv2DI8Avx512Vnni = {OpCode::CONV_2D,
                                                DType::INT8,
                                                KernelFamily::kX86,
                                                "conv2d_i8_avx512vnni",
                                                sizeof(ConvData),
                                                ScratchBytes,
                                                Prepare,
                                                Eval,
                                                kCpuX86Avx512Vnni,
                                                PackedBytes};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
