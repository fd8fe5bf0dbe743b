// The kernel interface: how an op implementation plugs into the runtime.
//
// Lifecycle (after tflite-micro): the Interpreter gives each operator `op_data_bytes` of
// persistent arena memory, calls `prepare` once (validate shapes and options against the op's
// contract, precompute into op_data), then calls `eval` on every Invoke. `eval` may assume that
// `prepare` succeeded and must not allocate. `scratch_bytes` is a pure function of the model, so
// the arena a model needs is known before any memory is handed over.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/error_reporter.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

namespace outpost {

// Splits work across threads when the host supplies one; the core never creates threads.
// fn(arg, begin, end) is called for disjoint ranges covering [0, n), at most `threads` of them
// running at once (kernels size per-thread scratch by it); results must not depend on how the
// range is split.
struct Executor {
  void (*parallel_for)(void* self, int64_t n, int64_t grain,
                       void (*fn)(void* arg, int64_t begin, int64_t end), void* arg) = nullptr;
  void* self = nullptr;
  int threads = 1;

  void ParallelFor(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t),
                   void* arg) const {
    if (parallel_for == nullptr || threads <= 1 || n <= grain) {
      if (n > 0) fn(arg, 0, n);
      return;
    }
    parallel_for(self, n, grain, fn, arg);
  }
};

class KernelContext {
 public:
  KernelContext(const opm::Operator* op, TensorView* tensors, void* op_data, void* scratch,
                size_t scratch_bytes, const Executor* executor, ErrorReporter* errors,
                void* packed = nullptr, size_t packed_bytes = 0, bool packed_in_model = false)
      : op_(op),
        tensors_(tensors),
        op_data_(op_data),
        packed_(packed),
        packed_bytes_(packed_bytes),
        scratch_(scratch),
        scratch_bytes_(scratch_bytes),
        executor_(executor),
        errors_(errors),
        packed_in_model_(packed_in_model) {}

  int num_inputs() const { return static_cast<int>(op_->inputs()->size()); }
  int num_outputs() const { return static_cast<int>(op_->outputs()->size()); }
  // Optional inputs are absent when the model stores -1.
  bool has_input(int i) const { return i < num_inputs() && op_->inputs()->Get(i) >= 0; }
  const TensorView& input(int i) const { return tensors_[op_->inputs()->Get(i)]; }
  TensorView& output(int i) const { return tensors_[op_->outputs()->Get(i)]; }

  template <typename T>
  const T* options() const {
    return op_->options_as<T>();
  }
  const opm::Operator& op() const { return *op_; }
  template <typename T>
  T* op_data() const {
    return static_cast<T*>(op_data_);
  }
  // Persistent per-operator memory sized by the kernel's packed_bytes(model, op): weights
  // re-laid out once in prepare for the kernel's inner loop. 64-byte aligned; null when the
  // kernel asked for none.
  void* packed() const { return packed_; }
  size_t packed_bytes() const { return packed_bytes_; }
  // True when packed() is the model's own cached copy of this kernel's packed layout (read
  // in place from the model, possibly read-only memory): prepare must validate as usual but
  // write nothing there, and packed_bytes() is exactly what packed_bytes(model, op) returns.
  bool packed_in_model() const { return packed_in_model_; }
  void* scratch() const { return scratch_; }
  size_t scratch_bytes() const { return scratch_bytes_; }
  const Executor& executor() const { return *executor_; }
  ErrorReporter& errors() const { return *errors_; }

 private:
  const opm::Operator* op_;
  TensorView* tensors_;
  void* op_data_;
  void* packed_;
  size_t packed_bytes_;
  void* scratch_;
  size_t scratch_bytes_;
  const Executor* executor_;
  ErrorReporter* errors_;
  bool packed_in_model_;
};

class Model;

// Which implementation family a kernel belongs to. Optimized kernels are tested against the
// reference kernel of the same op and dtype, which is the specification.
enum class KernelFamily : uint8_t { kReference = 0, kX86 = 1, kArm = 2, kXnnpack = 3 };

struct KernelRegistration {
  OpCode op;
  DType dtype;            // dtype of the op's first input
  KernelFamily family;
  const char* name;       // e.g. "conv2d_f32_ref"; shown by profiles
  size_t op_data_bytes;   // persistent per-operator state
  // Scratch memory needed during eval (shared by all ops). May be null (no scratch).
  size_t (*scratch_bytes)(const Model& model, const opm::Operator& op);
  Status (*prepare)(KernelContext& ctx);
  Status (*eval)(KernelContext& ctx);
  // CPU feature bits this kernel needs (runtime/cpu_features.h); 0 for portable code.
  uint32_t required_cpu_features;
  // Persistent memory for pre-packed weights, a pure function of the model like scratch_bytes
  // (so Measure knows it); given to prepare and eval as KernelContext::packed(). May be null.
  size_t (*packed_bytes)(const Model& model, const opm::Operator& op);
  // Identity of the packed layout this kernel's prepare writes: kernel family, instruction
  // set, tile sizes and a layout version, e.g. "f32-panels/avx512/mr8/kc256/v1". A model may
  // carry that layout precomputed (Operator.packed); the interpreter then hands it to prepare
  // in place of arena memory. Any change to what prepare writes must change this string.
  // Null: the layout is never taken from a model.
  const char* packed_layout = nullptr;
  // Whether this kernel reads operator `op`'s weights (input 1), when the model stores them
  // sparse, in that stored form in place (TensorView::sparse) rather than decoded into the
  // arena. The interpreter then decodes them only if another kernel reads them too. Null:
  // never.
  bool (*reads_sparse_weights)(const Model& model, const opm::Operator& op) = nullptr;
};

}  // namespace outpost
