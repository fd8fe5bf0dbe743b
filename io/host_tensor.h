// A dense, row-major tensor in host memory: what .npy files hold and what the CLI feeds to and
// reads from a model. Element types cover NumPy's common ones, a superset of the model dtypes
// (float64 exists here so that a NumPy default array can be read before it is narrowed).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "opm_generated.h"

namespace outpost::io {

enum class ElementType : uint8_t {
  kFloat32,
  kFloat64,
  kInt8,
  kUint8,
  kInt16,
  kInt32,
  kInt64,
  kBool,
};

size_t ElementSize(ElementType t);
// Lower-case NumPy-style name: "float32", "int8", ...
const char* ElementTypeName(ElementType t);

// The host element type of a model dtype, and back (no model dtype for float64).
ElementType FromModelDType(opm::DType t);
std::optional<opm::DType> ToModelDType(ElementType t);
// Lower-case name of a model dtype, matching ElementTypeName.
std::string ModelDTypeName(opm::DType t);

// "[1,3,224,224]"; "[]" for a scalar.
std::string ShapeString(std::span<const int64_t> shape);
std::string ShapeString(std::span<const int32_t> shape);

struct HostTensor {
  ElementType type = ElementType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // little-endian, dense row-major; malloc-aligned

  int64_t num_elements() const;

  template <typename T>
  std::span<const T> values() const {
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  template <typename T>
  std::span<T> mutable_values() {
    return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
  }

  // A float32 tensor holding a copy of `values` (which must match the shape's element count).
  static HostTensor Float32(std::vector<int64_t> shape, std::span<const float> values);
  // A zero-filled tensor.
  static HostTensor Zeros(ElementType type, std::vector<int64_t> shape);
};

// Converts any numeric tensor to float32 (float64 is narrowed, integers are converted exactly
// where float32 can hold them).
HostTensor ToFloat32(const HostTensor& t);

}  // namespace outpost::io
