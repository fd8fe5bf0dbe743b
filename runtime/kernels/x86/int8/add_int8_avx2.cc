// ADD on INT8 with AVX2, bit-exact with add_i8_ref: add_int8_avx512.cc on 8 lanes, for CPUs
// without AVX-512. Same-shape inputs only (residual connections); broadcasting adds take the
// reference eval.
#include "runtime/kernels/x86/int8/add_int8_job.h"
#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

int32_t LeftOf(QuantizedMultiplier m) { return m.shift > 0 ? m.shift : 0; }
int32_t RightOf(QuantizedMultiplier m) { return m.shift > 0 ? 0 : -m.shift; }

// One input's term, the reference's Scaled(): 32-bit lanes where exact (add_term32.h), else
// the general 64-bit form.
template <bool kTerm32>
OUTPOST_AVX2 __m256i Term(__m128i q, const Term32x8& t, const int8::BinaryData& d,
                          QuantizedMultiplier m) {
  if (kTerm32) return ScaledTerm32x8(q, t);
  const __m256i v =
      _mm256_slli_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(q), t.zp), d.left_shift);
  return MultiplyByQuantizedMultiplierAvx2(v, _mm256_set1_epi32(m.m0), _mm256_set1_epi32(LeftOf(m)),
                                           _mm256_set1_epi32(RightOf(m)));
}

template <bool kTerm32>
OUTPOST_AVX2 void AddRange(const AddJob& j, int64_t first, int64_t last) {
  const int8::BinaryData& d = *j.d;
  const Term32x8 ta = MakeTerm32x8(d.a_zp, d.a_multiplier.m0, RightOf(d.a_multiplier));
  const Term32x8 tb = MakeTerm32x8(d.b_zp, d.b_multiplier.m0, RightOf(d.b_multiplier));
  const QuantizedMultiplier mo = d.output_multiplier;
  const RequantVec8 out =
      MakeRequantVec8(mo.m0, LeftOf(mo), RightOf(mo), d.output_zp, d.act_min, d.act_max);
  for (int64_t i = first; i < last; i += 8) {
    const int64_t cnt = last - i < 8 ? last - i : 8;
    const __m128i qa = LoadBytes8(j.a + i, cnt);
    const __m128i qb = LoadBytes8(j.b + i, cnt);
    const __m256i sum = _mm256_add_epi32(Term<kTerm32>(qa, ta, d, d.a_multiplier),
                                         Term<kTerm32>(qb, tb, d, d.b_multiplier));
    StoreBytes8(j.y + i, ApplyRequantVec8I8(out, sum), cnt);
  }
}

OUTPOST_AVX2 void AddChunks(void* arg, int64_t begin, int64_t end) {
  const AddJob& j = *static_cast<const AddJob*>(arg);
  const int8::BinaryData& d = *j.d;
  int64_t first, last;
  AddChunkRange(j, begin, end, &first, &last);
  const QuantizedMultiplier ma = d.a_multiplier, mb = d.b_multiplier;
  if (d.left_shift == kTerm32LeftShift && Term32Exact(ma.m0, LeftOf(ma), RightOf(ma)) &&
      Term32Exact(mb.m0, LeftOf(mb), RightOf(mb)))
    return AddRange<true>(j, first, last);
  AddRange<false>(j, first, last);
}

Status Eval(KernelContext& ctx) { return EvalSameShapeAdd(ctx, AddChunks); }

}  // namespace

const KernelRegistration kAddI8Avx2 = {
    OpCode::ADD, DType::INT8, KernelFamily::kX86, "add_i8_avx2", sizeof(int8::BinaryData), nullptr,
    PrepareAdd,  Eval,        kCpuX86Avx2Fma,     nullptr};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
