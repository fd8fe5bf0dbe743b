// FULLY_CONNECTED on INT8 with AVX2, bit-exact with fully_connected_i8_ref.
//
// Y[n, o] = sum_k X[n, k] * W[o, k]: each 8-lane accumulator holds 8 output channels. The
// weights are packed at prepare as int8 [o / 8][k / 2][8 channels][2 k] (zero past k and past
// the last channel) and widened to int16 as they are loaded, which halves the memory traffic
// of this weight-bound op; one row of X is turned into int16 pairs in scratch and each pair is
// broadcast against them in vpmaddwd (exact: see avx2_int8_util.h). Per-channel constants sit
// in front of the weights, so the epilogue loads them as vectors.
#include <string.h>

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/int8_plan/conv_geometry.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

using int8_plan::ChannelConstants;

constexpr int64_t kBlocks = 4;  // 8-channel blocks per task: independent accumulators

struct FcData {
  int8::FullyConnectedData ref;  // first: filled by the reference prepare
  int64_t out, k, kp;            // kp: k in pairs
  bool use_reference;
};

size_t PackedBytesFor(int64_t out, int64_t k) {
  return int8_plan::ConstantsBytes(out, 8) +
         static_cast<size_t>(int8_plan::RoundUp(out, 8) * int8_plan::RoundUp(k, 2));
}

// One row of X as int16 pairs.
size_t ScratchBytesFor(int64_t out, int64_t k) { return static_cast<size_t>((k + 1) / 2 * 4); }

constexpr auto PackedBytes = int8_plan::FullyConnectedBytes<PackedBytesFor>;
constexpr auto ScratchBytes = int8_plan::FullyConnectedBytes<ScratchBytesFor>;

Status Prepare(KernelContext& ctx) {
  FcData* d = ctx.op_data<FcData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareFullyConnected(ctx));
  const TensorView& w = ctx.input(1);
  d->out = w.dims[0];
  d->k = w.dims[1];
  d->kp = (d->k + 1) / 2;
  d->use_reference = int8_plan::NeedsReference(d->ref.out, w, d->out);
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(
      ctx,
      ctx.packed() != nullptr && ctx.packed_bytes() >= PackedBytesFor(d->out, d->k) &&
          ctx.scratch_bytes() >= static_cast<size_t>(d->kp * 4),
      Status::kInternal, "fully connected: packed or scratch memory smaller than planned");
  const ChannelConstants cc = int8_plan::ConstantsAt(d->out, 8, ctx.packed());
  // A model's cached copy (ctx.packed_in_model()) holds what the code below writes; its
  // constants are checked (eval trusts them), its weight tiles are plain int8 data.
  if (ctx.packed_in_model()) {
    OUTPOST_KERNEL_CHECK(ctx,
                         int8_plan::CachedChannelsMatch(ctx, d->ref.out, d->out, d->k, true, 0,
                                                        int8_plan::RightShift::kPositive, cc),
                         Status::kCorruptModel, "cached packed constants differ from the model's");
    return Status::kOk;
  }
  // Zero first: the padding channels' constants are loaded with the others.
  memset(ctx.packed(), 0, PackedBytesFor(d->out, d->k));
  int8_plan::FillChannels(ctx, d->ref.out, d->out, d->k, true, 0, int8_plan::RightShift::kPositive,
                          cc);
  int8_plan::PackWeightTiles(w.as<int8_t>(), 1, d->out, d->k, d->kp * 2, 8, 2,
                             static_cast<int8_t*>(cc.weights));
  return Status::kOk;
}

struct FcJob {
  const FcData* d;
  ChannelConstants cc;
  const int32_t* xq;  // one row of X as int16 pairs
  int8_t* y8;         // the row's outputs, or
  int32_t* y32;
};

