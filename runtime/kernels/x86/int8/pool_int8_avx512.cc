// MAX_POOL_2D and GLOBAL_AVERAGE_POOL on INT8 with AVX-512, bit-exact with the reference
// kernels (pooling_int8_eval.cc), whose prepare they use.
//
// Global average pooling sums each plane with vpsadbw on x + 128 (8 sums of 8 bytes per
// instruction, in 64-bit lanes), takes 128 + zx per cell back off, and requantizes the sum as
// the reference does.
//
// Max pooling, per output row: the maximum over the window's valid input rows, 64 columns per
// instruction, into a row padded with -128 (which never beats a valid cell, and every window
// has one), then the maximum over the window's columns, 64 outputs at a time for stride 1, 32
// (the low bytes of 16-bit lanes) for stride 2. Other strides and the INT64 indices output
// take the reference eval.
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/kernels/x86/int8/avx512_int8_util.h"
#include "runtime/kernels/x86/int8/x86_int8_kernels.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace x86 {

namespace {

constexpr int64_t kPoolSlots = 4;  // parallel chunks, each with its own scratch row

Status PrepareMaxPool(KernelContext& ctx) { return kMaxPool2DI8Ref.prepare(ctx); }

// Columns of the padded row a window row reads, rounded for 64-byte loads past its end.
int64_t PaddedRowBytes(int64_t ow, int64_t kw, int64_t sw, int64_t dw) {
  return ((ow - 1) * sw + (kw - 1) * dw + 1 + 64 + 63) / 64 * 64 + 64;
}

size_t MaxPoolScratchBytes(const Model& model, const opm::Operator& op) {
  const auto* o = op.options_as<opm::Pool2DOptions>();
  if (o == nullptr || op.outputs() == nullptr || op.outputs()->size() < 1) return 0;
  const int32_t t = op.outputs()->Get(0);
  if (t < 0 || t >= model.num_tensors()) return 0;
  const auto* shape = model.fb()->tensors()->Get(t)->shape();
  if (shape == nullptr || shape->size() != 4 || shape->Get(3) <= 0 || o->kernel_w() < 1 ||
      o->stride_w() < 1 || o->dilation_w() < 1)
    return 0;
  return static_cast<size_t>(
      kPoolSlots * PaddedRowBytes(shape->Get(3), o->kernel_w(), o->stride_w(), o->dilation_w()));
}

struct MaxPoolJob {
  const int8::PoolData* d;
  const int8_t* x;
  int8_t* y;
  int8_t* scratch;
  int64_t h, w, oh, ow, rows, row_bytes;
};

OUTPOST_AVX512_VNNI void MaxPoolRow(const MaxPoolJob& j, int64_t row, int8_t* pad) {
  const int8::PoolData& d = *j.d;
  const int64_t plane = row / j.oh, i = row % j.oh;
  const int8_t* xp = j.x + plane * j.h * j.w;
  const int64_t h0 = i * d.stride[0] - d.pad_begin[0];
  const ref::Range rh = ref::ValidRange(h0, d.dilation[0], j.h, d.kernel[0]);
  const int64_t pl = d.pad_begin[1];
  const int64_t width = (j.ow - 1) * d.stride[1] + (d.kernel[1] - 1) * d.dilation[1] + 1;
  const __m512i low = _mm512_set1_epi8(-128);
  // pad[c] = max over the window rows of input column c - pl, -128 outside the input.
  for (int64_t c = 0; c < width; c += 64) {
    const int64_t lo = pl - c > 0 ? pl - c : 0;
    const int64_t hi = pl + j.w - c < 64 ? pl + j.w - c : 64;
    __m512i m = low;
    if (hi > lo) {
      const __mmask64 in =
          (hi == 64 ? ~__mmask64{0} : (__mmask64{1} << hi) - 1) & ~((__mmask64{1} << lo) - 1);
      for (int64_t kh = rh.begin; kh < rh.end; ++kh) {
        const int8_t* src = xp + (h0 + kh * d.dilation[0]) * j.w - pl + c;
        m = _mm512_max_epi8(m, _mm512_mask_loadu_epi8(low, in, src));
      }
    }
    _mm512_storeu_si512(pad + c, m);
  }
  int8_t* out = j.y + row * j.ow;
  const int64_t kw = d.kernel[1], dw = d.dilation[1];
  if (d.stride[1] == 1) {
    for (int64_t o = 0; o < j.ow; o += 64) {
      __m512i m = low;
      for (int64_t k = 0; k < kw; ++k) m = _mm512_max_epi8(m, _mm512_loadu_si512(pad + o + k * dw));
      const int64_t n = j.ow - o < 64 ? j.ow - o : 64;
      _mm512_mask_storeu_epi8(out + o, n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1, m);
    }
  } else {  // stride 2
    for (int64_t o = 0; o < j.ow; o += 32) {
      __m512i m = _mm512_set1_epi16(-128);
      for (int64_t k = 0; k < kw; ++k)  // sign-extend the even bytes: column 2 * o + k * dw
        m = _mm512_max_epi16(
            m,
            _mm512_srai_epi16(_mm512_slli_epi16(_mm512_loadu_si512(pad + 2 * o + k * dw), 8), 8));
      const int64_t n = j.ow - o < 32 ? j.ow - o : 32;
      _mm256_mask_storeu_epi8(out + o, n == 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1,
                              _mm512_cvtepi16_epi8(m));
    }
  }
}

// A fixed number of chunks of output rows, each with its own scratch row.
void MaxPoolChunks(void* arg, int64_t begin, int64_t end) {
  const MaxPoolJob& j = *static_cast<const MaxPoolJob*>(arg);
  for (int64_t s = begin; s < end; ++s) {
    int8_t* pad = j.scratch + s * j.row_bytes;
    const int64_t lo = s * j.rows / kPoolSlots, hi = (s + 1) * j.rows / kPoolSlots;
    for (int64_t r = lo; r < hi; ++r) MaxPoolRow(j, r, pad);
  }
}

Status EvalMaxPool(KernelContext& ctx) {
  const int8::PoolData* d = ctx.op_data<int8::PoolData>();
  if (ctx.num_outputs() != 1 || (d->stride[1] != 1 && d->stride[1] != 2))
    return int8::EvalMaxPool2D(ctx);
  const TensorView& x = ctx.input(0);
  const TensorView& y = ctx.output(0);
  MaxPoolJob j;
  j.d = d;
  j.x = x.as<int8_t>();
  j.y = y.as<int8_t>();
  j.scratch = static_cast<int8_t*>(ctx.scratch());
  j.h = x.dims[2], j.w = x.dims[3], j.oh = y.dims[2], j.ow = y.dims[3];
  j.rows = static_cast<int64_t>(y.dims[0]) * y.dims[1] * j.oh;
  j.row_bytes = PaddedRowBytes(j.ow, d->kernel[1], d->stride[1], d->dilation[1]);
  ctx.executor().ParallelFor(kPoolSlots, 1, MaxPoolChunks, &j);
  return Status::kOk;
}

Status PrepareGlobalAveragePool(KernelContext& ctx) { return kGlobalAveragePoolI8Ref.prepare(ctx); }

struct GapJob {
  const int8::PoolData* d;
  const int8_t* x;
  int8_t* y;
  int64_t planes, size;
};

OUTPOST_AVX512_VNNI void GapPlanes(void* arg, int64_t begin, int64_t end) {
  const GapJob& j = *static_cast<const GapJob*>(arg);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t p = begin; p < end; ++p) {
    const int8_t* xp = j.x + p * j.size;
    __m512i acc = _mm512_setzero_si512();
    for (int64_t i = 0; i < j.size; i += 64) {
      const int64_t n = j.size - i < 64 ? j.size - i : 64;
      const __mmask64 m = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
      // Masked-off bytes load as 0x80, i.e. 0 after the flip.
      const __m512i u = _mm512_xor_si512(_mm512_mask_loadu_epi8(flip, m, xp + i), flip);
      acc = _mm512_add_epi64(acc, _mm512_sad_epu8(u, _mm512_setzero_si512()));
    }
    const int64_t sum = _mm512_reduce_add_epi64(acc) - (128 + j.d->input_zp) * j.size;
    j.y[p] = int8::PoolAverage(*j.d, sum, j.size);
  }
}

