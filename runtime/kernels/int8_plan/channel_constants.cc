#include "runtime/kernels/int8_plan/channel_constants.h"

#include <string.h>

namespace outpost {
namespace kernels {
namespace int8_plan {

namespace {

template <typename T>
void PackTiles(const int8_t* w, int64_t groups, int64_t mg, int64_t k, int64_t kp, int64_t mr,
               int64_t kpw, T* out) {
  const int64_t mg_pad = RoundUp(mg, mr);
  memset(out, 0, static_cast<size_t>(groups * mg_pad * kp) * sizeof(T));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t m = 0; m < mg; ++m) {
      const int8_t* src = w + (g * mg + m) * k;
      T* tile = out + (g * mg_pad + m / mr * mr) * kp;
      for (int64_t i = 0; i < k; ++i)
        tile[((i / kpw) * mr + m % mr) * kpw + i % kpw] = static_cast<T>(src[i]);
    }
}

}  // namespace

int64_t RoundUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

size_t ConstantsBytes(int64_t channels, int64_t vector) {
  return static_cast<size_t>(4 * 4 * RoundUp(channels, vector));
}

ChannelConstants ConstantsAt(int64_t channels, int64_t vector, void* packed) {
  int32_t* b = static_cast<int32_t*>(packed);
  const int64_t n = RoundUp(channels, vector);
  return {b, b + n, b + 2 * n, b + 3 * n, b + 4 * n};
}

bool NeedsReference(const int8::LinearOutput& o, const TensorView& w, int64_t channels) {
  if (!w.is_constant) return true;
  for (int64_t c = 0; c < channels; ++c)
    if ((o.per_channel ? w.quant.zp(static_cast<int32_t>(c)) : o.weight_zp) != 0) return true;
  return false;
}

namespace {

// Channel c's constants into element `slot` of cc's arrays.
void FillChannelAt(const int8::LinearOutput& o, const TensorView& w, int64_t c,
                   const int8_t* wc, int64_t k, const int32_t* bias, int32_t offset,
                   RightShift right, const ChannelConstants& cc, int64_t slot) {
  QuantizedMultiplier mult;
  int32_t zw;
  int8::ChannelParams(o, w, c, &mult, &zw);
  const int32_t r = mult.shift > 0 ? 0 : -mult.shift;
  cc.m0[slot] = mult.m0;
  cc.left[slot] = mult.shift > 0 ? mult.shift : 0;
  cc.right[slot] = right == RightShift::kPositive ? r : -r;
  // Unsigned arithmetic: wraps exactly like the int32 lanes it is subtracted from.
  uint32_t corr = bias ? 0u - static_cast<uint32_t>(bias[c]) : 0u;
  if (wc != nullptr) {
    uint32_t sum = 0;
    for (int64_t i = 0; i < k; ++i) sum += static_cast<uint32_t>(static_cast<int32_t>(wc[i]));
    corr += static_cast<uint32_t>(offset + o.input_zp) * sum;
  }
  cc.corr[slot] = static_cast<int32_t>(corr);
}

}  // namespace

void FillChannel(const int8::LinearOutput& o, const TensorView& w, int64_t c, const int8_t* wc,
                 int64_t k, const int32_t* bias, int32_t offset, RightShift right,
                 const ChannelConstants& cc) {
  FillChannelAt(o, w, c, wc, k, bias, offset, right, cc, c);
}

void FillChannels(KernelContext& ctx, const int8::LinearOutput& o, int64_t channels, int64_t k,
                  bool row_sums, int32_t offset, RightShift right, const ChannelConstants& cc) {
  const TensorView& w = ctx.input(1);
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  for (int64_t c = 0; c < channels; ++c)
    FillChannel(o, w, c, row_sums ? wd + c * k : nullptr, k, bias, offset, right, cc);
}

bool CachedChannelsMatch(KernelContext& ctx, const int8::LinearOutput& o, int64_t channels,
                         int64_t k, bool row_sums, int32_t offset, RightShift right,
                         const ChannelConstants& cached) {
  const TensorView& w = ctx.input(1);
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  int32_t corr, m0, left, rshift;
  const ChannelConstants one = {&corr, &m0, &left, &rshift, nullptr};
  for (int64_t c = 0; c < channels; ++c) {
    FillChannelAt(o, w, c, row_sums ? wd + c * k : nullptr, k, bias, offset, right, one, 0);
    if (cached.corr[c] != corr || cached.m0[c] != m0 || cached.left[c] != left ||
        cached.right[c] != rshift)
      return false;
  }
  return true;
}

void PackWeightTiles(const int8_t* w, int64_t groups, int64_t mg, int64_t k, int64_t kpad,
                     int64_t mr, int64_t kpw, int8_t* out) {
  PackTiles(w, groups, mg, k, kpad, mr, kpw, out);
}

void PackWeightTiles16(const int8_t* w, int64_t groups, int64_t mg, int64_t k, int64_t kpad,
                       int64_t mr, int64_t kpw, int16_t* out) {
  PackTiles(w, groups, mg, k, kpad, mr, kpw, out);
}

}  // namespace int8_plan
}  // namespace kernels
}  // namespace outpost
