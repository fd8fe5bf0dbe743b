// FULLY_CONNECTED on INT8 for Cortex-M with the DSP extension, bit-exact with
// kFullyConnectedI8Ref: Y[N,O] = X[N,K] * W[O,K]^T (+ B[O]). Prepare, operator state and
// memory are the reference's (so the arena a model needs does not change, and exactly the same
// models are accepted); eval does two output channels at a time, each weight row (contiguous
// int8) one dot product at two MACs per SMLAD (dsp_dot.h), with the reference's
// requantization. Non-zero weight zero points and INT32 raw outputs run the reference eval.
#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/cortex_m/dsp_dot.h"
#include "runtime/kernels/cortex_m/twin_util.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"

namespace outpost {
namespace kernels {
namespace cortex_m {
namespace {

Status EvalFullyConnected(KernelContext& ctx) {
  FcOperands f;
  if (!ReadFcOperands(ctx, &f)) return int8::EvalFullyConnected(ctx);
  const int8::LinearOutput& o = *f.o;
  const TensorView& wv = *f.w_view;
  const int8_t* x = f.x;
  const int8_t* w = f.w;
  const int32_t* b = f.bias;
  int8_t* y = f.y;
  const int64_t n = f.n, out = f.out;
  const int32_t k = f.k;
  const int32_t zx = o.input_zp;
  const uint32_t nzx = NegatedPair(zx);
  // Channels outermost: a per-channel multiplier is derived once per channel, as in the
  // reference.
  for (int64_t j = 0; j < out; ++j) {
    QuantizedMultiplier m;
    int32_t zw;
    int8::ChannelParams(o, wv, j, &m, &zw);
    const int8_t* wj = w + j * k;
    const int32_t bias = b ? b[j] : 0;
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
      int32_t a0 = bias, a1 = bias;
      Dot2(x + i * k, x + (i + 1) * k, wj, k, zx, nzx, &a0, &a1);
      y[i * out + j] = static_cast<int8_t>(int8::FinishAccumulator(o, a0, m));
      y[(i + 1) * out + j] = static_cast<int8_t>(int8::FinishAccumulator(o, a1, m));
    }
    if (i < n)
      y[i * out + j] =
          static_cast<int8_t>(int8::FinishAccumulator(o, Dot(x + i * k, wj, k, zx, nzx, bias), m));
  }
  return Status::kOk;
}

}  // namespace
}  // namespace cortex_m

const KernelRegistration kFullyConnectedI8CortexMDsp = cortex_m::TwinRegistration(
    OpCode::FULLY_CONNECTED, "fully_connected_i8_cortex_m_dsp", sizeof(int8::FullyConnectedData),
    int8::PrepareFullyConnected, cortex_m::EvalFullyConnected);

}  // namespace kernels
}  // namespace outpost
