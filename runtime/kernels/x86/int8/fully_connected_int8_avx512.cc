// FULLY_CONNECTED on INT8 with AVX-512 VNNI, bit-exact with fully_connected_i8_ref.
//
// Y[n, o] = sum_k X[n, k] * W[o, k]: each 16-lane accumulator holds 16 output channels. The
// weights are packed at prepare as [o / 16][k / 4][16 channels][4 k] (the vpdpbusd operand,
// zero past k and past the last channel); one row of X is turned into u8 groups of 4
// (x + 128, see avx512_int8_util.h) in scratch and each group is broadcast. Per-channel
// requantization constants sit in front of the weights, so the epilogue loads them as vectors.
// A batch of one skips the packing and reads the weights where they lie
// (fc_gemv_int8_avx512.h); only the constants are in packed memory then.
#include <string.h>

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/int8_plan/conv_geometry.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/fc_gemv_int8_avx512.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

constexpr int64_t kBlocks = 4;  // 16-channel blocks per pass: independent accumulators

struct FcData {
  int8::FullyConnectedData ref;  // first: filled by the reference prepare
  int64_t out, k, kq, out_pad;
  bool use_reference;
  bool gemv;  // batch of one: weights used in place, not packed
};

struct FcPacked {
  int32_t *corr, *m0, *left, *right, *weights;
};

FcPacked PackedView(int64_t out_pad, void* packed) {
  int32_t* b = static_cast<int32_t*>(packed);
  return {b, b + out_pad, b + 2 * out_pad, b + 3 * out_pad, b + 4 * out_pad};
}

size_t PackedBytesFor(int64_t out, int64_t k, bool gemv) {
  const int64_t out_pad = (out + 15) / 16 * 16, kq = (k + 3) / 4;
  return static_cast<size_t>(4 * (4 * out_pad + (gemv ? 0 : out_pad * kq)));
}

// The batch from the model (the input's first dimension), as prepare will see it.
bool BatchOfOne(const Model& model, const opm::Operator& op) {
  const int32_t t = op.inputs()->Get(0);
  if (t < 0 || t >= model.num_tensors()) return false;
  const auto* shape = model.fb()->tensors()->Get(t)->shape();
  return shape != nullptr && shape->size() >= 1 && shape->Get(0) == 1;
}

// One row of X as u8 groups of 4.
size_t ScratchBytesFor(int64_t out, int64_t k) { return static_cast<size_t>((k + 3) / 4 * 4); }

size_t GemmPackedBytesFor(int64_t out, int64_t k) { return PackedBytesFor(out, k, false); }
size_t GemvPackedBytesFor(int64_t out, int64_t k) { return PackedBytesFor(out, k, true); }
constexpr auto ScratchBytes = int8_plan::FullyConnectedBytes<ScratchBytesFor>;

size_t PackedBytes(const Model& model, const opm::Operator& op) {
  return BatchOfOne(model, op) ? int8_plan::FullyConnectedBytes<GemvPackedBytesFor>(model, op)
                               : int8_plan::FullyConnectedBytes<GemmPackedBytesFor>(model, op);
}

Status Prepare(KernelContext& ctx) {
  FcData* d = ctx.op_data<FcData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareFullyConnected(ctx));
  const TensorView& w = ctx.input(1);
  const int8::LinearOutput& o = d->ref.out;
  d->out = w.dims[0];
  d->k = w.dims[1];
  d->kq = (d->k + 3) / 4;
  d->out_pad = (d->out + 15) / 16 * 16;
  d->gemv = ctx.input(0).dims[0] == 1;
  // Asymmetric or run-time weights take the reference path (see conv_int8_avx512.cc).
  d->use_reference = int8_plan::NeedsReference(o, w, d->out);
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(
      ctx, ctx.packed() != nullptr && ctx.packed_bytes() >= PackedBytesFor(d->out, d->k, d->gemv),
      Status::kInternal, "packed memory missing");
  const FcPacked pk = PackedView(d->out_pad, ctx.packed());
  // A model's cached copy (ctx.packed_in_model()) holds what the code below writes; its
  // constants are checked (eval trusts them), its weight tiles are plain int8 data.
  if (ctx.packed_in_model()) {
    OUTPOST_KERNEL_CHECK(ctx,
                         int8_plan::CachedChannelsMatch(ctx, o, d->out, d->k, true, 128,
                                                        int8_plan::RightShift::kPositive,
                                                        {pk.corr, pk.m0, pk.left, pk.right,
                                                         pk.weights}),
                         Status::kCorruptModel, "cached packed constants differ from the model's");
    return Status::kOk;
  }
  memset(ctx.packed(), 0, PackedBytesFor(d->out, d->k, d->gemv));
  // Activations enter vpdpbusd as x + 128 (see avx512_int8_util.h).
  int8_plan::FillChannels(ctx, o, d->out, d->k, true, 128, int8_plan::RightShift::kPositive,
                          {pk.corr, pk.m0, pk.left, pk.right, pk.weights});
  // A batch of one reads the weights where they lie (fc_gemv_int8_avx512.h).
  if (!d->gemv)
    int8_plan::PackWeightTiles(w.as<int8_t>(), 1, d->out, d->k, d->kq * 4, 16, 4,
                               reinterpret_cast<int8_t*>(pk.weights));
  return Status::kOk;
}

