#include "io/session.h"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "io/op_info.h"
#include "runtime/cpu_features.h"
#include "runtime/fp16.h"

namespace outpost::io {
namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<int64_t> ShapeOf(const TensorView& v) { return {v.dims, v.dims + v.rank}; }

// The quantized inputs float data can be written to: one scale and zero point for the tensor.
bool PerTensorQuantized(const TensorView& v) {
  return v.quant.present() && v.quant.axis < 0 && v.quant.scale[0] > 0 &&
         (v.dtype == DType::INT8 || v.dtype == DType::UINT8);
}

template <typename Q>
void Quantize(std::span<const float> in, const QuantParams& q, Q* out) {
  const float inv = 1.0f / q.scale[0];
  const int64_t zp = q.zero_point[0];
  constexpr int64_t lo = std::numeric_limits<Q>::min();
  constexpr int64_t hi = std::numeric_limits<Q>::max();
  for (size_t k = 0; k < in.size(); ++k) {
    int64_t v = static_cast<int64_t>(std::nearbyint(in[k] * inv)) + zp;
    out[k] = static_cast<Q>(v < lo ? lo : (v > hi ? hi : v));
  }
}

template <typename T>
void Dequantize(const TensorView& t, std::vector<float>& out) {
  const T* p = t.as<T>();
  const bool quantized = t.quant.present() && t.quant.axis < 0;
  const float scale = quantized ? t.quant.scale[0] : 1.0f;
  const int64_t zp = quantized ? t.quant.zero_point[0] : 0;
  for (size_t k = 0; k < out.size(); ++k)
    out[k] = scale * static_cast<float>(static_cast<int64_t>(p[k]) - zp);
}

// Faults in, with one system call, the pages of the arena that every kernel's prepare writes
// (packed weights and runtime state, the arena's tail; see runtime/interpreter.h). On a virtual
// machine a page fault costs 10-40 us; populating a range in one call saved about a third of
// that per page here (64 fresh pages: 0.52-0.64 ms against 0.88 ms touched one by one).
// Activations and scratch are left to fault in at the first run. Best effort: on a kernel
// without MADV_POPULATE_WRITE the call fails and the pages fault in as before.
void PopulatePreparedPages(uint8_t* arena, const ArenaRequirement& need) {
#ifdef MADV_POPULATE_WRITE
  const uintptr_t align = Interpreter::kArenaAlignment;
  const uintptr_t base = (reinterpret_cast<uintptr_t>(arena) + align - 1) & ~(align - 1);
  const uintptr_t start = base + ((need.activation_bytes + align - 1) & ~(align - 1)) +
                          ((need.scratch_bytes + align - 1) & ~(align - 1));
  const uintptr_t end = base + need.total_bytes;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Whole pages inside the block only: the partial pages at either end fault in as usual.
  const uintptr_t first = (start + page - 1) & ~(page - 1), last = end & ~(page - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
#else
  (void)arena;
  (void)need;
#endif
}

}  // namespace

Session::Session(const LoadedModel& model, const SessionOptions& options)
    : model_(model),
      profile_(options.profile),
      threads_requested_(options.threads),
      reference_kernels_(options.reference_kernels),
      cpu_feature_mask_(options.cpu_feature_mask) {}

Session::~Session() { std::free(arena_); }

Expected<std::unique_ptr<Session>> Session::Create(const LoadedModel& model,
                                                   const SessionOptions& options) {
  if (options.threads < 0) return Error("threads must be at least 1 (or 0 for one per core)");
  std::unique_ptr<Session> s(new Session(model, options));
  Expected<Unit> init = s->Init();
  if (!init) return init.error();
  return s;
}

uint32_t KernelFeaturesFromEnvironment(uint32_t detected) {
  const char* kernels = std::getenv("OUTPOST_KERNELS");
  if (kernels == nullptr) return detected;
  if (std::strcmp(kernels, "avx2") == 0) return detected & kCpuX86Avx2Fma;
  if (std::strcmp(kernels, "reference") == 0) return 0;
  return detected;
}

Expected<Unit> Session::Init() {
  const std::string& path = model_.path();
  if (RegisterAllKernels(resolver_) != Status::kOk)
    return Error("internal: kernel table larger than the resolver");
  // --kernels reference, or OUTPOST_KERNELS=reference in the environment: the reference kernels
  // only, to compare speed and results; --kernels avx2 (OUTPOST_KERNELS=avx2): no AVX-512, as
  // on a CPU without it.
  resolver_.set_cpu_features(
      KernelFeaturesFromEnvironment(resolver_.cpu_features() & cpu_feature_mask_));
  if (reference_kernels_) resolver_.set_cpu_features(0);
  ArenaRequirement need;
  Status s = Interpreter::Measure(model_.model(), resolver_, &need, &errors_);
  if (s != Status::kOk) return Error(path + ": " + errors_.message());
  // calloc, not aligned_alloc and memset: a large block comes from fresh zero pages that are
  // only faulted in when a kernel first touches them, and a page fault costs 10-40 us on a
  // virtual machine, so zeroing the whole arena here cost milliseconds of cold start.
  // Interpreter::Init aligns the start itself; the extra bytes cover that.
  const size_t bytes = need.total_bytes + Interpreter::kArenaAlignment;
  arena_ = static_cast<uint8_t*>(std::calloc(1, bytes));
  if (arena_ == nullptr)
    return Error(path + ": cannot allocate an arena of " + std::to_string(bytes) + " bytes");
  PopulatePreparedPages(arena_, need);
  // Before Init: kernels may split weight packing in prepare across the pool too.
  const int threads = threads_requested_ == 0 ? PhysicalCoreCount() : threads_requested_;
  if (threads > 1) {
    pool_ = std::make_unique<ThreadPool>(threads);
    interpreter_.set_executor(&pool_->executor());
  }
  s = interpreter_.Init(model_.model(), resolver_, arena_, bytes, &errors_);
  if (s != Status::kOk) return Error(path + ": " + errors_.message());

  observer_.begin = &Session::OnBegin;
  observer_.end = &Session::OnEnd;
  observer_.user = this;
  interpreter_.set_observer(&observer_);

  profiles_.resize(interpreter_.num_operators());
  for (int i = 0; i < interpreter_.num_operators(); ++i) {
    const OpInfo info = DescribeOperator(model_.model(), i);
    OpProfile& p = profiles_[i];
    p.index = i;
    p.op = info.op;
    p.name = info.name;
    p.kernel = interpreter_.kernel(i)->name != nullptr ? interpreter_.kernel(i)->name : "?";
    p.output_shape = TensorShape(model_.model(), info.outputs[0]);
    p.macs = info.macs;
  }
  return Unit{};
}

// The observer always tracks the running operator, so a failing kernel can be named; timing
// costs two clock reads per op and only happens when profiling.
void Session::OnBegin(void* self, int op) {
  auto* s = static_cast<Session*>(self);
  s->current_op_ = op;
  if (s->profile_) s->op_start_ = NowNanos();
}

void Session::OnEnd(void* self, int op) {
  auto* s = static_cast<Session*>(self);
  if (s->profile_) s->profiles_[op].nanos = NowNanos() - s->op_start_;
}

std::string Session::input_name(int i) const {
  return model_.TensorName(model_.model().input_tensor(i));
}
std::string Session::output_name(int i) const {
  return model_.TensorName(model_.model().output_tensor(i));
}

int Session::FindInput(const std::string& name) const {
  for (int i = 0; i < num_inputs(); ++i)
    if (input_name(i) == name) return i;
  return -1;
}

int Session::FindOutput(const std::string& name) const {
  for (int i = 0; i < num_outputs(); ++i)
    if (output_name(i) == name) return i;
  return -1;
}

std::vector<int64_t> Session::input_shape(int i) const {
  const std::vector<int32_t> s = TensorShape(model_.model(), model_.model().input_tensor(i));
  return {s.begin(), s.end()};
}

std::vector<int64_t> Session::output_shape(int i) const {
  const std::vector<int32_t> s = TensorShape(model_.model(), model_.model().output_tensor(i));
  return {s.begin(), s.end()};
}

DType Session::input_dtype(int i) const {
  return model_.fb().tensors()->Get(model_.model().input_tensor(i))->dtype();
}

DType Session::output_dtype(int i) const {
  return model_.fb().tensors()->Get(model_.model().output_tensor(i))->dtype();
}

std::string Session::DescribeInput(int i) const {
  return "input '" + input_name(i) + "' " + ShapeString(input_shape(i)) + " " +
         ModelDTypeName(input_dtype(i));
}

Expected<Unit> Session::CheckInput(int i, const HostTensor& t) const {
  if (i < 0 || i >= num_inputs())
    return Error("model has " + std::to_string(num_inputs()) + " input(s), no input " +
                 std::to_string(i));
  const std::vector<int64_t> want = input_shape(i);
  const DType dtype = input_dtype(i);
  if (t.shape != want || ToModelDType(t.type) != dtype) {
    std::string msg = "input '" + input_name(i) + "' expects " + ShapeString(want) + " " +
                      ModelDTypeName(dtype) + ", got " + ShapeString(t.shape) + " " +
                      ElementTypeName(t.type);
    int64_t want_elements = 1;
    for (int64_t d : want) want_elements *= d;
    if (t.shape != want && t.num_elements() == want_elements)
      msg += " (same number of elements: reshape the data to the model's shape)";
    return Error(msg);
  }
  if (t.bytes.size() != static_cast<size_t>(t.num_elements()) * ElementSize(t.type))
    return Error("input '" + input_name(i) + "': data is " + std::to_string(t.bytes.size()) +
                 " bytes, its shape needs " +
                 std::to_string(static_cast<size_t>(t.num_elements()) * ElementSize(t.type)));
  return Unit{};
}

Expected<Unit> Session::SetInput(int i, const HostTensor& t) {
  Expected<Unit> ok = CheckInput(i, t);
  if (!ok) return ok;
  std::memcpy(interpreter_.input(i).data, t.bytes.data(), t.bytes.size());
  return Unit{};
}

Expected<Unit> Session::SetInputFromFloat(int i, std::span<const float> values) {
  if (i < 0 || i >= num_inputs()) return Error("no input " + std::to_string(i));
  TensorView& v = interpreter_.input(i);
  if (static_cast<int64_t>(values.size()) != v.num_elements())
    return Error(DescribeInput(i) + " takes " + std::to_string(v.num_elements()) + " values, got " +
                 std::to_string(values.size()));
  if (v.dtype == DType::FLOAT32) {
    std::memcpy(v.data, values.data(), values.size_bytes());
    return Unit{};
  }
  if (!PerTensorQuantized(v)) return Error(DescribeInput(i) + ": cannot feed float data to this input");
  if (v.dtype == DType::INT8)
    Quantize(values, v.quant, v.as<int8_t>());
  else
    Quantize(values, v.quant, v.as<uint8_t>());
  return Unit{};
}

Expected<Unit> Session::SetInputFromImage(int i, const ImageView& image, const PreprocessPlan& plan,
                                          std::span<float> keep_floats) {
  if (i < 0 || i >= num_inputs()) return Error("no input " + std::to_string(i));
  TensorView& v = interpreter_.input(i);
  if (static_cast<int64_t>(plan.num_values()) != v.num_elements())
    return Error(DescribeInput(i) + " takes " + std::to_string(v.num_elements()) +
                 " values, the preprocessing plan gives " + std::to_string(plan.num_values()));
  if (!keep_floats.empty()) {
    if (keep_floats.size() != plan.num_values())
      return Error("the float buffer holds " + std::to_string(keep_floats.size()) + " values, not " +
                   std::to_string(plan.num_values()));
    Preprocess(image, plan, keep_floats.data());
    return SetInputFromFloat(i, keep_floats);
  }
  if (v.dtype == DType::FLOAT32) {
    Preprocess(image, plan, v.as<float>());
    return Unit{};
  }
  if (!PerTensorQuantized(v)) return Error(DescribeInput(i) + ": cannot feed an image to this input");
  const float scale = v.quant.scale[0];
  const int32_t zero_point = static_cast<int32_t>(v.quant.zp(0));
  if (v.dtype == DType::INT8)
    PreprocessQuantized(image, plan, scale, zero_point, v.as<int8_t>());
  else
    PreprocessQuantized(image, plan, scale, zero_point, v.as<uint8_t>());
  return Unit{};
}

Expected<TensorView*> Session::CheckedView(bool input, int i, DType want) {
  const int n = input ? num_inputs() : num_outputs();
  const char* kind = input ? "input" : "output";
  if (i < 0 || i >= n)
    return Error(std::string("model has ") + std::to_string(n) + " " + kind + "(s), no " + kind +
                 " " + std::to_string(i));
  TensorView& v = input ? interpreter_.input(i) : interpreter_.output(i);
  if (v.dtype != want)
    return Error(std::string(kind) + " '" + (input ? input_name(i) : output_name(i)) + "' is " +
                 ModelDTypeName(v.dtype) + ", not " + ModelDTypeName(want));
  return &v;
}

std::string Session::FailedOpContext() const {
  if (current_op_ < 0 || current_op_ >= static_cast<int>(profiles_.size())) return "";
  const OpProfile& p = profiles_[current_op_];
  std::string s = "operator " + std::to_string(p.index);
  if (!p.name.empty()) s += " '" + p.name + "'";
  return s + " (" + p.op + ", " + p.kernel + "): ";
}

Expected<Unit> Session::Run() {
  current_op_ = -1;
  errors_.Clear();
  if (pool_) pool_->RunBegin();
  const Status s = interpreter_.Invoke();
  if (pool_) pool_->RunEnd();
  if (s != Status::kOk) {
    const char* why = errors_.message()[0] != '\0' ? errors_.message() : StatusName(s);
    return Error(model_.path() + ": inference failed: " + FailedOpContext() + why);
  }
  return Unit{};
}

HostTensor Session::Output(int i) {
  const TensorView& v = interpreter_.output(i);
  HostTensor t;
  t.type = FromModelDType(v.dtype);
  t.shape = ShapeOf(v);
  t.bytes.assign(static_cast<const uint8_t*>(v.data),
                 static_cast<const uint8_t*>(v.data) + v.bytes);
  return t;
}

std::vector<float> Session::OutputAsFloat(int i) {
  std::vector<float> out;
  OutputAsFloat(i, out);
  return out;
}

void Session::OutputAsFloat(int i, std::vector<float>& out) {
  const TensorView& v = interpreter_.output(i);
  out.resize(static_cast<size_t>(v.num_elements()));
  switch (v.dtype) {
    case DType::FLOAT32:
      std::memcpy(out.data(), v.data, out.size() * 4);
      break;
    case DType::INT8:
      Dequantize<int8_t>(v, out);
      break;
    case DType::UINT8:
      Dequantize<uint8_t>(v, out);
      break;
    case DType::INT16:
      Dequantize<int16_t>(v, out);
      break;
    case DType::INT32:
      Dequantize<int32_t>(v, out);
      break;
    case DType::INT64:
      Dequantize<int64_t>(v, out);
      break;
    case DType::BOOL:
      Dequantize<uint8_t>(v, out);
      break;
    case DType::FLOAT16:
      for (size_t i = 0; i < out.size(); ++i) out[i] = HalfToFloat(v.as<uint16_t>()[i]);
      break;
  }
}

Expected<Unit> Session::RunSelfTest() {
  if (!has_self_test()) return Error(model_.path() + ": the model carries no self-test");
  current_op_ = -1;
  errors_.Clear();
  const Status s = interpreter_.RunSelfTest();
  if (s != Status::kOk) {
    const char* why = errors_.message()[0] != '\0' ? errors_.message() : StatusName(s);
    return Error(model_.path() + ": " + why);
  }
  return Unit{};
}

}  // namespace outpost::io
