// ONNX TensorProto -> IR constant, and the mapping between ONNX element types and the
// runtime's dtypes.
#include <bit>
#include <cstring>

#include "compiler/import/import_context.h"
#include "onnx/onnx_pb.h"
#include "runtime/fp16.h"

namespace outpost::import {
namespace {

using onnx::TensorProto;

float BFloat16ToFloat(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// Element values of a tensor whose data sits in raw_data (little-endian, as ONNX specifies)
// or in the typed repeated field that ONNX assigns to its type.
template <typename T>
std::vector<T> RawValues(const TensorProto& p, size_t n) {
  std::vector<T> v(n);
  if (p.raw_data().size() != n * sizeof(T))
    throw Error("tensor '" + p.name() + "' has " + std::to_string(p.raw_data().size()) +
                " bytes of raw data, its shape needs " + std::to_string(n * sizeof(T)));
  if (n) std::memcpy(v.data(), p.raw_data().data(), n * sizeof(T));
  return v;
}

template <typename Field>
void CheckCount(const TensorProto& p, const Field& f, size_t n) {
  if (static_cast<size_t>(f.size()) != n)
    throw Error("tensor '" + p.name() + "' has " + std::to_string(f.size()) +
                " values, its shape needs " + std::to_string(n));
}

}  // namespace

void Unsupported(const std::string& what) { throw Error("unsupported " + what); }

std::string OnnxTypeName(int onnx_type) {
  if (onnx::TensorProto_DataType_IsValid(onnx_type))
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(onnx_type));
  return "type " + std::to_string(onnx_type);
}

bool RuntimeDType(int onnx_type, DType* out) {
  switch (onnx_type) {
    case TensorProto::FLOAT:
      *out = DType::FLOAT32;
      return true;
    case TensorProto::INT8:
      *out = DType::INT8;
      return true;
    case TensorProto::UINT8:
      *out = DType::UINT8;
      return true;
    case TensorProto::INT16:
      *out = DType::INT16;
      return true;
    case TensorProto::INT32:
      *out = DType::INT32;
      return true;
    case TensorProto::INT64:
      *out = DType::INT64;
      return true;
    case TensorProto::BOOL:
      *out = DType::BOOL;
      return true;
    default:
      return false;
  }
}

ir::Tensor TensorFromOnnx(const TensorProto& p) {
  if (p.data_location() == TensorProto::EXTERNAL || p.external_data_size() > 0)
    Unsupported("external data: tensor '" + p.name() +
                "' is stored in a separate file; save the model with its weights inside "
                "(onnx.save_model(..., save_as_external_data=False))");
  if (p.has_segment()) Unsupported("segmented tensor '" + p.name() + "'");
  ir::Tensor t;
  t.name = p.name();
  t.constant = true;
  for (int64_t d : p.dims()) {
    if (d < 0) throw Error("tensor '" + p.name() + "' has a negative dimension");
    t.shape.push_back(d);
  }
  const size_t n = static_cast<size_t>(ir::NumElements(t.shape));
  const bool raw = p.has_raw_data();
  const int type = p.data_type();

  auto floats = [&](std::vector<float> v) {
    t.dtype = DType::FLOAT32;
    t.data.resize(v.size() * 4);
    if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
  };
  auto store = [&](DType dt, const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    t.dtype = dt;
    t.data.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
  };
  // Narrows values held in int32_data (INT8, UINT8, INT16, BOOL, FLOAT16, BFLOAT16 all use it).
  auto from_int32_field = [&]<typename T>(T) {
    CheckCount(p, p.int32_data(), n);
    std::vector<T> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(p.int32_data(static_cast<int>(i)));
    return v;
  };

  switch (type) {
    case TensorProto::FLOAT:
      if (raw) {
        floats(RawValues<float>(p, n));
      } else {
        CheckCount(p, p.float_data(), n);
        floats(std::vector<float>(p.float_data().begin(), p.float_data().end()));
      }
      break;
    case TensorProto::DOUBLE: {
      std::vector<double> d;
      if (raw) {
        d = RawValues<double>(p, n);
      } else {
        CheckCount(p, p.double_data(), n);
        d.assign(p.double_data().begin(), p.double_data().end());
      }
      floats(std::vector<float>(d.begin(), d.end()));
      break;
    }
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16: {
      std::vector<uint16_t> h = raw ? RawValues<uint16_t>(p, n) : from_int32_field(uint16_t{});
      std::vector<float> f(n);
      for (size_t i = 0; i < n; ++i)
        f[i] = type == TensorProto::FLOAT16 ? HalfToFloat(h[i]) : BFloat16ToFloat(h[i]);
      floats(std::move(f));
      break;
    }
    case TensorProto::INT8:
      store(DType::INT8, raw ? RawValues<int8_t>(p, n) : from_int32_field(int8_t{}));
      break;
    case TensorProto::UINT8:
      store(DType::UINT8, raw ? RawValues<uint8_t>(p, n) : from_int32_field(uint8_t{}));
      break;
    case TensorProto::INT16:
      store(DType::INT16, raw ? RawValues<int16_t>(p, n) : from_int32_field(int16_t{}));
      break;
    case TensorProto::BOOL: {
      std::vector<uint8_t> v = raw ? RawValues<uint8_t>(p, n) : from_int32_field(uint8_t{});
      for (uint8_t& b : v) b = b != 0;
      store(DType::BOOL, v);
      break;
    }
    case TensorProto::INT32:
      if (raw) {
        store(DType::INT32, RawValues<int32_t>(p, n));
      } else {
        CheckCount(p, p.int32_data(), n);
        store(DType::INT32, std::vector<int32_t>(p.int32_data().begin(), p.int32_data().end()));
      }
      break;
    case TensorProto::INT64:
      if (raw) {
        store(DType::INT64, RawValues<int64_t>(p, n));
      } else {
        CheckCount(p, p.int64_data(), n);
        store(DType::INT64, std::vector<int64_t>(p.int64_data().begin(), p.int64_data().end()));
      }
      break;
    default:
      Unsupported("dtype " + OnnxTypeName(type) + " of tensor '" + p.name() +
                  "' (the runtime has FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL)");
  }
  return t;
}

}  // namespace outpost::import
