// MATMUL, float32, NumPy matmul semantics: a rank-1 A is a row vector and a rank-1 B a column
// vector (the added axis is dropped from the output), and the batch axes (all but the last
// two) broadcast against each other. The output shape is stored in the model and checked.
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/reference/matmul_shape.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/reference/reference_util.h"

namespace outpost {
namespace kernels {
namespace {

using MatMulData = ref::MatMulShape;

Status PrepareMatMul(KernelContext& ctx) {
  OUTPOST_RETURN_IF_ERROR(CheckOperands(ctx, 2, 2, 1, DType::FLOAT32));
  return ref::PrepareMatMulShape(ctx, ctx.op_data<MatMulData>());
}

// C[M,N] = A[M,K] * B[K,N]. The i-k-j order streams rows of B and C contiguously.
void Gemm(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* cr = c + i * n;
    for (int64_t j = 0; j < n; ++j) cr[j] = 0.0f;
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[i * k + p];
      const float* br = b + p * n;
      for (int64_t j = 0; j < n; ++j) cr[j] += av * br[j];
    }
  }
}

Status EvalMatMul(KernelContext& ctx) {
  const MatMulData* d = ctx.op_data<MatMulData>();
  const float* a = ctx.input(0).as<float>();
  const float* b = ctx.input(1).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t a_mat = d->m * d->k, b_mat = d->k * d->n, y_mat = d->m * d->n;
  ref::ForEachMatMulBatch(*d, [&](int64_t t, int64_t ia, int64_t ib) {
    Gemm(a + ia * a_mat, b + ib * b_mat, y + t * y_mat, d->m, d->k, d->n);
  });
  return Status::kOk;
}

}  // namespace

const KernelRegistration kMatMulF32Ref =
    ref::Reference(OpCode::MATMUL, DType::FLOAT32, "matmul_f32_ref", sizeof(MatMulData),
                   PrepareMatMul, EvalMatMul);

}  // namespace kernels
}  // namespace outpost
