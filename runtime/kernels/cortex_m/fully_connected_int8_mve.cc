// FULLY_CONNECTED on INT8 for Cortex-M with MVE (Helium), bit-exact with kFullyConnectedI8Ref:
// Y[N,O] = X[N,K] * W[O,K]^T (+ B[O]). Prepare, operator state and memory are the reference's
// (so the arena a model needs does not change, and exactly the same models are accepted).
//
// Four output channels at a time: each weight row (contiguous int8) is multiplied by the input
// row sixteen products per VMLADAVA.S8 (into a 32-bit scalar), which also needs the rows'
// sums (VADDVA.S8) to take out the input zero point: sum (x - zx) * w = sum x * w - zx * sum w.
// The last partial vector of a row is loaded under a VCTP8 predicate (lanes past the row read
// nothing and hold 0). Every step is an exact integer computed modulo 2^32, and the reference
// prepare proved that the true accumulator fits int32, so it is the reference's. The four
// accumulators are then requantized together (mve_util.h) and stored as four bytes.
// Non-zero weight zero points and INT32 raw outputs run the reference eval.
#include "runtime/kernels/cortex_m/cortex_m_kernels.h"
#include "runtime/kernels/cortex_m/mve_util.h"
#include "runtime/kernels/cortex_m/twin_util.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"

namespace outpost {
namespace kernels {
namespace cortex_m {
namespace {

struct RowPair {
  int32_t dot0, dot1;  // sum x * w0, sum x * w1
  int32_t sum0, sum1;  // sum w0, sum w1
};

// Out of line: inlined into the channel loop its accumulators compete for the even registers
// VMLADAVA and VADDVA write, and the loop spills.
__attribute__((noinline)) RowPair DotRowPair(const int8_t* x, const int8_t* w0, const int8_t* w1,
                                             int32_t k) {
  int32_t d0 = 0, d1 = 0, s0 = 0, s1 = 0;
  int32_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const int8x16_t xv = vldrbq_s8(x + i);
    const int8x16_t a = vldrbq_s8(w0 + i), b = vldrbq_s8(w1 + i);
    d0 = vmladavaq_s8(d0, xv, a);
    s0 = vaddvaq_s8(s0, a);
    d1 = vmladavaq_s8(d1, xv, b);
    s1 = vaddvaq_s8(s1, b);
  }
  if (i < k) {
    const mve_pred16_t p = vctp8q(static_cast<uint32_t>(k - i));
    const int8x16_t xv = vldrbq_z_s8(x + i, p);
    const int8x16_t a = vldrbq_z_s8(w0 + i, p), b = vldrbq_z_s8(w1 + i, p);
    d0 = vmladavaq_s8(d0, xv, a);
    s0 = vaddvaq_s8(s0, a);
    d1 = vmladavaq_s8(d1, xv, b);
    s1 = vaddvaq_s8(s1, b);
  }
  return {d0, d1, s0, s1};
}

Status EvalFullyConnected(KernelContext& ctx) {
  FcOperands f;
  if (!ReadFcOperands(ctx, &f)) return int8::EvalFullyConnected(ctx);
  const int8::LinearOutput& o = *f.o;
  const int32_t n = f.n, k = f.k, out = f.out;
  // Channels outermost, four at a time: a per-channel multiplier is derived once per channel,
  // as in the reference. A last block of fewer than four repeats its last channel in the
  // unused lanes, which are not stored.
  for (int32_t j0 = 0; j0 < out; j0 += 4) {
    const int32_t lanes = out - j0 < 4 ? out - j0 : 4;
    int32_t rows[4], m0[4], shift[4], bias[4];
    for (int32_t l = 0; l < 4; ++l) {
      rows[l] = j0 + (l < lanes ? l : lanes - 1);
      QuantizedMultiplier m;
      int32_t zw;
      int8::ChannelParams(o, *f.w_view, rows[l], &m, &zw);
      m0[l] = m.m0;
      shift[l] = m.shift;
      bias[l] = f.bias ? f.bias[rows[l]] : 0;
    }
    const MveMultiplier mult = MveMultiplierOf(vldrwq_s32(m0), vldrwq_s32(shift));
    const int32x4_t biases = vldrwq_s32(bias);
    for (int32_t i = 0; i < n; ++i) {
      const int8_t* xi = f.x + i * k;
      const RowPair p = DotRowPair(xi, f.w + rows[0] * k, f.w + rows[1] * k, k);
      const RowPair q = DotRowPair(xi, f.w + rows[2] * k, f.w + rows[3] * k, k);
      const int32x4_t dots = {p.dot0, p.dot1, q.dot0, q.dot1};
      const int32x4_t sums = {p.sum0, p.sum1, q.sum0, q.sum1};
      // bias + sum x * w - zx * sum w, modulo 2^32.
      const int32x4_t acc = vmlaq_n_s32(vaddq_s32(biases, dots), sums, -o.input_zp);
      StoreInt8(f.y + i * out + j0, RequantizeMve(acc, mult, o), lanes);
    }
  }
  return Status::kOk;
}

}  // namespace
}  // namespace cortex_m

const KernelRegistration kFullyConnectedI8CortexMMve = cortex_m::TwinRegistration(
    OpCode::FULLY_CONNECTED, "fully_connected_i8_cortex_m_mve", sizeof(int8::FullyConnectedData),
    int8::PrepareFullyConnected, cortex_m::EvalFullyConnected);

}  // namespace kernels
}  // namespace outpost