Status EvalGlobalAveragePool(KernelContext& ctx) {
  const TensorView& x = ctx.input(0);
  GapJob j;
  j.d = ctx.op_data<int8::PoolData>();
  j.x = x.as<int8_t>();
  j.y = ctx.output(0).as<int8_t>();
  j.planes = static_cast<int64_t>(x.dims[0]) * x.dims[1];
  j.size = x.num_elements() / j.planes;
  ctx.executor().ParallelFor(j.planes, 64, GapPlanes, &j);
  return Status::kOk;
}

}  // namespace

const KernelRegistration kGlobalAveragePoolI8Avx512 = {
    OpCode::GLOBAL_AVERAGE_POOL, DType::INT8,
    KernelFamily::kX86,          "global_average_pool_i8_avx512vnni",
    sizeof(int8::PoolData),      nullptr,
    PrepareGlobalAveragePool,    EvalGlobalAveragePool,
    kCpuX86Avx512Vnni,           nullptr};

const KernelRegistration kMaxPool2DI8Avx512 = {OpCode::MAX_POOL_2D,    DType::INT8,
                                               KernelFamily::kX86,     "max_pool2d_i8_avx512vnni",
                                               sizeof(int8::PoolData), MaxPoolScratchBytes,
                                               PrepareMaxPool,         EvalMaxPool,
                                               kCpuX86Avx512Vnni,      nullptr};

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
