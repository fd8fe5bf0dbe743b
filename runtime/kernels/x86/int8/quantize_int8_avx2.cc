// QUANTIZE FLOAT32 -> INT8 with AVX2, bit-exact with quantize_f32_ref: quantize_int8_avx512.cc
// on 8 lanes, for CPUs without AVX-512. Per-tensor INT8 outputs only; per-axis and UINT8
// outputs take the reference eval.
#include "runtime/kernels/x86/int8/avx2_int8_util.h"
#include "runtime/kernels/x86/int8/quantize_int8_job.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

// y = clamp(roundf(x / scale)) + zp with the reference's float32 division; roundf (half away
// from zero) is the truncation plus one step away from zero when the dropped fraction, which
// x - trunc(x) gives exactly, is at least 1/2. NaN becomes the zero point.
OUTPOST_AVX2 void Quantize(const float* x, int8_t* y, int64_t n, float scale, int32_t zp) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(-128 - zp));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(127 - zp));
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i z = _mm256_set1_epi32(zp);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t cnt = n - i < 8 ? n - i : 8;
    const __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(cnt)), lanes);
    const __m256 d = _mm256_div_ps(_mm256_maskload_ps(x + i, in), s);
    const __m256 t = _mm256_round_ps(d, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 away =
        _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(d, t)), half, _CMP_GE_OQ);
    // copysign(1, d): a tie is never at d = 0.
    const __m256 step = _mm256_or_ps(one, _mm256_and_ps(d, sign));
    __m256 r = _mm256_add_ps(t, _mm256_and_ps(away, step));
    r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
    r = _mm256_andnot_ps(_mm256_cmp_ps(d, d, _CMP_UNORD_Q), r);  // NaN: 0, then + zp
    const __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(r), z);
    StoreBytes8(y + i, LowBytes8(q), cnt);
  }
}

Status Eval(KernelContext& ctx) { return EvalQuantizeToI8(ctx, Quantize); }

}  // namespace

// op_data is the reference's AxisLayout (32 bytes, private to its file); 64 leaves room.
const KernelRegistration kQuantizeF32ToI8Avx2 = {OpCode::QUANTIZE,
                                                 DType::FLOAT32,
                                                 KernelFamily::kX86,
                                                 "quantize_f32_avx2",
                                                 64,
                                                 nullptr,
                                                 PrepareQuantizeToI8,
                                                 Eval,
                                                 kCpuX86Avx2Fma,
                                                 nullptr};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
