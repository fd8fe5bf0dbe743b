#include "io/host_tensor.h"

#include <cctype>
#include <cstring>
#include <stdexcept>

#include "common/expected.h"

namespace outpost::io {
namespace {

template <typename Int>
std::string JoinShape(std::span<const Int> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <typename From>
void ConvertValues(const HostTensor& in, float* out) {
  const auto v = in.values<From>();
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i]);
}

}  // namespace

size_t ElementSize(ElementType t) {
  switch (t) {
    case ElementType::kFloat32:
      return 4;
    case ElementType::kFloat64:
      return 8;
    case ElementType::kInt8:
      return 1;
    case ElementType::kUint8:
      return 1;
    case ElementType::kInt16:
      return 2;
    case ElementType::kInt32:
      return 4;
    case ElementType::kInt64:
      return 8;
    case ElementType::kBool:
      return 1;
  }
  return 0;
}

const char* ElementTypeName(ElementType t) {
  switch (t) {
    case ElementType::kFloat32:
      return "float32";
    case ElementType::kFloat64:
      return "float64";
    case ElementType::kInt8:
      return "int8";
    case ElementType::kUint8:
      return "uint8";
    case ElementType::kInt16:
      return "int16";
    case ElementType::kInt32:
      return "int32";
    case ElementType::kInt64:
      return "int64";
    case ElementType::kBool:
      return "bool";
  }
  return "unknown";
}

ElementType FromModelDType(opm::DType t) {
  switch (t) {
    case opm::DType::FLOAT32:
      return ElementType::kFloat32;
    case opm::DType::INT8:
      return ElementType::kInt8;
    case opm::DType::UINT8:
      return ElementType::kUint8;
    case opm::DType::INT16:
      return ElementType::kInt16;
    case opm::DType::INT32:
      return ElementType::kInt32;
    case opm::DType::INT64:
      return ElementType::kInt64;
    case opm::DType::BOOL:
      return ElementType::kBool;
    case opm::DType::FLOAT16:
      break;  // constants only: never a model input or output
  }
  throw Error("unknown model dtype " + std::to_string(static_cast<int>(t)));
}

std::optional<opm::DType> ToModelDType(ElementType t) {
  switch (t) {
    case ElementType::kFloat32:
      return opm::DType::FLOAT32;
    case ElementType::kFloat64:
      return std::nullopt;
    case ElementType::kInt8:
      return opm::DType::INT8;
    case ElementType::kUint8:
      return opm::DType::UINT8;
    case ElementType::kInt16:
      return opm::DType::INT16;
    case ElementType::kInt32:
      return opm::DType::INT32;
    case ElementType::kInt64:
      return opm::DType::INT64;
    case ElementType::kBool:
      return opm::DType::BOOL;
  }
  return std::nullopt;
}

std::string ModelDTypeName(opm::DType t) {
  const char* name = opm::EnumNameDType(t);
  std::string s = (name != nullptr && *name != '\0') ? name : "unknown";
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ShapeString(std::span<const int64_t> shape) { return JoinShape(shape); }
std::string ShapeString(std::span<const int32_t> shape) { return JoinShape(shape); }

int64_t HostTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

HostTensor HostTensor::Float32(std::vector<int64_t> shape, std::span<const float> values) {
  HostTensor t;
  t.type = ElementType::kFloat32;
  t.shape = std::move(shape);
  if (t.num_elements() != static_cast<int64_t>(values.size()))
    throw Error("HostTensor::Float32: " + std::to_string(values.size()) + " values for shape " +
                ShapeString(t.shape));
  t.bytes.resize(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

HostTensor HostTensor::Zeros(ElementType type, std::vector<int64_t> shape) {
  HostTensor t;
  t.type = type;
  t.shape = std::move(shape);
  t.bytes.assign(static_cast<size_t>(t.num_elements()) * ElementSize(type), 0);
  return t;
}

HostTensor ToFloat32(const HostTensor& in) {
  if (in.type == ElementType::kFloat32) return in;
  HostTensor out = HostTensor::Zeros(ElementType::kFloat32, in.shape);
  float* dst = out.mutable_values<float>().data();
  switch (in.type) {
    case ElementType::kFloat32:
      break;
    case ElementType::kFloat64:
      ConvertValues<double>(in, dst);
      break;
    case ElementType::kInt8:
      ConvertValues<int8_t>(in, dst);
      break;
    case ElementType::kUint8:
      ConvertValues<uint8_t>(in, dst);
      break;
    case ElementType::kInt16:
      ConvertValues<int16_t>(in, dst);
      break;
    case ElementType::kInt32:
      ConvertValues<int32_t>(in, dst);
      break;
    case ElementType::kInt64:
      ConvertValues<int64_t>(in, dst);
      break;
    case ElementType::kBool:
      ConvertValues<uint8_t>(in, dst);
      break;
  }
  return out;
}

}  // namespace outpost::io