OUTPOST_AVX2 void FcBlocks(void* arg, int64_t begin, int64_t end) {
  const FcJob& j = *static_cast<const FcJob*>(arg);
  const FcData& d = *j.d;
  const int8::LinearOutput& o = d.ref.out;
  const int64_t nb = (d.out + 7) / 8;
  const __m256i zp = _mm256_set1_epi32(o.output_zp);
  const __m256i lo_zp = _mm256_set1_epi32(o.act_min - o.output_zp);
  const __m256i hi_zp = _mm256_set1_epi32(o.act_max - o.output_zp);
  const int8_t* weights = static_cast<const int8_t*>(j.cc.weights);
  for (int64_t g = begin; g < end; ++g) {
    const int64_t b0 = g * kBlocks;
    const int64_t blocks = nb - b0 < kBlocks ? nb - b0 : kBlocks;
    __m256i acc[kBlocks];
    for (int v = 0; v < kBlocks; ++v) acc[v] = _mm256_setzero_si256();
    const int8_t* w = weights + b0 * d.kp * 16;
    if (blocks == kBlocks) {
      for (int64_t q = 0; q < d.kp; ++q) {
        const __m256i xv = _mm256_set1_epi32(j.xq[q]);
        for (int v = 0; v < kBlocks; ++v)
          acc[v] = _mm256_add_epi32(
              acc[v],
              _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(
                                    reinterpret_cast<const __m128i*>(w + (v * d.kp + q) * 16))),
                                xv));
      }
    } else {
      for (int64_t q = 0; q < d.kp; ++q) {
        const __m256i xv = _mm256_set1_epi32(j.xq[q]);
        for (int v = 0; v < blocks; ++v)
          acc[v] = _mm256_add_epi32(
              acc[v],
              _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(
                                    reinterpret_cast<const __m128i*>(w + (v * d.kp + q) * 16))),
                                xv));
      }
    }
    for (int v = 0; v < blocks; ++v) {
      const int64_t c0 = (b0 + v) * 8;
      const __m256i val = _mm256_sub_epi32(
          acc[v], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.cc.corr + c0)));
      if (j.y32) {
        StoreInt32x8(j.y32 + c0, val, d.out - c0);
      } else {
        const __m256i r =
            RequantizeAvx2(val, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.cc.m0 + c0)),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.cc.left + c0)),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.cc.right + c0)),
                           zp, lo_zp, hi_zp);
        StoreBytes8(j.y8 + c0, LowBytes8(r), d.out - c0);
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
  int32_t* xq = static_cast<int32_t*>(ctx.scratch());
  FcJob j;
  j.d = &d;
  j.cc = int8_plan::ConstantsAt(d.out, 8, ctx.packed());
  j.xq = xq;
  const int64_t groups = ((d.out + 7) / 8 + kBlocks - 1) / kBlocks;
  for (int64_t n = 0; n < rows; ++n) {
    const int8_t* x = xv.as<int8_t>() + n * d.k;
    // Padding k holds 0: its weights are 0.
    for (int64_t q = 0; q < d.kp; ++q) {
      const int32_t hi = 2 * q + 1 < d.k ? x[2 * q + 1] : 0;
      xq[q] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(x[2 * q])) |
                                   (static_cast<uint32_t>(hi) << 16));
    }
    j.y8 = d.ref.out.raw_output ? nullptr : yv.as<int8_t>() + n * d.out;
    j.y32 = d.ref.out.raw_output ? yv.as<int32_t>() + n * d.out : nullptr;
    ctx.executor().ParallelFor(groups, 1, FcBlocks, &j);
  }
  return Status::kOk;
}

}  // namespace

const KernelRegistration kFullyConnectedI8Avx2 = {OpCode::FULLY_CONNECTED,
                                                  DType::INT8,
                                                  KernelFamily::kX86,
                                                  "fully_connected_i8_avx2",
                                                  sizeof(FcData),
                                                  ScratchBytes,
                                                  Prepare,
                                                  Eval,
                                                  kCpuX86Avx2Fma,
                                                  PackedBytes,
                                                  "i8-fc/avx2/v1"};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