struct FcJob {
  const FcData* d;
  FcPacked pk;
  const int8_t* w;     // the weights as stored (batch of one)
  const uint32_t* xq;  // one row of X as u8 groups of 4
  int8_t* y8;          // the row's outputs, or
  int32_t* y32;
};

OUTPOST_AVX512_VNNI void FcBlocks(void* arg, int64_t begin, int64_t end) {
  const FcJob& j = *static_cast<const FcJob*>(arg);
  const FcData& d = *j.d;
  const int8::LinearOutput& o = d.ref.out;
  const int64_t nb = d.out_pad / 16;
  const __m512i zp = _mm512_set1_epi32(o.output_zp);
  const __m512i lo_zp = _mm512_set1_epi32(o.act_min - o.output_zp);
  const __m512i hi_zp = _mm512_set1_epi32(o.act_max - o.output_zp);
  for (int64_t g = begin; g < end; ++g) {
    const int64_t b0 = g * kBlocks;
    const int64_t blocks = nb - b0 < kBlocks ? nb - b0 : kBlocks;
    __m512i acc[kBlocks];
    for (int v = 0; v < kBlocks; ++v) acc[v] = _mm512_setzero_si512();
    const int32_t* w = d.gemv ? nullptr : j.pk.weights + b0 * d.kq * 16;
    if (d.gemv) {
      for (int v = 0; v < blocks; ++v) {
        const int64_t c0 = (b0 + v) * 16;
        alignas(64) int32_t sums[16] = {};
        FcGemvSums16(reinterpret_cast<const uint8_t*>(j.xq), j.w, d.k, c0,
                     static_cast<int>(d.out - c0 < 16 ? d.out - c0 : 16), sums);
        acc[v] = _mm512_load_si512(sums);
      }
    } else if (blocks == kBlocks) {
      for (int64_t q = 0; q < d.kq; ++q) {
        const __m512i xv = _mm512_set1_epi32(static_cast<int32_t>(j.xq[q]));
        for (int v = 0; v < kBlocks; ++v)
          acc[v] = _mm512_dpbusd_epi32(acc[v], xv, _mm512_loadu_si512(w + (v * d.kq + q) * 16));
      }
    } else {
      for (int64_t q = 0; q < d.kq; ++q) {
        const __m512i xv = _mm512_set1_epi32(static_cast<int32_t>(j.xq[q]));
        for (int v = 0; v < blocks; ++v)
          acc[v] = _mm512_dpbusd_epi32(acc[v], xv, _mm512_loadu_si512(w + (v * d.kq + q) * 16));
      }
    }
    for (int v = 0; v < blocks; ++v) {
      const int64_t c0 = (b0 + v) * 16;
      const int64_t cnt = d.out - c0 < 16 ? d.out - c0 : 16;
      const __mmask16 mask = static_cast<__mmask16>((1u << cnt) - 1u);
      const __m512i val = _mm512_sub_epi32(acc[v], _mm512_loadu_si512(j.pk.corr + c0));
      if (j.y32) {
        _mm512_mask_storeu_epi32(j.y32 + c0, mask, val);
      } else {
        const __m512i r = RequantizeAvx512(val, _mm512_loadu_si512(j.pk.m0 + c0),
                                           _mm512_loadu_si512(j.pk.left + c0),
                                           _mm512_loadu_si512(j.pk.right + c0), zp, lo_zp, hi_zp);
        _mm_mask_storeu_epi8(j.y8 + c0, mask, _mm512_cvtepi32_epi8(r));
      }
    }
  }
}

Status Eval(KernelContext& ctx) {
  const FcData& d = *ctx.op_data<FcData>();
  if (d.use_reference) return int8::EvalFullyConnected(ctx);
  const TensorView& xv = ctx.input(0);
  const TensorView& yv = ctx.output(0);
  const int64_t rows = xv.dims[0];
  uint8_t* xq = static_cast<uint8_t*>(ctx.scratch());
  FcJob j;
  j.d = &d;
  j.pk = PackedView(d.out_pad, ctx.packed());
  j.w = ctx.input(1).as<int8_t>();
  j.xq = reinterpret_cast<const uint32_t*>(xq);
  const int64_t groups = (d.out_pad / 16 + kBlocks - 1) / kBlocks;
  for (int64_t n = 0; n < rows; ++n) {
    const int8_t* x = xv.as<int8_t>() + n * d.k;
    // Padding k holds 0: its weights are 0.
    for (int64_t i = 0; i < d.kq * 4; ++i) xq[i] = i < d.k ? static_cast<uint8_t>(x[i] ^ 0x80) : 0;
    j.y8 = d.ref.out.raw_output ? nullptr : yv.as<int8_t>() + n * d.out;
    j.y32 = d.ref.out.raw_output ? yv.as<int32_t>() + n * d.out : nullptr;
    ctx.executor().ParallelFor(groups, 1, FcBlocks, &j);
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kFullyConnectedI8Avx512Vnni = {OpCode::FULLY_CONNECTED,
                                                        DType::INT8,
                                                        KernelFamily::kX86,
                                                        "fully_connected_i8_avx512vnni",
                                                        sizeof(FcData),
                                                        ScratchBytes,
                                                        Prepare,
                                                        Eval,
                                                        kCpuX86Avx512Vnni,
                                                        PackedBytes,
                                                        "i8-fc/avx512vnni/v1"};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
