// float32 ADD for AVX-512 (F, DQ), same-shape operands with the fused activation applied in
// registers: the residual connections of MobileNet-style networks, where the reference's
// per-element broadcast indexing costs more than the memory traffic.
//
// One addition per element, as in the reference, so results are identical (one rounding); the
// activation is the reference's (VecAct keeps its NaN behaviour). The output may alias input 0
// (in-place planning): every element is read before it is written, in the same vector.
// Operands of different shapes (broadcasting) run the reference eval, as do CPUs without
// AVX-512.
//
// Prepare is the reference's (its checks and op data); the activation is rebuilt from the
// options at eval, as the reference's op data layout is its own business.
#include <immintrin.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/x86/x86_kernels.h"

#include "runtime/kernels/x86/avx512_target_begin.h"

#include "runtime/kernels/x86/f32_avx512_util.h"

namespace outpost {
namespace kernels {
namespace x86 {
namespace {

// Room for the reference's op data, which this kernel's prepare fills (prepare checks that it
// fits).
struct alignas(16) AddOpData {
  unsigned char ref[128];
};

// Elements per ParallelFor task: large enough that a task's overhead is small against its
// memory traffic (12 KiB read, 4 KiB written), small enough that the 7x7 and 14x14 residual
// adds still split across threads.
constexpr int64_t kAddChunk = 1024;

struct AddArgs {
  const float* a;
  const float* b;
  float* y;
  int64_t n;
  FusedActivation act;
};

void AddChunks(void* arg, int64_t begin, int64_t end) {
  const AddArgs& g = *static_cast<const AddArgs*>(arg);
  const VecAct act(g.act);
  const int64_t lo = begin * kAddChunk;
  const int64_t hi = end * kAddChunk < g.n ? end * kAddChunk : g.n;
  int64_t i = lo;
  // 4 vectors per step: independent loads and adds keep the load ports busy.
  for (; i + 64 <= hi; i += 64) {
    __m512 s[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v)
      s[v] = _mm512_add_ps(_mm512_loadu_ps(g.a + i + 16 * v), _mm512_loadu_ps(g.b + i + 16 * v));
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm512_storeu_ps(g.y + i + 16 * v, act(s[v]));
  }
  for (; i < hi; i += 16) {
    const __mmask16 m = static_cast<__mmask16>(RangeMask(i, hi, 16));
    const __m512 s = _mm512_add_ps(LoadLanes(m, g.a + i, _mm512_setzero_ps()),
                                   LoadLanes(m, g.b + i, _mm512_setzero_ps()));
    StoreLanes(m, g.y + i, act(s));
  }
}

Status PrepareAdd(KernelContext& ctx) {
  OUTPOST_KERNEL_CHECK(ctx, kAddF32Ref.op_data_bytes <= sizeof(AddOpData), Status::kInternal,
                       "add: reference op data of %zu bytes > %zu", kAddF32Ref.op_data_bytes,
                       sizeof(AddOpData));
  return kAddF32Ref.prepare(ctx);
}

Status EvalAdd(KernelContext& ctx) {
  const TensorView& a = ctx.input(0);
  const TensorView& b = ctx.input(1);
  const TensorView& y = ctx.output(0);
  if (!a.SameShape(b) || !a.SameShape(y)) return kAddF32Ref.eval(ctx);
  const auto* o = ctx.options<opm::BinaryOptions>();
  AddArgs g{a.as<float>(), b.as<float>(), y.as<float>(), y.num_elements(),
            MakeActivation(o->activation(), o->act_min(), o->act_max())};
  ctx.executor().ParallelFor((g.n + kAddChunk - 1) / kAddChunk, 1, AddChunks, &g);
  return Status::kOk;
}

}  // namespace
}  // namespace x86

const KernelRegistration kAddF32Avx512 = {
    OpCode::ADD,
    DType::FLOAT32,
    KernelFamily::kX86,
    "add_f32_avx512",
    sizeof(x86::AddOpData),
    nullptr,
    x86::PrepareAdd,
    x86::EvalAdd,
    kCpuX86Avx512 | kCpuX86Avx2Fma,
    nullptr,
};

}  // namespace kernels
}  // namespace outpost

#include "runtime/kernels/x86/avx512_target_end.h"
