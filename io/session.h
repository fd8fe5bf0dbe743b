// A ready-to-run model on the host: resolver with every kernel of this build, one 64-byte
// aligned arena sized exactly by Interpreter::Measure, and the Interpreter. Adds what the host
// wants around the core: checked input/output access by name and dtype, errors with context,
// and optional per-operator timing.
//
//   auto model = io::LoadedModel::Open("m.opm");
//   auto session = io::Session::Create(*model);   // *model must outlive the session
//   (*session)->SetInput(0, tensor);  (*session)->Run();  (*session)->Output(0);
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "common/expected.h"
#include "io/host_tensor.h"
#include "io/model_file.h"
#include "io/preprocess.h"
#include "io/thread_pool.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"

namespace outpost::io {

struct SessionOptions {
  // Threads the kernels may use, the calling thread included: with more than 1 the session
  // owns a ThreadPool (io/thread_pool.h) of threads-1 workers and gives the interpreter its
  // Executor. 0 means one per physical core (PhysicalCoreCount()).
  int threads = 1;
  // Time every operator of every Run (steady_clock around each op's eval).
  bool profile = false;
  // Run the reference kernels only, even where the CPU has optimized ones (for comparisons).
  bool reference_kernels = false;
  // CPU features (runtime/cpu_features.h) the optimized kernels may use, intersected with the
  // detected ones: kCpuX86Avx2Fma alone runs the AVX2 kernels on an AVX-512 CPU.
  uint32_t cpu_feature_mask = ~0u;
};

// The CPU features the kernels may use in this process: `detected`, narrowed by the environment
// (OUTPOST_KERNELS=avx2: no AVX-512; OUTPOST_KERNELS=reference: none, the reference kernels).
// Sessions and the arena size `outpost inspect` reports both go through it, as both depend on
// which kernels run.
uint32_t KernelFeaturesFromEnvironment(uint32_t detected);

// Static facts about one operator plus its time in the last profiled Run.
struct OpProfile {
  int index = 0;
  std::string op;      // opcode, e.g. "CONV_2D"
  std::string name;    // node name
  std::string kernel;  // registered kernel, e.g. "conv2d_f32_ref"
  std::vector<int32_t> output_shape;
  uint64_t macs = 0;
  int64_t nanos = 0;
};

class Session {
 public:
  static Expected<std::unique_ptr<Session>> Create(const LoadedModel& model,
                                                   const SessionOptions& options = {});

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  const LoadedModel& model() const { return model_; }
  int num_inputs() const { return interpreter_.num_inputs(); }
  int num_outputs() const { return interpreter_.num_outputs(); }
  std::string input_name(int i) const;
  std::string output_name(int i) const;
  // Index of the input/output called `name`, or -1.
  int FindInput(const std::string& name) const;
  int FindOutput(const std::string& name) const;
  std::vector<int64_t> input_shape(int i) const;
  std::vector<int64_t> output_shape(int i) const;
  DType input_dtype(int i) const;
  DType output_dtype(int i) const;
  // "input 'x' [1,1,28,28] float32"
  std::string DescribeInput(int i) const;

  // Raw views into the arena (valid while the session lives).
  TensorView& input(int i) { return interpreter_.input(i); }
  const TensorView& output(int i) { return interpreter_.output(i); }

