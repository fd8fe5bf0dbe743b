#include "runtime/kernels/arm/int8_plan.h"

#include <string.h>

#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/kernels/reference/reference_util.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

int64_t RoundUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

// Sizes above this are not planned (the reference runs): keeps every product below in range.
constexpr int64_t kMaxElements = int64_t{1} << 40;

bool OperandDims(const Model& model, const opm::Operator& op, bool input, int i, int rank,
                 int32_t* dims) {
  const auto* list = input ? op.inputs() : op.outputs();
  if (list == nullptr || static_cast<int>(list->size()) <= i) return false;
  const int32_t t = list->Get(i);
  if (t < 0 || t >= model.num_tensors()) return false;
  const auto* shape = model.fb()->tensors()->Get(t)->shape();
  if (shape == nullptr || static_cast<int>(shape->size()) != rank) return false;
  for (int a = 0; a < rank; ++a) dims[a] = shape->Get(a);
  return true;
}

// False when the shapes or options make no sense or are too large (prepare reports the
// former; the latter run the reference).
bool MakeConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                  const opm::Conv2DOptions* o, Int8ConvPlan* p) {
  if (o == nullptr) return false;
  for (int a = 0; a < 4; ++a)
    if (x[a] <= 0 || wt[a] <= 0 || y[a] <= 0) return false;
  if (o->groups() < 1 || o->stride_h() < 1 || o->stride_w() < 1 || o->dilation_h() < 1 ||
      o->dilation_w() < 1 || o->pad_top() < 0 || o->pad_left() < 0)
    return false;
  p->n = x[0], p->c = x[1], p->h = x[2], p->w = x[3];
  p->m = wt[0], p->kh = wt[2], p->kw = wt[3];
  p->oh = y[2], p->ow = y[3];
  p->groups = o->groups();
  if (p->c % p->groups != 0 || p->m % p->groups != 0) return false;
  p->cg = p->c / p->groups;
  p->mg = p->m / p->groups;
  p->sh = o->stride_h(), p->sw = o->stride_w();
  p->dh = o->dilation_h(), p->dw = o->dilation_w();
  p->pt = o->pad_top(), p->pl = o->pad_left();
  p->depthwise = p->cg == 1 && p->mg == 1;
  p->direct = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
              p->oh == p->h && p->ow == p->w;
  p->k = p->cg * p->kh * p->kw;
  p->kq = (p->k + 3) / 4;
  p->npix = p->oh * p->ow;
  p->npad = RoundUp(p->npix, 4);
  p->mg_pad = RoundUp(p->mg, kConvMr);
  const int64_t ow_pad = RoundUp(p->ow, kDepthwiseBlock);
  p->dw_rows = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  // +2: stride 2 loads pairs (LD2), so the last block also reads the odd column after it.
  p->dw_cols = (ow_pad - 1) * p->sw + (p->kw - 1) * p->dw + 2;
  return p->k * p->npad < kMaxElements && p->groups * p->mg_pad * p->kq < kMaxElements &&
         p->dw_rows * p->dw_cols < kMaxElements;
}

size_t ConstantsBytes(int64_t channels) {
  return static_cast<size_t>(4 * 4 * RoundUp(channels, 4));
}

size_t PackedBytesFor(const Int8ConvPlan& p) {
  const int64_t weights = p.depthwise ? 0 : p.groups * p.mg_pad * p.kq * 4;
  return ConstantsBytes(p.m) + static_cast<size_t>(weights);
}

size_t ScratchBytesFor(const Int8ConvPlan& p) {
  if (p.depthwise) return static_cast<size_t>(kDepthwiseSlots) * DepthwiseSlotBytes(p);
  return static_cast<size_t>(p.kq * p.npad * 4 + (p.direct ? 0 : 4 * p.npad));
}

bool PlanFromModel(const Model& model, const opm::Operator& op, Int8ConvPlan* p) {
  int32_t x[4], w[4], y[4];
  return OperandDims(model, op, true, 0, 4, x) && OperandDims(model, op, true, 1, 4, w) &&
         OperandDims(model, op, false, 0, 4, y) &&
         MakeConvPlan(x, w, y, op.options_as<opm::Conv2DOptions>(), p);
}

ChannelConstants ConstantsAt(int64_t channels, void* packed) {
  int32_t* b = static_cast<int32_t*>(packed);
  const int64_t n = RoundUp(channels, 4);
  return {b, b + n, b + 2 * n, b + 3 * n, reinterpret_cast<int8_t*>(b + 4 * n)};
}

