// Runs a verified Model inside one caller-owned arena.
//
//   outpost::Model model;           model.Load(bytes, size, &errors);
//   outpost::Interpreter interp;    interp.Init(model, resolver, arena, arena_size, &errors);
//   memcpy(interp.input(0).data, ...);  interp.Invoke();  interp.output(0).data ...
//
// Arena layout, from its (64-byte aligned) start:
//   [activations: the model's memory plan][scratch: max over ops][packed weights]
//   [decoded sparse constants][tensor views][op state]
// Init never allocates; Invoke never allocates and never fails on a model that passed Init,
// except when a kernel reports an error in the data itself.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/error_reporter.h"
#include "runtime/kernel.h"
#include "runtime/model.h"
#include "runtime/op_resolver.h"
#include "runtime/status.h"

namespace outpost {

// What an arena must hold for a model with a given resolver.
struct ArenaRequirement {
  size_t activation_bytes = 0;  // the model's memory plan
  size_t scratch_bytes = 0;     // the largest scratch any kernel asks for
  size_t packed_bytes = 0;      // weights re-laid out by optimized kernels (64-byte blocks)
  size_t decoded_bytes = 0;     // sparse-stored constants, decoded (64-byte blocks)
  size_t state_bytes = 0;       // tensor views, per-op records and kernel state
  size_t total_bytes = 0;       // everything, including alignment padding
};

// Optional per-op timing hook: called around every operator's eval.
struct OpObserver {
  void (*begin)(void* user, int op_index) = nullptr;
  void (*end)(void* user, int op_index) = nullptr;
  void* user = nullptr;
};

class Interpreter {
 public:
  static constexpr size_t kArenaAlignment = 64;
  static constexpr size_t kStateAlignment = 16;

  Interpreter() = default;
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Exact arena needed to run `model` with the kernels `resolver` picks on this CPU.
  static Status Measure(const Model& model, const OpResolver& resolver, ArenaRequirement* out,
                        ErrorReporter* errors = nullptr);

  // The tensor views and operator records of a model with `num_tensors` tensors and `num_ops`
  // operators: the part of ArenaRequirement::state_bytes that depends on the target's pointer
  // size. Everything else in the arena is a function of the model and the kernels alone, so a
  // host can size a device's arena as (its own Measure minus its own BookkeepingBytes) plus this
  // figure evaluated by the device's compiler (`outpost export-c` does so).
  static constexpr size_t BookkeepingBytes(size_t num_tensors, size_t num_ops) {
    return AlignState(sizeof(TensorView) * num_tensors) + AlignState(sizeof(OpRecord) * num_ops);
  }

  // Binds the model to `arena`, resolves kernels, and runs every kernel's prepare. On
  // kArenaTooSmall, requirement() tells the exact size needed.
  Status Init(const Model& model, const OpResolver& resolver, void* arena, size_t arena_bytes,
              ErrorReporter* errors = nullptr);

  Status Invoke();

  // Runs the model's embedded self-test (golden input -> expected output). kUnsupported when
  // the model carries none; kInternal with a message when an output differs.
  Status RunSelfTest();

  int num_inputs() const;
  int num_outputs() const;
  TensorView& input(int i);
  TensorView& output(int i);
  const TensorView& tensor(int index) const { return tensors_[index]; }
  int num_operators() const { return num_ops_; }
  const KernelRegistration* kernel(int op_index) const { return ops_[op_index].kernel; }
  // The packed weights operator `op_index` runs with (null when its kernel packs none), and
  // whether they are the model's cached copy rather than packed at prepare into the arena.
  const void* packed(int op_index, size_t* bytes) const {
    *bytes = ops_[op_index].packed_bytes;
    return ops_[op_index].packed;
  }
  bool packed_in_model(int op_index) const { return ops_[op_index].packed_in_model; }

  const ArenaRequirement& requirement() const { return requirement_; }
  void set_executor(const Executor* executor) { executor_ = executor ? executor : &serial_; }
  void set_observer(const OpObserver* observer) { observer_ = observer; }
  const char* last_error() const { return errors_->message(); }

 private:
  struct OpRecord {
    const opm::Operator* op;
    const KernelRegistration* kernel;
    void* op_data;
    void* packed;
    size_t packed_bytes;
    bool packed_in_model;  // packed points into the model's cached copy (read only)
  };

  static constexpr size_t AlignState(size_t n) {
    return (n + kStateAlignment - 1) & ~(kStateAlignment - 1);
  }

  const Model* model_ = nullptr;
  TensorView* tensors_ = nullptr;
  OpRecord* ops_ = nullptr;
  int num_ops_ = 0;
  uint8_t* scratch_ = nullptr;
  ArenaRequirement requirement_;
  Executor serial_;
  const Executor* executor_ = &serial_;
  const OpObserver* observer_ = nullptr;
  ErrorReporter own_errors_;
  ErrorReporter* errors_ = &own_errors_;
  bool ready_ = false;
};

}  // namespace outpost
