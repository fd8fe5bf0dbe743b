#include "runtime/kernels/int8_plan/conv_geometry.h"

#include <string.h>

#include "runtime/kernels/reference/reference_util.h"
#include "runtime/model.h"

namespace outpost {
namespace kernels {
namespace int8_plan {

bool MakeConvGeometry(const int32_t x[4], const int32_t wt[4], const int32_t y[4],
                      const opm::Conv2DOptions* o, ConvGeometry* g) {
  if (o == nullptr) return false;
  for (int a = 0; a < 4; ++a)
    if (x[a] <= 0 || wt[a] <= 0 || y[a] <= 0) return false;
  if (o->groups() < 1 || o->stride_h() < 1 || o->stride_w() < 1 || o->dilation_h() < 1 ||
      o->dilation_w() < 1 || o->pad_top() < 0 || o->pad_left() < 0)
    return false;
  g->n = x[0], g->c = x[1], g->h = x[2], g->w = x[3];
  g->m = wt[0], g->kh = wt[2], g->kw = wt[3];
  g->oh = y[2], g->ow = y[3];
  g->groups = o->groups();
  if (g->c % g->groups != 0 || g->m % g->groups != 0) return false;
  g->cg = g->c / g->groups;
  g->mg = g->m / g->groups;
  g->sh = o->stride_h(), g->sw = o->stride_w();
  g->dh = o->dilation_h(), g->dw = o->dilation_w();
  g->pt = o->pad_top(), g->pl = o->pad_left();
  g->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
              g->oh == g->h && g->ow == g->w;
  g->k = g->cg * g->kh * g->kw;
  g->npix = g->oh * g->ow;
  return true;
}

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

bool ConvShapes(const Model& model, const opm::Operator& op, int32_t x[4], int32_t wt[4],
                int32_t y[4]) {
  return OperandDims(model, op, true, 0, 4, x) && OperandDims(model, op, true, 1, 4, wt) &&
         OperandDims(model, op, false, 0, 4, y);
}

bool FullyConnectedWeightDims(const Model& model, const opm::Operator& op, int64_t* out,
                              int64_t* k) {
  int32_t dims[2];
  if (!OperandDims(model, op, true, 1, 2, dims) || dims[0] <= 0 || dims[1] <= 0) return false;
  *out = dims[0];
  *k = dims[1];
  return true;
}

void Im2colRow(const ConvGeometry& g, const int8_t* xg, int64_t k, int8_t zx, int8_t* row,
               StridedRowCopy strided) {
  const int64_t ci = k / (g.kh * g.kw), t = k % (g.kh * g.kw);
  const int64_t kh = t / g.kw, kw = t % g.kw;
  const int8_t* plane = xg + ci * g.h * g.w;
  const int64_t off_w = kw * g.dw - g.pl;
  const ref::Range rw = ref::ValidRange(off_w, g.sw, g.w, g.ow);
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    int8_t* r = row + oh * g.ow;
    const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
    if (ih < 0 || ih >= g.h || rw.size() == 0) {
      memset(r, zx, static_cast<size_t>(g.ow));
      continue;
    }
    const int8_t* src = plane + ih * g.w + off_w;
    for (int64_t i = 0; i < rw.begin; ++i) r[i] = zx;
    if (g.sw == 1) {
      memcpy(r + rw.begin, src + rw.begin, static_cast<size_t>(rw.size()));
    } else {
      int64_t i = rw.begin;
      if (strided != nullptr) i = strided(src, g.sw, i, rw.end, g.w - off_w, r);
      for (; i < rw.end; ++i) r[i] = src[i * g.sw];
    }
    for (int64_t i = rw.end; i < g.ow; ++i) r[i] = zx;
  }
}

void GemmRowGroup(const ConvGeometry& g, const int8_t* xg, int64_t q, int n, int8_t zx,
                  int8_t* rows, int64_t row_stride, StridedRowCopy strided, const int8_t** out) {
  for (int i = 0; i < n; ++i) {
    const int64_t k = q * n + i;
    if (k >= g.k) {
      out[i] = nullptr;
    } else if (g.direct) {
      out[i] = xg + k * g.npix;
    } else {
      Im2colRow(g, xg, k, zx, rows + i * row_stride, strided);
      out[i] = rows + i * row_stride;
    }
  }
}

}  // namespace int8_plan
}  // namespace kernels
}  // namespace outpost