// True when some channel's weights have a zero point (the GEMMs fold none), or the weights
// are not constant.
bool NeedsReference(const int8::LinearOutput& o, const TensorView& w, int64_t channels) {
  if (!w.is_constant) return true;
  for (int64_t c = 0; c < channels; ++c)
    if ((o.per_channel ? w.quant.zp(static_cast<int32_t>(c)) : o.weight_zp) != 0) return true;
  return false;
}

// Channel c's requantization constants and correction. `wc` holds its k weights, or is null
// when the kernel subtracts the input zero point itself (depthwise).
void FillChannel(const int8::LinearOutput& o, const TensorView& w, int64_t c, const int8_t* wc,
                 int64_t k, const int32_t* bias, const ChannelConstants& cc) {
  QuantizedMultiplier mult;
  int32_t zw;
  int8::ChannelParams(o, w, c, &mult, &zw);
  cc.m0[c] = mult.m0;
  cc.left[c] = mult.shift > 0 ? mult.shift : 0;
  cc.neg_right[c] = mult.shift > 0 ? 0 : mult.shift;
  // Unsigned arithmetic: wraps exactly like the int32 lanes it is subtracted from.
  uint32_t corr = bias ? 0u - static_cast<uint32_t>(bias[c]) : 0u;
  if (wc != nullptr) {
    uint32_t sum = 0;
    for (int64_t i = 0; i < k; ++i) sum += static_cast<uint32_t>(static_cast<int32_t>(wc[i]));
    corr += static_cast<uint32_t>(o.input_zp) * sum;
  }
  cc.corr[c] = static_cast<int32_t>(corr);
}

}  // namespace

size_t DepthwiseSlotBytes(const Int8ConvPlan& p) {
  return static_cast<size_t>(RoundUp(p.dw_rows * p.dw_cols * 2, 64));
}

ChannelConstants ConvConstants(const Int8ConvPlan& p, void* packed) {
  return ConstantsAt(p.m, packed);
}

ChannelConstants FullyConnectedConstants(const Int8FullyConnectedData& d, void* packed) {
  return ConstantsAt(d.out, packed);
}

size_t ConvPackedBytes(const Model& model, const opm::Operator& op) {
  Int8ConvPlan p;
  return PlanFromModel(model, op, &p) ? PackedBytesFor(p) : 0;
}

size_t ConvScratchBytes(const Model& model, const opm::Operator& op) {
  Int8ConvPlan p;
  return PlanFromModel(model, op, &p) ? ScratchBytesFor(p) : 0;
}

Status PrepareConv(KernelContext& ctx) {
  Int8ConvData* d = ctx.op_data<Int8ConvData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareConv(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  d->use_reference =
      !MakeConvPlan(x.dims, w.dims, y.dims, ctx.options<opm::Conv2DOptions>(), &d->plan) ||
      NeedsReference(d->ref.out, w, w.dims[0]);
  if (d->use_reference) return Status::kOk;
  const Int8ConvPlan& p = d->plan;
  OUTPOST_KERNEL_CHECK(ctx,
                       ctx.packed() != nullptr && ctx.packed_bytes() >= PackedBytesFor(p) &&
                           ctx.scratch_bytes() >= ScratchBytesFor(p),
                       Status::kInternal, "conv: packed or scratch memory smaller than planned");
  const ChannelConstants cc = ConvConstants(p, ctx.packed());
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  for (int64_t m = 0; m < p.m; ++m)
    FillChannel(d->ref.out, w, m, p.depthwise ? nullptr : wd + m * p.k, p.k, bias, cc);
  if (p.depthwise) return Status::kOk;
  // Per group, tiles of kConvMr channels: [tile][q][channel][4 k], zero past k and for the
  // padding channels, so that one 16-byte load holds 4 channels' 4 weights of a k group.
  int8_t* out = cc.weights;
  memset(out, 0, static_cast<size_t>(p.groups * p.mg_pad * p.kq * 4));
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t m = 0; m < p.mg; ++m) {
      const int8_t* src = wd + (g * p.mg + m) * p.k;
      int8_t* tile = out + (g * p.mg_pad + m / kConvMr * kConvMr) * p.kq * 4;
      for (int64_t i = 0; i < p.k; ++i)
        tile[((i / 4) * kConvMr + m % kConvMr) * 4 + i % 4] = src[i];
    }
  return Status::kOk;
}

// ------------------------------------------------------------------------- FULLY_CONNECTED

