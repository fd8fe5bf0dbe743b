// QUANTIZE FLOAT32 -> INT8 with AVX-512, bit-exact with quantize_f32_ref: the model's input
// conversion, which otherwise costs as much as a convolution. Per-tensor INT8 outputs only;
// per-axis and UINT8 outputs take the reference eval.
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/quantize_int8_job.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

// y = clamp(roundf(x / scale)) + zp with the reference's float32 division; roundf (half away
// from zero) is the truncation plus one step away from zero when the dropped fraction, which
// x - trunc(x) gives exactly, is at least 1/2. NaN becomes the zero point.
OUTPOST_AVX512_VNNI void Quantize(const float* x, int8_t* y, int64_t n, float scale, int32_t zp) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(-128 - zp));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(127 - zp));
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512i z = _mm512_set1_epi32(zp);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = static_cast<__mmask16>(n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u);
    const __m512 d = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), s);
    const __m512 t = _mm512_roundscale_ps(d, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(d, t)), half, _CMP_GE_OQ);
    // copysign(1, d): a tie is never at d = 0.
    const __m512 step = _mm512_or_ps(one, _mm512_and_ps(d, _mm512_set1_ps(-0.0f)));
    __m512 r = _mm512_mask_add_ps(t, away, t, step);
    r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q), _mm512_setzero_ps());
    const __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(r), z);
    _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(q));
  }
}

Status Eval(KernelContext& ctx) { return EvalQuantizeToI8(ctx, Quantize); }

}  // namespace

// op_data is the reference's AxisLayout (32 bytes, private to its file); 64 leaves room.
const KernelRegistration kQuantizeF32ToI8Avx512 = {OpCode::QUANTIZE,
                                                   DType::FLOAT32,
                                                   KernelFamily::kX86,
                                                   "quantize_f32_avx512vnni",
                                                   64,
                                                   nullptr,
                                                   PrepareQuantizeToI8,
                                                   Eval,
                                                   kCpuX86Avx512Vnni,
                                                   nullptr};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
