// ADD on INT8 with AVX-512, bit-exact with add_i8_ref: the reference's prepare, and its
// arithmetic 16 lanes at a time when both inputs have the output's shape (residual
// connections); broadcasting adds take the reference eval.
#include "runtime/kernels/x86/int8/add_int8_job.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

// One input's term: MultiplyByQuantizedMultiplier((q - zp) << left_shift, m), as Scaled() in
// binary_int8_eval.cc. Both input multipliers are at most 1/2: no left shift.
OUTPOST_AVX512_VNNI inline __m512i Scaled(__m128i q, __m512i zp, int32_t left_shift,
                                          const ChannelRequant& m) {
  const __m512i v = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(q), zp), left_shift);
  if (m.left == 0) return MultiplyByQuantizedMultiplierUniformAvx512(v, m.m0, m.right);
  return MultiplyByQuantizedMultiplierAvx512(v, _mm512_set1_epi32(m.m0), _mm512_set1_epi32(m.left),
                                             _mm512_set1_epi32(m.right));
}

// The 32-bit form of the same term (Term32, avx512_int8_util.h) where it is exact for both.
OUTPOST_AVX512_VNNI bool TermsExact32(const int8::BinaryData& d, const ChannelRequant& ma,
                                      const ChannelRequant& mb) {
  return d.left_shift == kTerm32LeftShift && Term32Exact(ma) && Term32Exact(mb);
}

template <bool kTerm32>
OUTPOST_AVX512_VNNI void AddRange(const AddJob& j, int64_t first, int64_t last) {
  const int8::BinaryData& d = *j.d;
  const ChannelRequant ma = MakeChannelRequant(d.a_multiplier);
  const ChannelRequant mb = MakeChannelRequant(d.b_multiplier);
  // The output side through RequantVec: zero point folded into the rounding constant, and
  // for int8's own bounds the clamp done by the saturating narrowing (ApplyRequantVecI8).
  const RequantVec mo =
      MakeRequantVec(MakeChannelRequant(d.output_multiplier), d.output_zp, d.act_min, d.act_max);
  const __m512i za = _mm512_set1_epi32(d.a_zp), zb = _mm512_set1_epi32(d.b_zp);
  const Term32 ta = MakeTerm32(d.a_zp, ma), tb = MakeTerm32(d.b_zp, mb);
  for (int64_t i = first; i < last; i += 16) {
    const int64_t cnt = last - i < 16 ? last - i : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << cnt) - 1u);
    const __m128i qa = _mm_maskz_loadu_epi8(mask, j.a + i);
    const __m128i qb = _mm_maskz_loadu_epi8(mask, j.b + i);
    const __m512i sum = kTerm32 ? _mm512_add_epi32(ScaledTerm32(qa, ta), ScaledTerm32(qb, tb))
                                : _mm512_add_epi32(Scaled(qa, za, d.left_shift, ma),
                                                   Scaled(qb, zb, d.left_shift, mb));
    _mm_mask_storeu_epi8(j.y + i, mask, ApplyRequantVecI8(mo, sum));
  }
}

OUTPOST_AVX512_VNNI void AddChunks(void* arg, int64_t begin, int64_t end) {
  const AddJob& j = *static_cast<const AddJob*>(arg);
  int64_t first, last;
  AddChunkRange(j, begin, end, &first, &last);
  if (TermsExact32(*j.d, MakeChannelRequant(j.d->a_multiplier),
                   MakeChannelRequant(j.d->b_multiplier)))
    return AddRange<true>(j, first, last);
  AddRange<false>(j, first, last);
}

Status Eval(KernelContext& ctx) { return EvalSameShapeAdd(ctx, AddChunks); }

}  // namespace

const KernelRegistration kAddI8Avx512Vnni = {OpCode::ADD,
                                             DType::INT8,
                                             KernelFamily::kX86,
                                             "add_i8_avx512vnni",
                                             sizeof(int8::BinaryData),
                                             nullptr,
                                             PrepareAdd,
                                             Eval,
                                             kCpuX86Avx512Vnni,
                                             nullptr};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