namespace {

void FcShape(int64_t out, int64_t k, int64_t* kq4, int64_t* out_pad) {
  *kq4 = RoundUp((k + 3) / 4, 4);
  *out_pad = RoundUp(out, 4);
}

size_t FcPackedBytesFor(int64_t out, int64_t k) {
  int64_t kq4, out_pad;
  FcShape(out, k, &kq4, &out_pad);
  return ConstantsBytes(out) + static_cast<size_t>(out_pad * kq4 * 4);
}

bool FcWeightDims(const Model& model, const opm::Operator& op, int64_t* out, int64_t* k) {
  int32_t dims[2];
  if (!OperandDims(model, op, true, 1, 2, dims) || dims[0] <= 0 || dims[1] <= 0) return false;
  *out = dims[0];
  *k = dims[1];
  return *out * *k < kMaxElements;
}

}  // namespace

size_t FullyConnectedPackedBytes(const Model& model, const opm::Operator& op) {
  int64_t out, k;
  return FcWeightDims(model, op, &out, &k) ? FcPackedBytesFor(out, k) : 0;
}

size_t FullyConnectedScratchBytes(const Model& model, const opm::Operator& op) {
  int64_t out, k, kq4, out_pad;
  if (!FcWeightDims(model, op, &out, &k)) return 0;
  FcShape(out, k, &kq4, &out_pad);
  return static_cast<size_t>(kq4 * 4);
}

Status PrepareFullyConnected(KernelContext& ctx) {
  Int8FullyConnectedData* d = ctx.op_data<Int8FullyConnectedData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareFullyConnected(ctx));
  const TensorView& w = ctx.input(1);
  d->out = w.dims[0];
  d->k = w.dims[1];
  FcShape(d->out, d->k, &d->kq4, &d->out_pad);
  d->use_reference = d->out * d->k >= kMaxElements || NeedsReference(d->ref.out, w, d->out);
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(
      ctx,
      ctx.packed() != nullptr && ctx.packed_bytes() >= FcPackedBytesFor(d->out, d->k) &&
          ctx.scratch_bytes() >= static_cast<size_t>(d->kq4 * 4),
      Status::kInternal, "fully connected: packed or scratch memory smaller than planned");
  const ChannelConstants cc = FullyConnectedConstants(*d, ctx.packed());
  memset(ctx.packed(), 0, FcPackedBytesFor(d->out, d->k));
  const int8_t* wd = w.as<int8_t>();
  const int32_t* bias = ctx.has_input(2) ? ctx.input(2).as<int32_t>() : nullptr;
  // [out / 4][kq4][4 channels][4 k]: one 16-byte load holds 4 channels' weights of a k group.
  for (int64_t c = 0; c < d->out; ++c) {
    FillChannel(d->ref.out, w, c, wd + c * d->k, d->k, bias, cc);
    for (int64_t i = 0; i < d->k; ++i)
      cc.weights[(((c / 4) * d->kq4 + i / 4) * 4 + c % 4) * 4 + i % 4] = wd[c * d->k + i];
  }
  return Status::kOk;
}

// ------------------------------------------------------------------------------- im2col

void Im2colRow(const Int8ConvPlan& p, const int8_t* xg, int64_t k, int8_t zx, int8_t* row) {
  const int64_t ci = k / (p.kh * p.kw), t = k % (p.kh * p.kw);
  const int64_t kh = t / p.kw, kw = t % p.kw;
  const int8_t* plane = xg + ci * p.h * p.w;
  const int64_t off_w = kw * p.dw - p.pl;
  const ref::Range rw = ref::ValidRange(off_w, p.sw, p.w, p.ow);
  for (int64_t oh = 0; oh < p.oh; ++oh) {
    int8_t* r = row + oh * p.ow;
    const int64_t ih = oh * p.sh + kh * p.dh - p.pt;
    if (ih < 0 || ih >= p.h || rw.size() == 0) {
      memset(r, zx, static_cast<size_t>(p.ow));
      continue;
    }
    const int8_t* src = plane + ih * p.w + off_w;
    for (int64_t i = 0; i < rw.begin; ++i) r[i] = zx;
    if (p.sw == 1) {
      memcpy(r + rw.begin, src + rw.begin, static_cast<size_t>(rw.size()));
    } else {
      for (int64_t i = rw.begin; i < rw.end; ++i) r[i] = src[i * p.sw];
    }
    for (int64_t i = rw.end; i < p.ow; ++i) r[i] = zx;
  }
}

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
