#include "runtime/kernels/arm/int8_plan.h"

#include <string.h>

#include "runtime/kernels/int8_plan/channel_constants.h"
#include "runtime/kernels/reference/int8_linear_prepare.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace arm {
namespace {

using int8_plan::RoundUp;

// Sizes above this are not planned (the reference runs): keeps every product below in range.
constexpr int64_t kMaxElements = int64_t{1} << 40;

// False when the shapes or options make no sense or are too large (prepare reports the
// former; the latter run the reference).
bool MakeConvPlan(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                  const opm::Conv2DOptions* o, Int8ConvPlan* p) {
  if (!int8_plan::MakeConvGeometry(x, wt, y, o, p)) return false;
  p->depthwise = p->cg == 1 && p->mg == 1;
  p->kq = (p->k + 3) / 4;
  p->npad = RoundUp(p->npix, 4);
  p->mg_pad = RoundUp(p->mg, kConvMr);
  const int64_t ow_pad = RoundUp(p->ow, kDepthwiseBlock);
  p->dw_rows = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  // +2: stride 2 loads pairs (LD2), so the last block also reads the odd column after it.
  p->dw_cols = (ow_pad - 1) * p->sw + (p->kw - 1) * p->dw + 2;
  return p->k * p->npad < kMaxElements && p->groups * p->mg_pad * p->kq < kMaxElements &&
         p->dw_rows * p->dw_cols < kMaxElements;
}

// Channel constants are loaded 4 at a time.
size_t ConstantsBytes(int64_t channels) { return int8_plan::ConstantsBytes(channels, 4); }

size_t PackedBytesFor(const Int8ConvPlan& p) {
  const int64_t weights = p.depthwise ? 0 : p.groups * p.mg_pad * p.kq * 4;
  return ConstantsBytes(p.m) + static_cast<size_t>(weights);
}

size_t ScratchBytesFor(const Int8ConvPlan& p) {
  if (p.depthwise) return static_cast<size_t>(kDepthwiseSlots) * DepthwiseSlotBytes(p);
  return static_cast<size_t>(p.kq * p.npad * 4 + (p.direct ? 0 : 4 * p.npad));
}

ChannelConstants ConstantsAt(int64_t channels, void* packed) {
  const int8_plan::ChannelConstants c = int8_plan::ConstantsAt(channels, 4, packed);
  return {c.corr, c.m0, c.left, c.right, static_cast<int8_t*>(c.weights)};
}

// Every channel's requantization constants and correction (int8_plan::FillChannels; SDOT and
// SMLAL multiply the inputs as they are: offset 0). Depthwise subtracts the input zero point
// itself (row_sums false).
void FillChannels(KernelContext& ctx, const int8::LinearOutput& o, int64_t channels, int64_t k,
                  bool row_sums, const ChannelConstants& cc) {
  int8_plan::FillChannels(ctx, o, channels, k, row_sums, 0, int8_plan::RightShift::kNegated,
                          {cc.corr, cc.m0, cc.left, cc.neg_right, cc.weights});
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
  return int8_plan::ConvPlanBytes<Int8ConvPlan, MakeConvPlan, PackedBytesFor>(model, op);
}

size_t ConvScratchBytes(const Model& model, const opm::Operator& op) {
  return int8_plan::ConvPlanBytes<Int8ConvPlan, MakeConvPlan, ScratchBytesFor>(model, op);
}

Status PrepareConv(KernelContext& ctx) {
  Int8ConvData* d = ctx.op_data<Int8ConvData>();
  OUTPOST_RETURN_IF_ERROR(int8::PrepareConv(ctx));
  const TensorView& x = ctx.input(0);
  const TensorView& w = ctx.input(1);
  const TensorView& y = ctx.output(0);
  d->use_reference =
      !MakeConvPlan(x.dims, w.dims, y.dims, ctx.options<opm::Conv2DOptions>(), &d->plan) ||
      int8_plan::NeedsReference(d->ref.out, w, w.dims[0]);
  if (d->use_reference) return Status::kOk;
  const Int8ConvPlan& p = d->plan;
  OUTPOST_KERNEL_CHECK(ctx,
                       ctx.packed() != nullptr && ctx.packed_bytes() >= PackedBytesFor(p) &&
                           ctx.scratch_bytes() >= ScratchBytesFor(p),
                       Status::kInternal, "conv: packed or scratch memory smaller than planned");
  const ChannelConstants cc = ConvConstants(p, ctx.packed());
  FillChannels(ctx, d->ref.out, p.m, p.k, !p.depthwise, cc);
  if (p.depthwise) return Status::kOk;
  // Per group, tiles of kConvMr channels: [tile][q][channel][4 k], zero past k and for the
  // padding channels, so that one 16-byte load holds 4 channels' 4 weights of a k group.
  int8_plan::PackWeightTiles(w.as<int8_t>(), p.groups, p.mg, p.k, p.kq * 4, kConvMr, 4, cc.weights);
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
  return int8_plan::FullyConnectedWeightDims(model, op, out, k) && *out * *k < kMaxElements;
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
  d->use_reference =
      d->out * d->k >= kMaxElements || int8_plan::NeedsReference(d->ref.out, w, d->out);
  if (d->use_reference) return Status::kOk;
  OUTPOST_KERNEL_CHECK(
      ctx,
      ctx.packed() != nullptr && ctx.packed_bytes() >= FcPackedBytesFor(d->out, d->k) &&
          ctx.scratch_bytes() >= static_cast<size_t>(d->kq4 * 4),
      Status::kInternal, "fully connected: packed or scratch memory smaller than planned");
  const ChannelConstants cc = FullyConnectedConstants(*d, ctx.packed());
  memset(ctx.packed(), 0, FcPackedBytesFor(d->out, d->k));
  FillChannels(ctx, d->ref.out, d->out, d->k, true, cc);
  // [out / 4][kq4][4 channels][4 k]: one 16-byte load holds 4 channels' weights of a k group.
  int8_plan::PackWeightTiles(w.as<int8_t>(), 1, d->out, d->k, d->kq4 * 4, 4, 4, cc.weights);
  return Status::kOk;
}

}  // namespace arm
}  // namespace kernels
}  // namespace outpost
