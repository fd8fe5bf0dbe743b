#include "compiler/import/host_eval.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "common/expected.h"
#include "runtime/fp16.h"

namespace outpost::import::host {
namespace {

using ir::DType;
using ir::OpCode;

std::vector<int64_t> RowMajorStrides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// Calls f(flat output index, multi-index) for every element of `shape`, in row-major order.
template <typename F>
void ForEachIndex(const Shape& shape, F f) {
  const int64_t n = ir::NumElements(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t e = 0; e < n; ++e) {
    f(e, idx);
    for (int k = static_cast<int>(shape.size()) - 1; k >= 0; --k) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

ir::Tensor Empty(DType dt, Shape shape) {
  ir::Tensor t;
  t.dtype = dt;
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(t.bytes());
  return t;
}

template <typename T>
void Store(ir::Tensor& t, size_t i, T v) {
  std::memcpy(t.data.data() + i * sizeof(T), &v, sizeof(T));
}

template <typename T>
T Load(const ir::Tensor& t, size_t i) {
  T v;
  std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

// Truncates toward zero; NaN and out-of-range values (undefined in ONNX) become 0 or saturate
// instead of invoking undefined behaviour.
int64_t TruncToInt(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

Shape Broadcast(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error("shapes " + ir::ShapeString(a) + " and " + ir::ShapeString(b) +
                  " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace

std::vector<int64_t> ToInts(const ir::Tensor& t) {
  const size_t n = static_cast<size_t>(t.num_elements());
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::FLOAT32:
        v[i] = TruncToInt(Load<float>(t, i));
        break;
      case DType::INT8:
        v[i] = Load<int8_t>(t, i);
        break;
      case DType::UINT8:
        v[i] = Load<uint8_t>(t, i);
        break;
      case DType::INT16:
        v[i] = Load<int16_t>(t, i);
        break;
      case DType::INT32:
        v[i] = Load<int32_t>(t, i);
        break;
      case DType::INT64:
        v[i] = Load<int64_t>(t, i);
        break;
      case DType::BOOL:
        v[i] = Load<uint8_t>(t, i) != 0;
        break;
      case DType::FLOAT16:
        v[i] = TruncToInt(HalfToFloat(Load<uint16_t>(t, i)));
        break;
    }
  }
  return v;
}

std::vector<double> ToDoubles(const ir::Tensor& t) {
  if (t.dtype != DType::FLOAT32) {
    std::vector<int64_t> i = ToInts(t);
    return std::vector<double>(i.begin(), i.end());
  }
  const size_t n = static_cast<size_t>(t.num_elements());
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = Load<float>(t, i);
  return v;
}

ir::Tensor FromInts(DType dt, Shape shape, const std::vector<int64_t>& v) {
  ir::Tensor t = Empty(dt, std::move(shape));
  if (static_cast<int64_t>(v.size()) != t.num_elements())
    throw Error("internal: value count does not match shape " + ir::ShapeString(t.shape));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dt) {
      case DType::FLOAT32:
        Store(t, i, static_cast<float>(v[i]));
        break;
      case DType::INT8:
        Store(t, i, static_cast<int8_t>(v[i]));
        break;
      case DType::UINT8:
        Store(t, i, static_cast<uint8_t>(v[i]));
        break;
      case DType::INT16:
        Store(t, i, static_cast<int16_t>(v[i]));
        break;
      case DType::INT32:
        Store(t, i, static_cast<int32_t>(v[i]));
        break;
      case DType::INT64:
        Store(t, i, v[i]);
        break;
      case DType::BOOL:
        Store(t, i, static_cast<uint8_t>(v[i] != 0));
        break;
      case DType::FLOAT16:
        Store(t, i, FloatToHalf(static_cast<float>(v[i])));
        break;
    }
  }
  return t;
}

ir::Tensor FromDoubles(DType dt, Shape shape, const std::vector<double>& v) {
  if (dt != DType::FLOAT32) {
    std::vector<int64_t> ints(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      ints[i] = dt == DType::BOOL ? (v[i] != 0.0) : TruncToInt(v[i]);
    return FromInts(dt, std::move(shape), ints);
  }
  ir::Tensor t = Empty(dt, std::move(shape));
  if (static_cast<int64_t>(v.size()) != t.num_elements())
    throw Error("internal: value count does not match shape " + ir::ShapeString(t.shape));
  for (size_t i = 0; i < v.size(); ++i) Store(t, i, static_cast<float>(v[i]));
  return t;
}

std::vector<int64_t> BroadcastIndex(const Shape& in, const Shape& out) {
  const size_t lead = out.size() - in.size();
  const std::vector<int64_t> in_strides = RowMajorStrides(in);
  std::vector<int64_t> index(static_cast<size_t>(ir::NumElements(out)));
  ForEachIndex(out, [&](int64_t e, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (size_t k = 0; k < in.size(); ++k)
      if (in[k] != 1) src += idx[k + lead] * in_strides[k];
    index[e] = src;
  });
  return index;
}

ir::Tensor Take(const ir::Tensor& src, Shape shape, const std::vector<int64_t>& index) {
  ir::Tensor t = Empty(src.dtype, std::move(shape));
  const size_t es = ir::DTypeBytes(src.dtype);
  for (size_t e = 0; e < index.size(); ++e)
    std::memcpy(t.data.data() + e * es, src.data.data() + index[e] * es, es);
  return t;
}

ir::Tensor Binary(OpCode op, const ir::Tensor& a, const ir::Tensor& b) {
  if (a.dtype != b.dtype)
    throw Error(std::string("operands have different dtypes ") + opm::EnumNameDType(a.dtype) +
                " and " + opm::EnumNameDType(b.dtype));
  if (a.dtype == DType::BOOL) throw Error("arithmetic on BOOL tensors");
  const Shape out = Broadcast(a.shape, b.shape);
  const std::vector<int64_t> ia = BroadcastIndex(a.shape, out);
  const std::vector<int64_t> ib = BroadcastIndex(b.shape, out);
  if (a.dtype == DType::FLOAT32) {
    const std::vector<double> va = ToDoubles(a), vb = ToDoubles(b);
    std::vector<double> r(ia.size());
    for (size_t e = 0; e < r.size(); ++e) {
      const double x = va[ia[e]], y = vb[ib[e]];
      switch (op) {
        case OpCode::ADD:
          r[e] = x + y;
          break;
        case OpCode::SUB:
          r[e] = x - y;
          break;
        case OpCode::MUL:
          r[e] = x * y;
          break;
        default:
          r[e] = x / y;
          break;
      }
    }
    return FromDoubles(a.dtype, out, r);
  }
  const std::vector<int64_t> va = ToInts(a), vb = ToInts(b);
  std::vector<int64_t> r(ia.size());
  for (size_t e = 0; e < r.size(); ++e) {
    // Unsigned wrap-around arithmetic: overflow is defined, results are cast to the dtype.
    const uint64_t x = static_cast<uint64_t>(va[ia[e]]), y = static_cast<uint64_t>(vb[ib[e]]);
    switch (op) {
      case OpCode::ADD:
        r[e] = static_cast<int64_t>(x + y);
        break;
      case OpCode::SUB:
        r[e] = static_cast<int64_t>(x - y);
        break;
      case OpCode::MUL:
        r[e] = static_cast<int64_t>(x * y);
        break;
      default:
        if (vb[ib[e]] == 0) throw Error("integer division by zero in a constant expression");
        r[e] = va[ia[e]] / vb[ib[e]];
        break;
    }
  }
  return FromInts(a.dtype, out, r);
}

ir::Tensor Equal(const ir::Tensor& a, const ir::Tensor& b) {
  const Shape out = Broadcast(a.shape, b.shape);
  const std::vector<int64_t> ia = BroadcastIndex(a.shape, out);
  const std::vector<int64_t> ib = BroadcastIndex(b.shape, out);
  std::vector<int64_t> r(ia.size());
  if (a.dtype == DType::FLOAT32 || b.dtype == DType::FLOAT32) {
    const std::vector<double> va = ToDoubles(a), vb = ToDoubles(b);
    for (size_t e = 0; e < r.size(); ++e) r[e] = va[ia[e]] == vb[ib[e]];
  } else {
    const std::vector<int64_t> va = ToInts(a), vb = ToInts(b);
    for (size_t e = 0; e < r.size(); ++e) r[e] = va[ia[e]] == vb[ib[e]];
  }
  return FromInts(DType::BOOL, out, r);
}

ir::Tensor Where(const ir::Tensor& cond, const ir::Tensor& x, const ir::Tensor& y) {
  if (x.dtype != y.dtype) throw Error("Where: X and Y have different dtypes");
  const Shape out = Broadcast(Broadcast(cond.shape, x.shape), y.shape);
  const std::vector<int64_t> ic = BroadcastIndex(cond.shape, out);
  const std::vector<int64_t> ix = BroadcastIndex(x.shape, out);
  const std::vector<int64_t> iy = BroadcastIndex(y.shape, out);
  const std::vector<int64_t> c = ToInts(cond);
  ir::Tensor t = Empty(x.dtype, out);
  const size_t es = ir::DTypeBytes(x.dtype);
  for (size_t e = 0; e < ic.size(); ++e) {
    const uint8_t* src = c[ic[e]] ? x.data.data() + ix[e] * es : y.data.data() + iy[e] * es;
    std::memcpy(t.data.data() + e * es, src, es);
  }
  return t;
}

ir::Tensor Cast(const ir::Tensor& t, DType to) {
  if (t.dtype == to) return t;
  if (t.dtype == DType::FLOAT32) return FromDoubles(to, t.shape, ToDoubles(t));
  return FromInts(to, t.shape, ToInts(t));
}

ir::Tensor Transpose(const ir::Tensor& t, const std::vector<int>& perm) {
  Shape out(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out[k] = t.shape[perm[k]];
  const std::vector<int64_t> st = RowMajorStrides(t.shape);
  std::vector<int64_t> index(static_cast<size_t>(ir::NumElements(out)));
  ForEachIndex(out, [&](int64_t e, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (size_t k = 0; k < perm.size(); ++k) src += idx[k] * st[perm[k]];
    index[e] = src;
  });
  return Take(t, out, index);
}

ir::Tensor Slice(const ir::Tensor& t, const std::vector<int64_t>& starts,
                 const std::vector<int64_t>& steps, const Shape& out) {
  const std::vector<int64_t> st = RowMajorStrides(t.shape);
  std::vector<int64_t> index(static_cast<size_t>(ir::NumElements(out)));
  ForEachIndex(out, [&](int64_t e, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (size_t k = 0; k < out.size(); ++k) src += (starts[k] + idx[k] * steps[k]) * st[k];
    index[e] = src;
  });
  return Take(t, out, index);
}

ir::Tensor Concat(const std::vector<const ir::Tensor*>& parts, int axis) {
  Shape out = parts.at(0)->shape;
  out[axis] = 0;
  for (const ir::Tensor* p : parts) out[axis] += p->shape[axis];
  ir::Tensor t = Empty(parts[0]->dtype, out);
  int64_t outer = 1;
  for (int k = 0; k < axis; ++k) outer *= out[k];
  uint8_t* dst = t.data.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (const ir::Tensor* p : parts) {
      const size_t chunk = p->data.size() / static_cast<size_t>(outer);
      if (chunk) std::memcpy(dst, p->data.data() + o * chunk, chunk);
      dst += chunk;
    }
  }
  return t;
}

ir::Tensor Gather(const ir::Tensor& data, const std::vector<int64_t>& indices,
                  const Shape& indices_shape, int axis) {
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), indices_shape.begin(), indices_shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < axis; ++k) outer *= data.shape[k];
  for (size_t k = axis + 1; k < data.shape.size(); ++k) inner *= data.shape[k];
  const int64_t dim = data.shape[axis];
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(outer) * indices.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : indices)
      for (int64_t r = 0; r < inner; ++r) index.push_back((o * dim + i) * inner + r);
  return Take(data, out, index);
}

ir::Tensor Expand(const ir::Tensor& t, const Shape& out) {
  return Take(t, out, BroadcastIndex(t.shape, out));
}

bool Fold(const ir::Graph& graph, const ir::Node& node, std::vector<ir::Tensor>* outputs) {
  auto in = [&](size_t i) -> const ir::Tensor& { return graph.tensors[node.inputs.at(i)]; };
  auto result = [&](size_t k, ir::Tensor value) {
    const ir::Tensor& decl = graph.tensors[node.outputs[k]];
    value.name = decl.name;
    value.constant = true;
    if (value.shape != decl.shape || value.dtype != decl.dtype)
      throw Error("internal: folded value of '" + decl.name + "' has shape " +
                  ir::ShapeString(value.shape) + ", expected " + ir::ShapeString(decl.shape));
    outputs->push_back(std::move(value));
  };
  outputs->clear();
  switch (node.op) {
    case OpCode::RESHAPE: {
      ir::Tensor v = in(0);
      v.shape = graph.tensors[node.outputs[0]].shape;
      result(0, std::move(v));
      return true;
    }
    case OpCode::TRANSPOSE: {
      const auto* o = node.options.AsTransposeOptions();
      std::vector<int> perm(o->perm.begin(), o->perm.end());
      result(0, Transpose(in(0), perm));
      return true;
    }
    case OpCode::SLICE: {
      const auto* o = node.options.AsSliceOptions();
      std::vector<int64_t> starts(o->starts.begin(), o->starts.end());
      std::vector<int64_t> steps(o->steps.begin(), o->steps.end());
      result(0, Slice(in(0), starts, steps, graph.tensors[node.outputs[0]].shape));
      return true;
    }
    case OpCode::CONCAT: {
      std::vector<const ir::Tensor*> parts;
      for (size_t i = 0; i < node.inputs.size(); ++i) parts.push_back(&in(i));
      result(0, Concat(parts, node.options.AsConcatOptions()->axis));
      return true;
    }
    case OpCode::SPLIT: {
      const int axis = node.options.AsSplitOptions()->axis;
      const ir::Tensor& x = in(0);
      int64_t offset = 0;
      for (size_t k = 0; k < node.outputs.size(); ++k) {
        const Shape& s = graph.tensors[node.outputs[k]].shape;
        std::vector<int64_t> starts(x.shape.size(), 0), steps(x.shape.size(), 1);
        starts[axis] = offset;
        offset += s[axis];
        result(k, Slice(x, starts, steps, s));
      }
      return true;
    }
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL:
    case OpCode::DIV: {
      const auto* o = node.options.AsBinaryOptions();
      if (o && o->activation != opm::Activation::NONE) return false;
      result(0, Binary(node.op, in(0), in(1)));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace outpost::import::host