  // Error unless `t` has exactly the shape and dtype input `i` expects, e.g.
  // "input 'x' expects [1,1,28,28] float32, got [1,28,28] float32".
  Expected<Unit> CheckInput(int i, const HostTensor& t) const;
  // CheckInput, then copies `t` into the arena.
  Expected<Unit> SetInput(int i, const HostTensor& t);
  // Copies float values into input `i`: as-is for float32 inputs, quantized with the tensor's
  // per-tensor scale/zero point for int8/uint8 inputs. The count must match.
  Expected<Unit> SetInputFromFloat(int i, std::span<const float> values);
  // Preprocesses `image` with `plan` straight into input `i`: a float32 input is written in
  // place, a per-tensor int8/uint8 input is quantized in the same pass (the bytes
  // SetInputFromFloat would write). When `keep_floats` is not empty (a post-processor reads the
  // model's input) the float values are written there first and then set as SetInputFromFloat.
  Expected<Unit> SetInputFromImage(int i, const ImageView& image, const PreprocessPlan& plan,
                                   std::span<float> keep_floats = {});
  // Typed views of the arena data of input/output `i` (no copy); Error when T is not the
  // tensor's dtype, e.g. InputData<float>(0) on an int8 input.
  template <typename T>
  Expected<std::span<T>> InputData(int i) {
    Expected<TensorView*> v = CheckedView(/*input=*/true, i, DTypeOf<T>());
    if (!v) return v.error();
    return std::span<T>((*v)->as<T>(), static_cast<size_t>((*v)->num_elements()));
  }
  template <typename T>
  Expected<std::span<const T>> OutputData(int i) {
    Expected<TensorView*> v = CheckedView(/*input=*/false, i, DTypeOf<T>());
    if (!v) return v.error();
    return std::span<const T>((*v)->as<T>(), static_cast<size_t>((*v)->num_elements()));
  }

  Expected<Unit> Run();
  // Copies of output `i`: as stored, and converted to float (dequantized when quantized).
  HostTensor Output(int i);
  std::vector<float> OutputAsFloat(int i);
  // The same into `out`, reusing its storage (a loop that keeps `out` allocates once).
  void OutputAsFloat(int i, std::vector<float>& out);

  bool has_self_test() const { return model_.fb().self_test() != nullptr; }
  // Runs the model's embedded golden input and compares with the golden output.
  Expected<Unit> RunSelfTest();

  void set_profiling(bool on) { profile_ = on; }
  // Per-operator facts; `nanos` holds the times of the last profiled Run.
  const std::vector<OpProfile>& op_profiles() const { return profiles_; }

  const ArenaRequirement& arena() const { return interpreter_.requirement(); }
  // As asked (0 = one per physical core), and the threads the kernels' Executor offers.
  // Whether a kernel splits its work is up to the kernel: reference kernels run serially.
  int threads_requested() const { return threads_requested_; }
  int threads_used() const { return pool_ ? pool_->threads() : 1; }

 private:
  template <typename T>
  static constexpr DType DTypeOf() {
    if constexpr (std::is_same_v<T, float>) return DType::FLOAT32;
    if constexpr (std::is_same_v<T, int8_t>) return DType::INT8;
    if constexpr (std::is_same_v<T, uint8_t>) return DType::UINT8;
    if constexpr (std::is_same_v<T, int16_t>) return DType::INT16;
    if constexpr (std::is_same_v<T, int32_t>) return DType::INT32;
    if constexpr (std::is_same_v<T, int64_t>) return DType::INT64;
    static_assert(std::is_arithmetic_v<T>, "no model dtype for this type");
    return DType::FLOAT32;
  }

  Session(const LoadedModel& model, const SessionOptions& options);
  Expected<TensorView*> CheckedView(bool input, int i, DType want);
  Expected<Unit> Init();
  std::string FailedOpContext() const;
  static void OnBegin(void* self, int op);
  static void OnEnd(void* self, int op);

  const LoadedModel& model_;
  AllOpsResolver resolver_;
  Interpreter interpreter_;
  ErrorReporter errors_;
  OpObserver observer_;
  uint8_t* arena_ = nullptr;
  std::vector<OpProfile> profiles_;
  int64_t op_start_ = 0;
  int current_op_ = -1;
  bool profile_ = false;
  int threads_requested_ = 1;
  bool reference_kernels_ = false;
  uint32_t cpu_feature_mask_ = ~0u;
  std::unique_ptr<ThreadPool> pool_;  // null when single-threaded
};

}  // namespace outpost::io
