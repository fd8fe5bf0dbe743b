// Builds and runs a model of a single operator: the harness for kernel tests. Constant inputs
// go into the data segment, other operands are planned one after another in the arena.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "opm_generated.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::testing {

struct Operand {
  std::vector<int32_t> shape;
  opm::DType dtype = opm::DType::FLOAT32;
  std::vector<uint8_t> bytes;  // input data (constant or fed at run time); ignored for outputs
  bool constant = false;
  std::vector<float> scale;    // quantization (optional)
  std::vector<int64_t> zero_point;
  int axis = -1;

  static Operand F32(std::vector<int32_t> shape, const std::vector<float>& v, bool constant = false) {
    Operand o;
    o.shape = std::move(shape);
    o.bytes.resize(v.size() * 4);
    std::memcpy(o.bytes.data(), v.data(), o.bytes.size());
    o.constant = constant;
    return o;
  }
  // An operand of any dtype from values of the matching C++ type (int8_t for INT8, ...).
  template <typename T>
  static Operand Of(opm::DType dt, std::vector<int32_t> shape, const std::vector<T>& v,
                    bool constant = false) {
    Operand o;
    o.shape = std::move(shape);
    o.dtype = dt;
    o.bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(o.bytes.data(), v.data(), o.bytes.size());
    o.constant = constant;
    return o;
  }
  // Per-tensor quantization parameters (returns a copy, for chaining).
  Operand Quantized(float s, int64_t zp) const {
    Operand o = *this;
    o.scale = {s};
    o.zero_point = {zp};
    o.axis = -1;
    return o;
  }
  static Operand Out(std::vector<int32_t> shape, opm::DType dt = opm::DType::FLOAT32) {
    Operand o;
    o.shape = std::move(shape);
    o.dtype = dt;
    return o;
  }
  static Operand Absent() {
    Operand o;
    o.shape = {-1};
    return o;
  }
  bool absent() const { return shape.size() == 1 && shape[0] == -1; }
};

class SingleOpModel {
 public:
  // Builds the model file in memory and loads it. Check `status()` / `error()` after.
  // sparse_storage: constants with enough zeros are stored SPARSE_BITMAP, as the compiler's
  // writer does; false keeps every constant plain.
  SingleOpModel(opm::OpCode op, opm::OpOptionsUnion options, std::vector<Operand> inputs,
                std::vector<Operand> outputs, bool sparse_storage = true);

  // Runs prepare (Init) and one Invoke with the non-constant input data given at build time.
  Status Run();

  Status status() const { return status_; }
  std::string error() const { return errors_.message(); }
  std::vector<float> OutputF32(int i) const;
  std::vector<uint8_t> OutputBytes(int i) const;
  // Output `i` as elements of type T (the caller picks the type matching its dtype).
  template <typename T>
  std::vector<T> Output(int i) const {
    const std::vector<uint8_t> b = OutputBytes(i);
    std::vector<T> v(b.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
    return v;
  }
  const TensorView& output(int i) { return interpreter_.output(i); }
  const std::vector<uint8_t>& file() const { return file_; }
  Interpreter& interpreter() { return interpreter_; }

 private:
  std::vector<uint8_t> file_;
  std::unique_ptr<uint8_t[]> aligned_file_;
  Model model_;
  AllOpsResolver resolver_;
  Interpreter interpreter_;
  std::vector<uint8_t> arena_storage_;
  std::vector<Operand> inputs_;
  std::vector<int> input_tensor_of_;  // model input index -> operand index
  ErrorReporter errors_;
  Status status_ = Status::kOk;
};

}  // namespace outpost::testing
